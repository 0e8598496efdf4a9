import t from 'tap';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type HistoryReply, type StatusHeader } from '../runtime/publish/protocol.js';
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
  const earlier = [1, 2, 3].map((seq) => ({
    v: 1,
    seq,
    bootId: 'earlier-run',
    frameId: 10 * seq,
    ts: 1_700_000_000_000 + seq,
    type: seq % 2 ? 'raise' : 'clear',
    episode: Math.ceil(seq / 2),
    onsetFrame: 10,
    score: 0.9,
    peakScore: 0.95,
    box: null,
    areaPx: null,
  }));
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
    const r = JSON.parse(reply.toString('utf8')) as HistoryReply;
    if (r.ok === false && r.error.code === 'PROTOCOL' && r.error.message) errors++;
  }
  t.equal(errors, 300, 'every malformed request got an error reply naming the problem');
  // The test pattern may raise alerts of its own meanwhile: they continue the journal's seq.
  const all = await client.history(0);
  t.same(all.slice(0, 3), earlier, 'a valid request is still answered, starting with the journal');
  t.same(
    all.map((e) => e.seq),
    all.map((_, i) => i + 1),
    'seq 1, 2, 3… without a gap',
  );
  t.same(
    (await client.history(2)).map((e) => e.seq),
    all.slice(2).map((e) => e.seq),
    'and from a given seq',
  );
  const st = await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.status, 10_000, 'status after the fuzzing');
  t.equal(st.topic, TOPICS.status, 'status keeps flowing');
  t.equal(daemon.proc.exitCode, null, 'the daemon is still running');
});

/** Bytes a port scanner might send: random, some behind a ZMTP 3 signature, some ZMTP 1.0-shaped. */
function scannerBytes(rand: () => number, i: number): Buffer {
  const random = Buffer.from(Array.from({ length: Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256)));
  if (i % 3 === 1) return Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3]), random]);
  if (i % 3 === 2) return Buffer.concat([Buffer.from([1, 0]), random]);
  return random;
}

/** Connects, writes `bytes`, half-closes and waits until the peer closes or `ms` pass. */
function tcpBlast(port: number, bytes: Buffer, ms = 50): Promise<void> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => c.end(bytes));
    const timer = setTimeout(() => c.destroy(), ms);
    c.on('error', () => {});
    c.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

t.test('hundreds of random-byte TCP connections to both endpoints: history still answers, status still flows', async (t) => {
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 200 },
    state: { dir: `${dir}/state` },
  });
  const { daemon, client } = daemonWithClient(t, config, { ...ep, historyTimeoutMs: 3000 });
  await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.status, 60_000, 'daemon up');
  const rand = seededRandom(7);
  const ports = [ep.endpoint, ep.historyEndpoint].map((e) => Number(e.split(':').at(-1)));
  let answeredDuring = 0;
  const connections = 400;
  for (let i = 0; i < connections; i++) {
    await tcpBlast(ports[i % 2], scannerBytes(rand, i));
    // A monitor keeps asking while the scan runs: every request must be answered.
    if (i % 50 === 49 && Array.isArray(await client.history(0))) answeredDuring++;
  }
  t.equal(answeredDuring, connections / 50, 'every valid history request during the scan was answered');
  t.ok(Array.isArray(await client.history(0)), 'a valid history request after the scan is answered');
  // The subscription queued messages while the scan ran: skip to a status sent after it.
  const scanEnd = Date.now();
  const after = await waitFor<LumenMessage>(client, (m) => m.topic === TOPICS.status && m.header.ts > scanEnd, 30_000, 'a status sent after the scan');
  const health = (after.header as StatusHeader).publisher;
  t.ok(health, 'status reports the publish sockets');
  t.equal(health?.history.state, 'ok', 'the history socket is serving');
  t.equal(health?.pub.state, 'ok', 'the PUB socket is serving');
  t.ok((health?.history.ignored ?? 0) > 0, 'scanner bytes reached the history socket and were ignored');
  t.equal(health?.history.failures, 0, 'no scanner connection broke the history socket');
  t.comment(
    `after ${connections} scanner connections: history served ${health?.history.served}, refused ${health?.history.refused}, ignored ${health?.history.ignored}; restarts ${health?.history.restarts}`,
  );
  t.equal(daemon.proc.exitCode, null, 'the daemon is still running');
});
