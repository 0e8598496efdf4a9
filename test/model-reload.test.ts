import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { copyBundle } from './helpers/bundles.js';
import { daemonWithClient, endpoints, tempDir, waitFor, writeConfig } from './helpers/daemon.js';

t.test('a refused bundle never replaces the running one (SIGHUP reload)', async (t) => {
  const dir = tempDir();
  const cls = copyBundle('ref-classifier', dir);
  const seg = copyBundle('ref-segmenter', dir);
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 15 } },
    inference: { providers: ['cpu'], classifier: cls, segmenter: seg },
    publish: { ...ep, statusIntervalMs: 200 },
    state: { dir: `${dir}/state` },
  });
  const { daemon, client } = daemonWithClient(t, config, ep);
  const isStatus = (m: LumenMessage): m is { topic: typeof TOPICS.status; header: StatusHeader } => m.topic === TOPICS.status;
  const before = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.processed > 5, 60_000, 'frames processed')) as { header: StatusHeader };

  const onnx = join(cls, 'model.onnx');
  const good = readFileSync(onnx);
  writeFileSync(onnx, good.subarray(0, good.length - 100)); // a half-copied update
  daemon.proc.kill('SIGHUP');
  const refused = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.modelReload !== undefined, 30_000, 'reload result')) as { header: StatusHeader };
  t.match(refused.header.modelReload, { ok: false, code: 'BUNDLE_HASH' }, 'the reload is refused with its code');
  const after = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.processed > refused.header.processed + 5, 30_000, 'more frames')) as { header: StatusHeader };
  t.ok(after.header.processed > before.header.processed, 'the daemon keeps processing with the running models');
  t.same(after.header.models, before.header.models, 'the same model versions are in use');

  writeFileSync(onnx, good);
  daemon.proc.kill('SIGHUP');
  const ok = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && (m.header.modelReload as { ok?: boolean } | undefined)?.ok === true, 30_000, 'good reload')) as { header: StatusHeader };
  t.equal(ok.header.state, 'running', 'a good bundle is swapped in');
});
