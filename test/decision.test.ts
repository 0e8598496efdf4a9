import t from 'tap';
import { DecisionStage, type AlertEvent } from '../runtime/decision/decision.js';
import { seededRandom } from '../runtime/util/random.js';

const settings = { smoothing: 0.5, raiseThreshold: 0.6, raiseFrames: 3, clearThreshold: 0.4, clearFrames: 5 };

/** Scores for a feed with lesion episodes, plus noise that crosses the thresholds now and then. */
function noisyScores(n: number, episodes: [number, number][], seed: number): number[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const inside = episodes.some(([a, b]) => i >= a && i <= b);
    const base = inside ? 0.8 : 0.15;
    return Math.min(1, Math.max(0, base + (rand() - 0.5) * 0.7));
  });
}

t.test('one raise and one clear per episode on a noisy score, no flicker', async (t) => {
  const episodes: [number, number][] = [
    [40, 90],
    [150, 200],
    [260, 275],
  ];
  for (const seed of [1, 2, 3, 4, 5]) {
    const d = new DecisionStage(settings);
    const events: AlertEvent[] = [];
    noisyScores(330, episodes, seed).forEach((score, i) => {
      const e = d.update({ frameId: i, ts: i * 33, score }).event;
      if (e) events.push(e);
    });
    t.same(
      events.map((e) => e.type),
      ['raise', 'clear', 'raise', 'clear', 'raise', 'clear'],
      `seed ${seed}: alternating raise/clear, one pair per episode`,
    );
    episodes.forEach(([a, b], k) => {
      const raise = events[2 * k];
      const clear = events[2 * k + 1];
      t.ok(raise.frameId >= a && raise.frameId <= a + 12, `seed ${seed} episode ${k}: raise at ${raise.frameId}`);
      t.ok(clear.frameId > b && clear.frameId <= b + 15, `seed ${seed} episode ${k}: clear at ${clear.frameId}`);
      t.equal(raise.episode, k + 1);
      t.ok(raise.onsetFrame <= raise.frameId && raise.onsetFrame >= a - 1, 'onset is the start of the raising run');
    });
  }
});

t.test('gated frames neither raise nor clear, and do not move the average', async (t) => {
  const d = new DecisionStage(settings);
  for (let i = 0; i < 5; i++) d.update({ frameId: i, ts: i, score: 0.9 });
  t.ok(d.alertActive, 'raised on a steady high score');
  for (let i = 5; i < 50; i++) t.equal(d.update({ frameId: i, ts: i, score: null }).event, null, 'gated frame changes nothing');
  t.ok(d.alertActive, 'still raised after a long gated stretch');
  const e = d.update({ frameId: 50, ts: 50, score: 0.9 });
  t.equal(e.event, null);
  t.ok((e.smoothed ?? 0) > 0.85, 'the average was not pulled down by gated frames');
  const quiet = new DecisionStage(settings);
  for (let i = 0; i < 20; i++) quiet.update({ frameId: i, ts: i, score: i % 2 ? null : 0.1 });
  t.notOk(quiet.alertActive);
});

t.test('the clear carries the peak score and the last box of the episode', async (t) => {
  const d = new DecisionStage({ ...settings, smoothing: 1 });
  const box = { x: 10, y: 20, width: 30, height: 40 };
  let raise: AlertEvent | null = null;
  for (let i = 0; i < 3; i++) raise = d.update({ frameId: i, ts: i, score: 0.7 + i * 0.1, box, areaPx: 900 }).event ?? raise;
  t.equal(raise?.type, 'raise');
  t.same(raise?.box, box);
  t.equal(raise?.areaPx, 900);
  let clear: AlertEvent | null = null;
  for (let i = 3; i < 9; i++) clear = d.update({ frameId: i, ts: i, score: 0.1 }).event ?? clear;
  t.equal(clear?.type, 'clear');
  t.ok(Math.abs((clear?.peakScore ?? 0) - 0.9) < 1e-9, 'peak score of the episode');
  t.same(clear?.box, box);
});

t.test('thresholds are inclusive for raising, exclusive for clearing; counts are exact', async (t) => {
  // smoothing 1: the smoothed score is the frame's score, so thresholds can be hit exactly.
  const s = { smoothing: 1, raiseThreshold: 0.5, raiseFrames: 3, clearThreshold: 0.25, clearFrames: 2 };
  const d = new DecisionStage(s);
  const feed = (id: number, score: number | null) => d.update({ frameId: id, ts: id * 100, score });
  t.equal(feed(10, 0.5).event, null);
  t.equal(feed(11, 0.5).event, null);
  t.match(
    feed(12, 0.5).event,
    { type: 'raise', episode: 1, onsetFrame: 10, frameId: 12, ts: 1200, score: 0.5, peakScore: 0.5 },
    'at the threshold for raiseFrames frames: raised, onset at the first',
  );
  t.equal(feed(13, 0.25).event, null, 'at the clear threshold is not below it');
  t.equal(feed(14, 0.25).event, null);
  t.equal(feed(15, 0.2).event, null);
  t.match(
    feed(16, 0.1).event,
    { type: 'clear', episode: 1, onsetFrame: 10, frameId: 16, score: 0.1, peakScore: 0.5 },
    'clearFrames frames below: cleared on the second',
  );
  t.equal(d.alertActive, false);
});

t.test('gated frames change nothing: no smoothing step, no run broken or counted', async (t) => {
  const d = new DecisionStage({ smoothing: 0.5, raiseThreshold: 0.6, raiseFrames: 3, clearThreshold: 0.4, clearFrames: 2 });
  t.same(d.update({ frameId: 0, ts: 0, score: null }), { smoothed: null, alert: false, event: null }, 'before any score: nothing smoothed');
  t.same(d.update({ frameId: 1, ts: 0, score: 0.9 }), { smoothed: 0.9, alert: false, event: null }, 'the first score is taken as it is');
  t.same(d.update({ frameId: 2, ts: 0, score: null }), { smoothed: 0.9, alert: false, event: null }, 'a gated frame keeps the smoothed score');
  t.same(d.update({ frameId: 3, ts: 0, score: 0.9 }).event, null, 'the run counts 2, the gated frame not among them');
  const raised = d.update({ frameId: 4, ts: 0, score: 0.9 });
  t.match(raised, { alert: true, event: { type: 'raise', onsetFrame: 1 } }, 'raised on the third scored frame, onset at the first');
  t.same(d.update({ frameId: 5, ts: 0, score: null }), { smoothed: 0.9, alert: true, event: null }, 'gated while raised: still raised');
  // A run broken by a low score starts again, with a new onset.
  const e = new DecisionStage({ smoothing: 1, raiseThreshold: 0.6, raiseFrames: 2, clearThreshold: 0.4, clearFrames: 2 });
  e.update({ frameId: 1, ts: 0, score: 0.9 });
  e.update({ frameId: 2, ts: 0, score: 0.1 });
  e.update({ frameId: 3, ts: 0, score: 0.9 });
  t.match(e.update({ frameId: 4, ts: 0, score: 0.9 }).event, { type: 'raise', onsetFrame: 3 });
});
