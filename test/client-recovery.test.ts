import t from 'tap';
import { LumenClient, type LumenMessage } from '../runtime/client/client.js';
import { TOPICS, type StatusHeader } from '../runtime/publish/protocol.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { WaitBudget } from './helpers/deadline.js';

t.test('a lost last alert is recovered through status alertSeq; lumen watch prints each alert once', async (t) => {
  const budget = new WaitBudget(180_000);
  const dir = tempDir();
  const ep = await endpoints();
  // The test pattern scores high with the reference models: an alert is raised within seconds
  // and stays raised, so no later alert reveals a gap in seq — only status.alertSeq does.
  const config = writeConfig(dir, {
    capture: { pipeline: 'test-source', params: { width: 160, height: 120, fps: 10 } },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 200 },
    state: { dir: `${dir}/state` },
    health: { degrade: { enabled: false } },
  });
  // This client never receives an alert live (it subscribes to status only), as if the one
  // alert had been dropped on the way.
  const lossy = new LumenClient({ ...ep, topics: [TOPICS.status], catchUpAfter: 0 });
  const plain = new LumenClient({ ...ep, topics: [TOPICS.alert, TOPICS.status] });
  const early = lumen(['watch', '-e', ep.endpoint, '--history', ep.historyEndpoint]);
  const daemon = lumen(['run', '--config', config]);
  const children = [early];
  t.teardown(async () => {
    lossy.close();
    plain.close();
    for (const c of children) await stop(c);
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  const it = lossy[Symbol.asyncIterator]();
  const before: StatusHeader[] = [];
  let recovered: LumenMessage | undefined;
  while (!recovered) {
    const r = await budget.within(it.next(), 150_000, `the lossy client to deliver an alert (after ${before.length} statuses)`);
    if (r.done) break;
    if (r.value.topic === TOPICS.alert) recovered = r.value;
    else if (r.value.topic === TOPICS.status) before.push(r.value.header);
  }
  // Statuses came first, before the alert existed: the alert was not part of the catch-up at
  // start. Status never waits for history, so the status that announced the alert (alertSeq 1)
  // may be delivered a moment before the alert it made the client fetch.
  const announced = before.findIndex((h) => h.alertSeq === 1);
  t.ok(before.length > 0 && before[0].alertSeq === 0, `${before.length} statuses came first, the first with alertSeq 0`);
  t.ok(
    before.every((h) => h.alertSeq === 0 || h.alertSeq === 1),
    'no status announced anything but alert 1',
  );
  t.ok(
    announced === -1 || before.length - announced <= 10,
    `the alert came within a few statuses of its announcement (${announced === -1 ? 0 : before.length - announced})`,
  );
  t.match(recovered, { topic: TOPICS.alert, recovered: true, header: { seq: 1, type: 'raise' } }, 'the client fetched alert 1 from history');
  const next = await budget.within(it.next(), 10_000, 'the status after the alert');
  t.match(next.value, { topic: TOPICS.status, header: { alertSeq: 1 } }, 'the next status still announces alert 1 and nothing newer');
  const history = await plain.history(0);
  t.same((recovered as { header: unknown } | undefined)?.header, history[0], 'the recovered alert is the journalled one');

  // A watcher started now catches up from history; the early one got it live (or recovered).
  const late = lumen(['watch', '-e', ep.endpoint, '--history', ep.historyEndpoint]);
  children.push(late);
  const statusLines = (c: typeof late) => (c.stdout().match(/^status /gm) ?? []).length;
  const until = async (what: string, ok: () => boolean) => {
    await budget.within(
      (async () => {
        while (!ok()) await new Promise((r) => setTimeout(r, 100));
      })(),
      30_000,
      what,
    );
  };
  // Twenty status lines after the alert line: time for any second copy (live, history, alertSeq) to show.
  for (const [name, c] of [
    ['early', early],
    ['late', late],
  ] as const) {
    await until(`lumen watch (${name}) to print alert #1`, () => /^ALERT RAISE #1 /m.test(c.stdout()));
    const after = statusLines(c);
    await until(`lumen watch (${name}) to print 20 more status lines`, () => statusLines(c) >= after + 20);
    const alerts = c.stdout().match(/^ALERT .*$/gm) ?? [];
    t.same(alerts.filter((l) => / #1 /.test(l)).length, 1, `${name} watcher printed alert #1 once: ${alerts.join(' | ')}`);
    const seqs = alerts.map((l) => Number(/#(\d+)/.exec(l)![1]));
    t.same(
      seqs,
      [...new Set(seqs)].sort((a, b) => a - b),
      `${name} watcher: each alert once, in order`,
    );
  }
  t.match(late.stdout(), /^ALERT RAISE #1 .*\(recovered\)$/m, 'the late watcher marks it recovered');
});
