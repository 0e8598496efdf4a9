import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { copyBundle, readManifest, writeManifest } from './helpers/bundles.js';
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
    // A loaded test machine must not turn "running" into "degraded" under this test.
    health: { degrade: { enabled: false } },
  });
  const { daemon, client } = daemonWithClient(t, config, ep);
  const isStatus = (m: LumenMessage): m is { topic: typeof TOPICS.status; header: StatusHeader } => m.topic === TOPICS.status;
  const before = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.processed > 5, 60_000, 'frames processed')) as { header: StatusHeader };

  const running = readManifest(cls);
  const clsModel = (h: StatusHeader) => h.models.find((m) => m.id === running.id);
  t.equal(clsModel(before.header)?.version, running.version, 'the daemon reports the version on disk at start');
  // An update on disk: a new version whose ONNX file is only half copied.
  const bumped = `${running.version}+reload`;
  writeManifest(cls, { ...running, version: bumped });
  const onnx = join(cls, 'model.onnx');
  const good = readFileSync(onnx);
  writeFileSync(onnx, good.subarray(0, good.length - 100));
  daemon.proc.kill('SIGHUP');
  const refused = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.modelReload !== undefined, 30_000, 'reload result')) as {
    header: StatusHeader;
  };
  t.match(refused.header.modelReload, { ok: false, code: 'BUNDLE_HASH' }, 'the reload is refused with its code');
  const after = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.processed > refused.header.processed + 5, 30_000, 'more frames')) as {
    header: StatusHeader;
  };
  t.ok(after.header.processed > before.header.processed, 'the daemon keeps processing with the running models');
  t.same(after.header.models, before.header.models, 'the same model versions are in use');
  t.equal(clsModel(after.header)?.version, running.version, `the running classifier is still ${running.version}, not ${bumped} from disk`);

  // The copy completes: the same new version, now whole.
  writeFileSync(onnx, good);
  daemon.proc.kill('SIGHUP');
  const ok = (await waitFor<LumenMessage>(client, (m) => isStatus(m) && m.header.modelReload?.ok === true, 30_000, 'good reload')) as { header: StatusHeader };
  t.equal(ok.header.state, 'running', 'the daemon keeps running through the reload');
  const swapped = (await waitFor<LumenMessage>(
    client,
    (m) => isStatus(m) && clsModel(m.header)?.version === bumped,
    30_000,
    `status reporting classifier ${bumped}`,
  )) as { header: StatusHeader };
  t.equal(clsModel(swapped.header)?.version, bumped, 'the new version is the one running');
  const later = (await waitFor<LumenMessage>(
    client,
    (m) => isStatus(m) && m.header.processed > swapped.header.processed + 5,
    30_000,
    'frames on the new model',
  )) as { header: StatusHeader };
  t.equal(clsModel(later.header)?.version, bumped, 'and frames keep flowing on it');
  t.equal(later.header.state, 'running');
});
