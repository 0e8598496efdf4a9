import type { Config } from '../config/schema.js';
import { messageOf } from '../errors.js';
import { readAllowList } from '../publish/allow-list.js';
import { keyFileExposure, loadKeyPair } from '../publish/curve-keys.js';
import { ENROL_HELP, publishExposure } from '../publish/exposure.js';
import type { Check } from './checks.js';

/** Who can reach the sockets and how they are protected (docs/security.md). */
export async function securityChecks(config: Readonly<Config>): Promise<Check[]> {
  const p = config.publish;
  const e = publishExposure(p);
  const name = 'publish security';
  if (!p.curve.enabled) {
    if (!e.exposed.length) return [{ name, verdict: 'OK', detail: 'sockets on this machine only (loopback); CURVE off' }];
    if (!e.insecure)
      return [
        {
          name,
          verdict: 'FAIL',
          detail: `${e.exposed.join(', ')} reachable from the network without CURVE: the daemon refuses to start (PUBLISH_INSECURE)`,
          action: ENROL_HELP,
        },
      ];
    return [
      {
        name,
        verdict: 'WARN',
        detail: `publish.insecure: ${e.exposed.join(', ')} publish unencrypted and unauthenticated: anyone on the network receives alerts, overlays and previews`,
        action: ENROL_HELP,
      },
    ];
  }
  const out: Check[] = [];
  try {
    const pair = await loadKeyPair(p.curve.keyFile);
    const loose = await keyFileExposure(p.curve.keyFile);
    out.push(
      loose
        ? { name: 'curve key', verdict: 'WARN', detail: loose, action: `lumen keys ensure --out ${p.curve.keyFile.replace(/\.key$/, '')} --owner lumen` }
        : { name: 'curve key', verdict: 'OK', detail: `${p.curve.keyFile}: public key ${pair.publicKey}` },
    );
  } catch (err) {
    out.push({
      name: 'curve key',
      verdict: 'FAIL',
      detail: messageOf(err),
      action: 'lumen keys ensure --out <prefix> (monitors then need the new public key)',
    });
  }
  try {
    const list = p.curve.allowListFile ? await readAllowList(p.curve.allowListFile) : [];
    const n = list.length + p.curve.allowedClients.length;
    out.push(
      n
        ? {
            name,
            verdict: 'OK',
            detail: `CURVE on; ${n} monitor key(s): ${[...list.map((m) => m.name), ...(p.curve.allowedClients.length ? [`${p.curve.allowedClients.length} from the config`] : [])].join(', ')}`,
          }
        : {
            name,
            verdict: 'WARN',
            detail: 'CURVE on but no monitor is enrolled: nothing can receive',
            action: 'lumen monitors add <monitor>.pub --name <bed>',
          },
    );
  } catch (err) {
    out.push({ name, verdict: 'FAIL', detail: messageOf(err), action: 'fix the named line of the allow-list (lumen monitors list shows it)' });
  }
  return out;
}
