import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS } from '../runtime/publish/protocol.js';
import { connectRequest } from '../runtime/publish/zmq.js';
import { seededRandom } from '../runtime/util/random.js';
import { daemonWithClient, endpoints, tempDir, waitFor, writeConfig } from './helpers/daemon.js';

function malformed(rand: () => number, i: number): (string | Buffer)[] {
  const bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
  const cases: (string | Buffer)[][] = [
    [bytes],
    ['not json'],
    ['[]'],
    ['null'],
    ['{"v":2,"op":"since","after":0}'],
    ['{"v":1,"op":"drop-tables","after":0}'],
    ['{"v":1,"op":"since","after":-1}'],
    ['{"v":1,"op":"since","after":"0"}'],
    ['{"v":1,"op":"since","after":0,"limit":100000}'],
    ['{"v":1,"op":"since","after":1e309}'],
    ['{"v":1,"op":"since","after":0}', 'extra frame'],
    [''],
    [JSON.stringify({ v: 1, op: 'since', after: 0, x: 'y'.repeat(10000) }).slice(0, 5000)],
  ];
  return cases[i % cases.length];
}

t.test('hundreds of malformed history requests get error replies; the daemon keeps serving', async (t) => {
  const dir = tempDir();
  // A journal from an earlier run: what a valid request must still return after the fuzzing.
  mkdirSync(join(dir, 'state'));
  const earlier = [1, 2, 3].map((seq) => ({ v: 1, seq, bootId: 'earlier-run', frameId: 10 * seq, ts: 1_700_000_000_000 + seq, type: seq % 2 ? 'raise' : 'clear', episode: Math.ceil(seq / 2), onsetFrame: 10, score: 0.9, peakScore: 0.95, box: null, areaPx: null }));
  writeFileSync(join(dir, 'state', 'alerts.jsonl'), earlier.map((e) => JSON.stringify(e) + '\n').join(''));
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 200 },
    state: { dir: `${dir}/state` },
  });
  const { daemon, client } = daemonWithClient(t, config, ep);
  await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.status, 60_000, 'daemon up');
  const rand = seededRandom(42);
  let errors = 0;
  const req = connectRequest(ep.historyEndpoint, 5000);
  t.teardown(() => req.close());
  for (let i = 0; i < 300; i++) {
    await req.send(malformed(rand, i));
    const [reply] = await req.receive();
    const r = JSON.parse(reply.toString('utf8'));
    if (r.ok === false && r.error.code === 'PROTOCOL' && r.error.message) errors++;
  }
  t.equal(errors, 300, 'every malformed request got an error reply naming the problem');
  // The test pattern may raise alerts of its own meanwhile: they continue the journal's seq.
  const all = await client.history(0);
  t.same(all.slice(0, 3), earlier, 'a valid request is still answered, starting with the journal');
  t.same(all.map((e) => e.seq), all.map((_, i) => i + 1), 'seq 1, 2, 3… without a gap');
  t.same((await client.history(2)).map((e) => e.seq), all.slice(2).map((e) => e.seq), 'and from a given seq');
  const st = await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.status, 10_000, 'status after the fuzzing');
  t.equal(st.topic, TOPICS.status, 'status keeps flowing');
  t.equal(daemon.proc.exitCode, null, 'the daemon is still running');
});
