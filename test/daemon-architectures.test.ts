import t from 'tap';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { daemonWithClient, endpoints, ROOT, tempDir, waitFor, writeConfig } from './helpers/daemon.js';

t.test('the daemon runs GAIN-ResNet-50 and CA-U-Net selected in config', async (t) => {
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    // segmentAbove 0: the untrained seeded classifier is never "suspicious", so segment always.
    inference: { providers: ['cpu'], classifier: `${ROOT}models/gain-resnet50`, segmenter: `${ROOT}models/ca-unet`, segmentAbove: 0 },
    publish: { ...ep, statusIntervalMs: 500 },
    state: { dir: `${dir}/state` },
  });
  const { client } = daemonWithClient(t, config, ep);
  const m = (await waitFor<LumenMessage>(
    client,
    (m) => m.topic === TOPICS.status && m.header.processed >= 3 && m.header.latencyMs.segment !== undefined,
    120_000,
    'frames through both models',
  )) as { header: StatusHeader };
  t.same(
    m.header.models.map((x) => x.id),
    ['gain-resnet50', 'ca-unet'],
  );
  t.ok(
    m.header.latencyMs.classify.p50 > 0 && m.header.latencyMs.segment.p50 > 0,
    `classify ${m.header.latencyMs.classify.p50} ms, segment ${m.header.latencyMs.segment.p50} ms per frame`,
  );
});
