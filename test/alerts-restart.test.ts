import t from 'tap';
import { LumenClient } from '../runtime/client/client.js';
import { collectAlerts } from './helpers/alert-run.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

t.test('SIGKILL between alerts and restart: subscribers see every alert exactly once, in order', async (t) => {
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
  await throughout.waitCount(2, 90_000);
  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  t.same(throughout.alerts.map((a) => a.seq), [1, 2], 'before the kill: seq 1, 2');

  daemon = lumen(['run', '--config', config]);
  // The restarted daemon plays the feed again: two more episodes' worth of alerts continue the seq.
  await throughout.waitCount(6, 120_000);
  clients.push(new LumenClient({ ...ep, catchUpAfter: 0 }));
  const late = collectAlerts(clients[1]);
  await late.waitCount(6, 30_000);
  const seqs = throughout.alerts.slice(0, 6).map((a) => a.seq);
  t.same(seqs, [1, 2, 3, 4, 5, 6], 'the subscriber connected throughout has 1…6, once each, in order');
  t.same(late.alerts.slice(0, 6).map((a) => a.seq), [1, 2, 3, 4, 5, 6], 'the late subscriber has 1…6 from history');
  t.ok(late.recovered >= 4, 'the late subscriber recovered the earlier alerts from history');
  t.same(
    throughout.alerts.slice(0, 6).map((a) => a.type),
    ['raise', 'clear', 'raise', 'clear', 'raise', 'clear'],
    'raise and clear alternate across the restart',
  );
  const s = await stop(daemon);
  t.equal(s.code, 0);
});
