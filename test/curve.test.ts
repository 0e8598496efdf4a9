import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { generateKeyFiles } from '../runtime/publish/curve-keys.js';
import { TOPICS } from '../runtime/publish/protocol.js';
import { curveSupported } from '../runtime/publish/zmq.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, waitFor, writeConfig } from './helpers/daemon.js';

/** Counts status messages a client receives within `ms`. */
async function countStatus(client: LumenClient, ms: number): Promise<number> {
  let n = 0;
  const it = client[Symbol.asyncIterator]();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await Promise.race([it.next(), new Promise<null>((res) => setTimeout(() => res(null), end - Date.now()))]);
    if (!r || r.done) break;
    if (r.value.topic === TOPICS.status) n++;
  }
  return n;
}

t.test('CURVE: a listed monitor key receives; an unlisted key and a plain socket receive nothing', async (t) => {
  t.ok(curveSupported(), 'the installed zeromq has CURVE');
  const dir = tempDir();
  const server = await generateKeyFiles(`${dir}/daemon`);
  const listed = await generateKeyFiles(`${dir}/monitor-a`);
  const unlisted = await generateKeyFiles(`${dir}/monitor-b`);
  // Alerts journalled by an earlier run: what the history endpoint must serve over CURVE.
  mkdirSync(join(dir, 'state'));
  const earlier = [1, 2].map((seq) => ({
    v: 1,
    seq,
    bootId: 'earlier-run',
    frameId: seq,
    ts: 1_700_000_000_000 + seq,
    type: seq === 1 ? 'raise' : 'clear',
    episode: 1,
    onsetFrame: 1,
    score: 0.9,
    peakScore: 0.9,
    box: null,
    areaPx: null,
  }));
  writeFileSync(join(dir, 'state', 'alerts.jsonl'), earlier.map((e) => JSON.stringify(e) + '\n').join(''));
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 200, curve: { enabled: true, keyFile: 'daemon.key', allowedClients: ['monitor-a.pub'] } },
    state: { dir: `${dir}/state` },
  });
  const daemon = lumen(['run', '--config', config]);
  const good = new LumenClient({ ...ep, curve: { serverKey: server.publicKey, ...listed } });
  const bad = new LumenClient({ ...ep, curve: { serverKey: server.publicKey, ...unlisted } });
  const plain = new LumenClient({ ...ep });
  t.teardown(async () => {
    good.close();
    bad.close();
    plain.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });
  const status = await waitFor<LumenMessage>(good, (m) => m.topic === TOPICS.status, 60_000, 'status over CURVE');
  t.equal(status.topic, TOPICS.status, 'the listed key receives status');
  const [nBad, nPlain] = await Promise.all([countStatus(bad, 3000), countStatus(plain, 3000)]);
  t.equal(nBad, 0, 'the unlisted key receives nothing');
  t.equal(nPlain, 0, 'a plain socket receives nothing');
  // The test pattern may raise an alert of its own meanwhile (seq 3): the journal comes first.
  t.same((await good.history(0)).slice(0, 2), earlier, 'the listed key fetches the alert history over CURVE');
  await t.rejects(bad.history(0), 'the unlisted key gets no history either');
  // As a person runs it on a monitor: lumen watch with the daemon's public key and its own pair.
  const watch = lumen(['watch', '-e', ep.endpoint, '--history', ep.historyEndpoint, '--server-key', `${dir}/daemon.pub`, '--key', `${dir}/monitor-a.key`]);
  t.teardown(() => stop(watch));
  const deadline = Date.now() + 30_000;
  while (!/^status /m.test(watch.stdout()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.match(watch.stdout(), /^ALERT RAISE #1 .*\(recovered\)\nALERT CLEAR #2 .*\(recovered\)\n/, 'lumen watch over CURVE shows the journalled alerts');
  t.match(watch.stdout(), /^status (running|degraded) /m, 'and the status line');
  t.match(daemon.stderr(), /CURVE client refused: key not listed/, 'the refusal is logged');
});
