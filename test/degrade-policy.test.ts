import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEGRADE_LEVELS, DegradePolicy, type DegradeConfig, type DegradeEvent } from '../runtime/health/degrade-policy.js';

interface Row {
  t: number;
  phase: string;
  tempC: number;
  latencyMsP99: number;
}
const series: Row[] = JSON.parse(
  readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures/health/degrade-series.json'), 'utf8'),
).readings;

const config: DegradeConfig = { tempHighC: 85, tempClearC: 78, latencyHighMs: 120, latencyClearMs: 80, holdSamples: 3 };

/** Every event with the index and phase of the reading that caused it, and the level after each reading. */
function replay(policy: DegradePolicy, rows: Row[]) {
  const events: Array<DegradeEvent & { index: number; phase: string }> = [];
  const levels: number[] = [];
  rows.forEach((row, index) => {
    const event = policy.update(row);
    if (event) events.push({ ...event, index, phase: row.phase });
    levels.push(policy.level);
  });
  return { events, levels };
}

const firstIndex = (phase: string) => series.findIndex((r) => r.phase === phase);

t.test('the recorded series sheds in order and recovers one level at a time', async (t) => {
  const { events, levels } = replay(new DegradePolicy(config), series);
  t.same(
    events.map((e) => [e.from, e.to, e.cause, e.phase]),
    [
      [0, 1, 'temperature', 'hot'],
      [1, 2, 'temperature', 'hot'],
      [2, 3, 'temperature', 'hot'],
      [3, 2, 'clear', 'cool'],
      [2, 1, 'clear', 'cool'],
      [1, 0, 'clear', 'cool'],
      [0, 1, 'latency', 'slow'],
      [1, 2, 'latency', 'slow'],
      [2, 1, 'clear', 'fast'],
      [1, 0, 'clear', 'fast'],
    ],
  );
  // holdSamples consecutive readings before each step, counted from the phase start.
  t.same(
    events.filter((e) => e.phase === 'hot').map((e) => e.index - firstIndex('hot')),
    [2, 5, 8],
    'each escalation waits for 3 hot readings',
  );
  t.same(events.filter((e) => e.phase === 'cool').map((e) => e.index - firstIndex('cool')), [2, 5, 8]);
  t.equal(events[0].toName, 'segmenter every other frame', 'the segmenter is shed first');
  t.equal(events[1].toName, 'classifier at half rate', 'then the classifier');
  t.match(events[0].reason, /^temperature 8\d\.\d °C > 85 °C for 3 readings$/);
  t.match(events[6].reason, /^latency p99 1\d\d(\.\d)? ms > 120 ms for 3 readings$/);
  t.match(events[3].reason, /^temperature 7\d(\.\d)? °C < 78 °C and latency p99 \d+(\.\d)? ms < 80 ms for 3 readings$/);
  t.equal(levels.at(-1), 0, 'back to normal at the end');
  t.ok(Math.max(...levels) === 3 && levels.every((l) => l >= 0 && l <= 3));
});

t.test('noise around a limit does not flap', async (t) => {
  const { events, levels } = replay(new DegradePolicy(config), series);
  for (const phase of ['normal', 'warming', 'noise-at-high', 'cooling', 'noise-at-clear', 'latency-band']) {
    t.notOk(events.some((e) => e.phase === phase), `no change during ${phase}`);
  }
  const at = (phase: string) => [...new Set(levels.filter((_, i) => series[i].phase === phase))];
  t.same(at('noise-at-high'), [0], 'readings hopping over 85 °C never held for 3 in a row');
  t.same(at('cooling'), [3], 'between the clear and high limits the level holds');
  t.same(at('noise-at-clear'), [3], 'readings hopping under 78 °C never held for 3 in a row');
  t.ok(series.filter((r) => r.phase === 'noise-at-high').some((r) => r.tempC > 85), 'the fixture does cross the limit');
  // Without hysteresis (clear == high) and without a hold, the same noise flaps at every reading.
  const naive = replay(new DegradePolicy({ ...config, tempClearC: 84.99, holdSamples: 1 }), series.filter((r) => r.phase === 'noise-at-high'));
  t.ok(naive.events.length >= 10, `a naive policy would change level ${naive.events.length} times`);
});

t.test('rates per level: the segmenter period is a multiple of the classifier period', async (t) => {
  t.same(
    DEGRADE_LEVELS.map((l) => [l.segmenterEvery, l.classifierEvery]),
    [[1, 1], [2, 1], [4, 2], [8, 4]],
  );
  for (const l of DEGRADE_LEVELS) t.equal(l.segmenterEvery % l.classifierEvery, 0, l.name);
  const p = new DegradePolicy({ ...config, holdSamples: 1 });
  t.same([p.segmenterEvery, p.classifierEvery], [1, 1]);
  p.update({ tempC: 90, latencyMsP99: 50 });
  p.update({ tempC: 90, latencyMsP99: 50 });
  t.equal(p.level, 2);
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => p.runsClassifier(i)), [true, false, true, false, true, false, true, false, true]);
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => p.runsSegmenter(i)), [true, false, false, false, true, false, false, false, true]);
});

t.test('maxLevel caps shedding; recoverSamples can be slower than holdSamples', async (t) => {
  const capped = new DegradePolicy({ ...config, holdSamples: 1, maxLevel: 1 });
  for (let i = 0; i < 5; i++) capped.update({ tempC: 95, latencyMsP99: 200 });
  t.equal(capped.level, 1);
  const slowBack = new DegradePolicy({ ...config, holdSamples: 1, recoverSamples: 4 });
  t.match(slowBack.update({ tempC: 95, latencyMsP99: 200 }), { from: 0, to: 1, cause: 'temperature+latency' });
  const back = [1, 2, 3, 4].map(() => slowBack.update({ tempC: 60, latencyMsP99: 40 }));
  t.same(back.map((e) => e?.to ?? null), [null, null, null, 0]);
});

t.test('unknown readings never escalate and do not block recovery', async (t) => {
  const p = new DegradePolicy({ ...config, holdSamples: 2 });
  for (let i = 0; i < 5; i++) t.equal(p.update({ tempC: null, latencyMsP99: null }), null);
  p.update({ tempC: 90, latencyMsP99: null });
  t.match(p.update({ tempC: 90, latencyMsP99: null }), { to: 1 });
  p.update({ tempC: null, latencyMsP99: 40 });
  t.match(p.update({ tempC: null, latencyMsP99: 40 }), { to: 0, reason: /^temperature unknown and latency p99 40 ms < 80 ms/ });
});

t.test('a bad config is refused with CONFIG_INVALID naming the key', async (t) => {
  const bad: Array<[Partial<DegradeConfig>, RegExp]> = [
    [{ tempClearC: 85 }, /health\.degrade\.tempClearC: must be below tempHighC/],
    [{ latencyClearMs: 130 }, /health\.degrade\.latencyClearMs/],
    [{ holdSamples: 0 }, /health\.degrade\.holdSamples/],
    [{ holdSamples: 1.5 }, /health\.degrade\.holdSamples/],
    [{ maxLevel: 4 }, /health\.degrade\.maxLevel/],
    [{ tempHighC: Number.NaN }, /health\.degrade\.tempHighC/],
  ];
  for (const [patch, message] of bad) {
    t.throws(() => new DegradePolicy({ ...config, ...patch }), { code: 'CONFIG_INVALID', message }, JSON.stringify(patch));
  }
  t.ok(Object.isFrozen(new DegradePolicy(config).config));
});
