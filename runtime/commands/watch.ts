import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { CLIENT_EVENTS, LumenClient } from '../client/client.js';
import { TOPICS } from '../publish/protocol.js';
import { loadKeyPair, loadPublicKey } from '../publish/curve-keys.js';
import type { SocketHealth } from '../publish/health.js';
import { LumenError } from '../errors.js';
import { renderGeometry } from '../overlay/render-geometry.js';
import { encodePng } from '../util/image-codec.js';

export function registerWatch(program: Command): void {
  program
    .command('watch')
    .description('subscribe to a daemon: print alerts and a status line, optionally save overlays')
    .option('-e, --endpoint <endpoint>', 'PUB endpoint of the daemon', 'tcp://127.0.0.1:5555')
    .option('--history <endpoint>', 'history endpoint of the daemon', 'tcp://127.0.0.1:5556')
    .option('--save-overlays <dir>', 'write each overlay as <frameId>.png')
    .option('--server-key <pub>', "the daemon's CURVE public key (Z85 or .pub file)")
    .option('--key <file>', "this monitor's CURVE key pair file (lumen keys generate)")
    .action(async (opts: { endpoint: string; history: string; saveOverlays?: string; serverKey?: string; key?: string }) => {
      if (opts.saveOverlays) await mkdir(opts.saveOverlays, { recursive: true });
      if (Boolean(opts.serverKey) !== Boolean(opts.key)) throw new LumenError('USAGE', 'CURVE needs both --server-key and --key');
      const curve = opts.serverKey && opts.key ? { serverKey: await loadPublicKey(opts.serverKey), ...(await loadKeyPair(opts.key)) } : undefined;
      const client = new LumenClient({ endpoint: opts.endpoint, historyEndpoint: opts.history, catchUpAfter: 0, curve });
      const tty = process.stdout.isTTY;
      process.on('SIGINT', () => client.close());
      process.on('SIGTERM', () => client.close());
      for await (const m of client) {
        if (m.topic === TOPICS.alert) {
          const h = m.header;
          const when = new Date(h.ts).toISOString();
          const box = h.box ? ` box ${h.box.x},${h.box.y} ${h.box.width}×${h.box.height}` : '';
          process.stdout.write(
            `${tty ? '\n' : ''}ALERT ${h.type.toUpperCase()}${h.reason ? ` (${h.reason})` : ''} #${h.seq} episode ${h.episode} frame ${h.frameId} score ${h.score.toFixed(2)} peak ${h.peakScore.toFixed(2)}${box} at ${when}${m.recovered ? ' (recovered)' : ''}\n`,
          );
        } else if (m.topic === TOPICS.status) {
          const h = m.header;
          const lat = h.latencyMs.total ? `${h.latencyMs.total.p50}/${h.latencyMs.total.p99} ms` : '-';
          const sockets = h.publisher
            ? (Object.entries(h.publisher) as [string, SocketHealth][])
                .filter(([, s]) => s.state !== 'ok')
                .map(([k, s]) => ` ${k} socket ${s.state}`)
                .join('')
            : '';
          const line = `status ${h.state} fps ${h.fps} dropped ${h.dropped} latency p50/p99 ${lat} providers ${Object.values(h.providers).join('/')} alert ${h.alert ? 'ON' : 'off'}${sockets}`;
          process.stdout.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
        } else if (m.topic === CLIENT_EVENTS.historyFailed) {
          // Never silent: alerts after #after are held back until the history endpoint answers.
          const h = m.header;
          const span = h.newest !== null && h.newest > h.after ? `alerts #${h.after + 1}–#${h.newest}` : `alerts after #${h.after}`;
          process.stdout.write(
            `${tty ? '\n' : ''}HISTORY UNAVAILABLE ${h.code}: ${span} not delivered yet (${h.message}); attempt ${h.attempt}, retrying in ${(h.retryInMs / 1000).toFixed(1)} s\n`,
          );
        } else if (m.topic === CLIENT_EVENTS.historyRecovered) {
          process.stdout.write(
            `${tty ? '\n' : ''}HISTORY AVAILABLE again after ${m.header.attempts} failed attempt(s), ${(m.header.downMs / 1000).toFixed(1)} s\n`,
          );
        } else if (m.topic === TOPICS.overlay && opts.saveOverlays) {
          // Overlays are geometry: drawn here, as the daemon would, unless it sent a PNG.
          const h = m.header;
          const png =
            m.payload ??
            (await encodePng({
              width: h.width,
              height: h.height,
              data: renderGeometry({ width: h.width, height: h.height, geometry: h.geometry, box: h.box, alert: h.alert }),
            }));
          await writeFile(join(opts.saveOverlays, `${String(h.frameId).padStart(6, '0')}.png`), png);
        }
      }
    });
}
