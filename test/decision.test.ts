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
