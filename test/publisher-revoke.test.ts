import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LumenClient } from '../runtime/client/client.js';
import { MonitorAllowList, writeAllowList } from '../runtime/publish/allow-list.js';
import { generateKeyFiles } from '../runtime/publish/curve-keys.js';
import { AlertJournal } from '../runtime/publish/journal.js';
import { LumenPublisher } from '../runtime/publish/publisher.js';
import { endpoints, tempDir } from './helpers/daemon.js';

t.test('history keeps answering a listed monitor while removals drop connections again and again', async (t) => {
  const dir = tempDir();
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(...chunk.toString().trim().split('\n')), done()) }));
  const server = await generateKeyFiles(`${dir}/daemon`);
  const a = await generateKeyFiles(`${dir}/bed-a`);
  const b = await generateKeyFiles(`${dir}/bed-b`);
  const file = `${dir}/monitors.list`;
  await writeAllowList(file, [{ name: 'bed-a', key: a.publicKey }]);
  const clients = await MonitorAllowList.open({ file, staticKeys: [], log });
  const journal = await AlertJournal.open({ dir: `${dir}/state`, maxBytes: 1 << 20 }, log);
  const ep = await endpoints();
  const pub = await LumenPublisher.open({ ...ep, sendHighWaterMark: 100, curve: { secretKey: server.secretKey, clients } }, journal, log);
  t.teardown(async () => {
    await pub.close();
    await journal.close();
  });
  for (let i = 0; i < 3; i++)
    await pub.alert({
      type: i % 2 ? 'clear' : 'raise',
      episode: 1,
      onsetFrame: 1,
      score: 0.9,
      peakScore: 0.9,
      box: null,
      areaPx: null,
      frameId: i,
      ts: Date.now(),
    });
  const client = new LumenClient({ ...ep, historyTimeoutMs: 1000, curve: { serverKey: server.publicKey, ...a } });
  t.teardown(() => client.close());
  t.equal((await client.history(0)).length, 3, 'history answers before');

  // A monitor hammering history while bed-b is enrolled and removed 20 times (each removal drops every connection).
  let stop = false;
  let answered = 0;
  let failed = 0;
  const hammer = (async () => {
    while (!stop)
      await client.history(0).then(
        () => answered++,
        () => failed++,
      );
  })();
  for (let i = 0; i < 20; i++) {
    await writeAllowList(file, [
      { name: 'bed-a', key: a.publicKey },
      { name: 'bed-b', key: b.publicKey },
    ]);
    await clients.reload();
    await writeAllowList(file, [{ name: 'bed-a', key: a.publicKey }]);
    await clients.reload();
    await new Promise((r) => setTimeout(r, 50));
  }
  stop = true;
  await hammer;
  const drops = lines.filter((l) => l.includes('connections dropped')).length;
  t.equal(drops, 20, 'each removal dropped the connections');
  t.notOk(
    lines.some((l) => l.includes('history socket stopped') || l.includes('could not drop')),
    'the history loop never stopped',
  );
  t.equal((await client.history(0)).length, 3, 'history answers after');
  t.ok(answered > 0, `answered ${answered} requests during the removals (${failed} timed out while their connection was dropped)`);
});
