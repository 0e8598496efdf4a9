import t from 'tap';
import { Mailbox } from '../runtime/capture/mailbox.js';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, ROOT, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';
import { writeSlowClassifier } from './helpers/slow-model.js';

t.test('Mailbox keeps only the newest item and counts the rest as dropped', async (t) => {
  const m = new Mailbox<number>();
  for (let i = 1; i <= 5; i++) m.put(i);
  t.equal(await m.take(), 5);
  t.equal(m.dropped, 4);
  const waiting = m.take();
  m.put(6);
  t.equal(await waiting, 6, 'a waiting taker gets the next item directly');
  t.equal(m.dropped, 4);
  m.close();
  t.equal(await m.take(), undefined, 'closed mailbox yields undefined');
});

t.test('Mailbox hands each item it replaces or discards at close to onDrop, and no other', async (t) => {
  const dropped: number[] = [];
  const m = new Mailbox<number>((v) => dropped.push(v));
  m.put(1);
  m.put(2);
  t.equal(await m.take(), 2);
  const waiting = m.take();
  m.put(3);
  t.equal(await waiting, 3, 'an item handed to a waiting taker is not dropped');
  m.put(4);
  m.close();
  t.same(dropped, [1, 4], 'the replaced item and the one left at close');
});

t.test('a model slower than the feed: frames are dropped and frame age stays bounded', async (t) => {
  const dir = tempDir();
  const slow = await writeSlowClassifier(`${dir}/models`);
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 320, height: 240, fps: 30, pattern: 'ball' } },
    // A test pattern is no endoscope picture: classify every frame whole.
    roi: { enabled: false },
    quality: { enabled: false },
    inference: { providers: ['cpu'], classifier: `${dir}/models/${slow.id}`, segmenter: `${ROOT}models/ref-segmenter` },
    publish: { ...ep, statusIntervalMs: 500 },
    state: { dir: `${dir}/state` },
    // The slow model is the point here: the degrade policy must not shed it away.
    health: { degrade: { enabled: false } },
  });
  const client = new LumenClient(ep);
  const daemon = lumen(['run', '--config', config]);
  t.teardown(async () => {
    client.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  const ages: number[] = [];
  let last: StatusHeader | undefined;
  await waitFor<LumenMessage>(
    client,
    (m) => {
      if (m.topic === TOPICS.overlay) ages.push(m.header.latencyMs);
      if (m.topic === TOPICS.status && m.header.state === 'running') last = m.header;
      return ages.length >= 24 && last !== undefined && last.processed >= 24;
    },
    120_000,
    '24 processed frames',
  );
  const st = last!;
  const per = st.latencyMs.classify.p50;
  t.ok(per > 1000 / 30, `the classifier takes ${per} ms per frame, longer than a 30 fps frame interval`);
  t.ok(st.dropped > 0, `frames were dropped (${st.dropped} of ${st.captured} captured)`);
  t.ok(st.captured > st.processed, 'more frames captured than processed');
  const firstHalf = ages.slice(0, 12);
  const secondHalf = ages.slice(-12);
  const max = (a: number[]) => Math.max(...a);
  // A growing queue would make late frames ever older; the mailbox keeps age near one inference.
  t.ok(max(secondHalf) < 4 * per + 500, `frame age stays bounded: max ${max(secondHalf)} ms late vs ${max(firstHalf)} ms early, ${per} ms per inference`);
});
