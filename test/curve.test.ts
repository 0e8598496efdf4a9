import t from 'tap';
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
    if ((r.value as LumenMessage).topic === TOPICS.status) n++;
  }
  return n;
}

t.test('CURVE: a listed monitor key receives; an unlisted key and a plain socket receive nothing', async (t) => {
  t.ok(curveSupported(), 'the installed zeromq has CURVE');
  const dir = tempDir();
  const server = await generateKeyFiles(`${dir}/daemon`);
  const listed = await generateKeyFiles(`${dir}/monitor-a`);
  const unlisted = await generateKeyFiles(`${dir}/monitor-b`);
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
  await t.rejects(bad.history(0), 'the unlisted key gets no history either');
  t.match(daemon.stderr(), /CURVE client refused: key not listed/, 'the refusal is logged');
});
