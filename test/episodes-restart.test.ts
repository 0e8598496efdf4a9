import t from 'tap';
import { LumenClient } from '../runtime/client/client.js';
import { resumeEpisodes } from '../runtime/decision/episodes.js';
import type { AlertHeader } from '../runtime/publish/protocol.js';
import { collectAlerts } from './helpers/alert-run.js';
import { endpoints, logOnFailure, lumen, stop, tempDir, writeConfig } from './helpers/daemon.js';
import { shortDemoFeed } from './helpers/feeds.js';

const alert = (type: 'raise' | 'clear', episode: number): AlertHeader => ({
  v: 1,
  seq: 9,
  bootId: 'b',
  frameId: 40,
  ts: 1000,
  type,
  episode,
  onsetFrame: 37,
  score: 0.8,
  peakScore: 0.9,
  box: { x: 1, y: 2, width: 3, height: 4 },
  areaPx: 12,
});

t.test('resuming from the journal: an open raise gets a restart clear; numbering continues', async (t) => {
  t.same(resumeEpisodes(undefined, 5), { lastEpisode: 0, clear: null }, 'empty journal: nothing to do');
  t.same(resumeEpisodes(alert('clear', 4), 5), { lastEpisode: 4, clear: null }, 'closed episode: numbering continues');
  const r = resumeEpisodes(alert('raise', 7), 5000);
  t.equal(r.lastEpisode, 7);
  t.match(r.clear, {
    type: 'clear',
    reason: 'restart',
    episode: 7,
    onsetFrame: 37,
    frameId: -1,
    ts: 5000,
    peakScore: 0.9,
    box: { x: 1, y: 2, width: 3, height: 4 },
  });
});

t.test('SIGKILL mid-episode: after the restart subscribers see a clear with reason restart, and episode numbers continue', async (t) => {
  const feed = await shortDemoFeed();
  const dir = tempDir();
  const ep = await endpoints();
  const config = writeConfig(dir, {
    capture: { pipeline: 'file-replay', params: { location: feed.video }, loop: true },
    inference: { providers: ['cpu'] },
    publish: { ...ep, statusIntervalMs: 250 },
    state: { dir: `${dir}/state` },
  });
  const client = new LumenClient({ ...ep, catchUpAfter: 0 });
  const seen = collectAlerts(client);
  let daemon = lumen(['run', '--config', config]);
  let late: LumenClient | undefined;
  t.teardown(async () => {
    client.close();
    late?.close();
    logOnFailure(t, daemon);
    await stop(daemon);
  });

  // Kill the daemon as soon as the first raise arrives: the episode is still open.
  await seen.waitCount(1, 90_000);
  daemon.proc.kill('SIGKILL');
  await daemon.exited;
  t.match(seen.alerts[0], { seq: 1, type: 'raise', episode: 1 }, 'before the kill: episode 1 raised');
  t.equal(seen.alerts.length, 1, 'and not cleared before the kill');

  daemon = lumen(['run', '--config', config]);
  await seen.waitCount(3, 120_000);
  t.match(seen.alerts[1], { seq: 2, type: 'clear', reason: 'restart', episode: 1, frameId: -1 }, 'the restarted daemon clears episode 1 with reason restart');
  t.not(seen.alerts[1].bootId, seen.alerts[0].bootId, 'the clear comes from the new run');
  t.match(seen.alerts[2], { seq: 3, type: 'raise', episode: 2 }, 'the next raise is episode 2, not 1 again');

  // A monitor that joins later reads the same story from history.
  late = new LumenClient({ ...ep, catchUpAfter: 0 });
  const fromHistory = collectAlerts(late);
  await fromHistory.waitCount(3, 30_000);
  t.same(
    fromHistory.alerts.slice(0, 3).map((a) => [a.seq, a.type, a.episode, a.reason ?? null]),
    [
      [1, 'raise', 1, null],
      [2, 'clear', 1, 'restart'],
      [3, 'raise', 2, null],
    ],
    'a late subscriber gets the same raise, restart clear and continued numbering',
  );
});
