import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS } from '../runtime/publish/protocol.js';
import { bindPublisher } from '../runtime/publish/zmq.js';
import { endpoints } from './helpers/daemon.js';

const base = (seq: number) => ({ v: 1, seq, frameId: seq, ts: Date.now(), bootId: 'b' });
const json = (o: object) => JSON.stringify(o);
const geometry = { contours: [], attention: null, mask: null };

t.test('the client trusts a topic only as the topic table describes it: bad messages are counted, good ones delivered', async (t) => {
  const { endpoint } = await endpoints();
  const pub = await bindPublisher(endpoint, 1000);
  const client = new LumenClient({ endpoint, topics: ['lumen.'] });
  t.teardown(() => {
    client.close();
    pub.close();
  });
  const got: LumenMessage[] = [];
  const done = (async () => {
    for await (const m of client) {
      got.push(m);
      if (m.topic === TOPICS.status && m.header.frameId === -2) return;
    }
  })();
  // A PUB socket drops what it sends before the subscription arrives: send until one gets through.
  while (got.length === 0) {
    await pub.send([TOPICS.status, json({ ...base(0), frameId: -1 })]);
    await new Promise((r) => setTimeout(r, 50));
  }
  const png = Buffer.from('png');
  const jpeg = Buffer.from('jpeg');
  const batch: (string | Buffer)[][] = [
    [TOPICS.overlay, json({ ...base(1), format: 'geometry' })], // bad: no geometry
    [TOPICS.overlay, json({ ...base(2), format: 'png', geometry })], // bad: png promised, none sent
    [TOPICS.overlay, json({ ...base(3), format: 'geometry', geometry })],
    [TOPICS.overlay, json({ ...base(4), format: 'png', geometry }), png],
    [TOPICS.frame, json({ ...base(5), format: 'jpeg' })], // bad: no JPEG
    [TOPICS.frame, json({ ...base(6), format: 'jpeg' }), jpeg],
    [TOPICS.clip, json({ ...base(7), clip: { path: 'x' } })], // bad: no id
    [TOPICS.clip, json({ ...base(8), clip: { id: 'clip-1' } })],
    ['lumen.nope', json(base(9))], // bad: unknown topic
    [TOPICS.alert, json({ ...base(10), v: 2 })], // bad: another version
    [TOPICS.alert, 'not json'], // bad
    [TOPICS.alert, json({ ...base(11), type: 'raise' })],
    [TOPICS.status, json({ ...base(12), frameId: -2 })],
  ];
  for (const frames of batch) await pub.send(frames);
  await done;
  t.equal(client.malformed, 7, 'each bad message is counted and skipped');
  const seqs = got.filter((m) => m.header && 'seq' in m.header && m.header.seq > 0).map((m) => ('seq' in m.header ? m.header.seq : -1));
  t.same(seqs, [3, 4, 6, 8, 11, 12], 'the good ones are delivered, in order');
  const bySeq = (seq: number) => got.find((m) => 'seq' in m.header && m.header.seq === seq);
  const geo = bySeq(3);
  t.equal(geo?.topic === TOPICS.overlay && geo.payload, null, 'a geometry overlay has a null payload');
  const withPng = bySeq(4);
  t.same(withPng?.topic === TOPICS.overlay && withPng.payload, png, 'a png overlay carries its PNG');
  const frame = bySeq(6);
  t.same(frame?.topic === TOPICS.frame && frame.payload, jpeg, 'a preview carries its JPEG');
  const clip = bySeq(8);
  t.notOk(clip && 'payload' in clip, 'a clip has no payload field');
  const alert = bySeq(11);
  t.equal(alert?.topic === TOPICS.alert && alert.recovered, false, 'a live alert is not recovered');
});
