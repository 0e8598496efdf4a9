import t from 'tap';
import { LumenClient } from '../runtime/client/client.js';
import { collectAlerts } from './helpers/alert-run.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { WaitBudget } from './helpers/deadline.js';
import { shortDemoFeed } from './helpers/feeds.js';

t.test('SIGKILL between alerts and restart: subscribers see every alert exactly once, in order', async (t) => {
  // Every wait below draws on one budget that ends well inside tap's 240 s for the file.
  const budget = new WaitBudget(200_000);
  const feed = await shortDemoFeed();
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: `${dir}/state` },
  });
  const clients: LumenClient[] = [new LumenClient({ ...ep, catchUpAfter: 0 })];
  const throughout = collectAlerts(clients[0]);
  let daemon = lumen(['run', '--config', config]);
  t.teardown(async () => {
    for (const c of clients) c.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  // First episode: raise and clear; kill the daemon right after the clear.
  await throughout.waitCount(2, budget.ms(90_000), 'the first raise and clear before the kill');
  daemon.proc.kill('SIGKILL');
  await budget.within(daemon.exited, 10_000, 'the killed daemon to exit');
  t.same(
    throughout.alerts.map((a) => a.seq),
    [1, 2],
    'before the kill: seq 1, 2',
  );

  daemon = lumen(['run', '--config', config]);
  // The restarted daemon plays the feed again: two more episodes' worth of alerts continue the seq.
  await throughout.waitCount(6, budget.ms(120_000), 'alerts 3–6 from the restarted daemon');
  clients.push(new LumenClient({ ...ep, catchUpAfter: 0 }));
  const late = collectAlerts(clients[1]);
  await late.waitCount(6, budget.ms(30_000), 'the late subscriber to catch up on alerts 1–6');
  const seqs = throughout.alerts.slice(0, 6).map((a) => a.seq);
  t.same(seqs, [1, 2, 3, 4, 5, 6], 'the subscriber connected throughout has 1…6, once each, in order');
  t.same(
    late.alerts.slice(0, 6).map((a) => a.seq),
    [1, 2, 3, 4, 5, 6],
    'the late subscriber has 1…6 from history',
  );
  // It connected after alert 6 was published: all six can only have come from history.
  t.same(late.recoveredSeqs.slice(0, 6), [1, 2, 3, 4, 5, 6], 'the late subscriber recovered all six earlier alerts from history');
  t.same(
    throughout.alerts.slice(0, 6).map((a) => a.type),
    ['raise', 'clear', 'raise', 'clear', 'raise', 'clear'],
    'raise and clear alternate across the restart',
  );
  const s = await stop(daemon);
  t.equal(s.code, 0);
});
