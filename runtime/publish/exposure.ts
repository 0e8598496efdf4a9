/**
 * Who can reach the daemon's sockets, judged from the configured endpoints. Only what is surely
 * local counts as local: a loopback address (127.0.0.0/8, ::1, localhost), ipc:// and inproc://.
 * Everything else (0.0.0.0, *, a LAN address, a host name, an interface name such as eth0 or even
 * lo, whose address the daemon does not check) is treated as reachable from the network.
 */
import { LumenError } from '../errors.js';

export function isLocalEndpoint(endpoint: string): boolean {
  if (endpoint.startsWith('ipc://') || endpoint.startsWith('inproc://')) return true;
  const m = /^tcp:\/\/(.+):([^:\]]+)$/.exec(endpoint);
  if (!m) return false;
  // zmq accepts "src;dst" only for connect; a bind host is the part before any ';'.
  let host = m[1].split(';')[0];
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export interface PublishExposure {
  /** Endpoints reachable from the network. */
  exposed: string[];
  curve: boolean;
  insecure: boolean;
}

/** What the publish section exposes, and how. */
export function publishExposure(p: { endpoint: string; historyEndpoint: string; insecure: boolean; curve: { enabled: boolean } }): PublishExposure {
  return { exposed: [p.endpoint, p.historyEndpoint].filter((e) => !isLocalEndpoint(e)), curve: p.curve.enabled, insecure: p.insecure };
}

/** The lines a technician needs to turn CURVE on; shared by the start refusal and doctor. */
export const ENROL_HELP =
  'to secure it: `lumen keys ensure --out /etc/lumen/keys/daemon`, set publish.curve { enabled: true, keyFile: /etc/lumen/keys/daemon.key, allowListFile: /etc/lumen/monitors.list }, ' +
  'then enrol each monitor with `lumen monitors add <monitor>.pub --name <bed>` (its .pub comes from `lumen keys generate` on the monitor); ' +
  'or set publish.insecure: true to accept an unencrypted, unauthenticated feed on purpose';

/** Refuses (PUBLISH_INSECURE) a network-reachable endpoint without CURVE unless insecure is set. */
export function assertExposureAllowed(e: PublishExposure): void {
  if (e.exposed.length && !e.curve && !e.insecure) {
    throw new LumenError(
      'PUBLISH_INSECURE',
      `${e.exposed.join(' and ')} would be reachable from the network without encryption or authentication (publish.curve is off); ${ENROL_HELP}`,
      {
        exposed: e.exposed,
      },
    );
  }
}
