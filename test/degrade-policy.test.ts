import t from 'tap';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEGRADE_LEVELS, DegradePolicy, type DegradeConfig, type DegradeEvent } from '../runtime/health/degrade-policy.js';
import { DegradeShare } from '../runtime/pipeline/degrade-share.js';
import { parseConfig } from '../runtime/config/load.js';

interface Row {
  t: number;
  phase: string;
  tempC: number;
  latencyMsP99: number;
}
const series = (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures/health/degrade-series.json'), 'utf8')) as { readings: Row[] })
  .readings;

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
  t.same(
    events.filter((e) => e.phase === 'cool').map((e) => e.index - firstIndex('cool')),
    [2, 5, 8],
  );
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
    t.notOk(
      events.some((e) => e.phase === phase),
      `no change during ${phase}`,
    );
  }
  const at = (phase: string) => [...new Set(levels.filter((_, i) => series[i].phase === phase))];
  t.same(at('noise-at-high'), [0], 'readings hopping over 85 °C never held for 3 in a row');
  t.same(at('cooling'), [3], 'between the clear and high limits the level holds');
  t.same(at('noise-at-clear'), [3], 'readings hopping under 78 °C never held for 3 in a row');
  t.ok(
    series.filter((r) => r.phase === 'noise-at-high').some((r) => r.tempC > 85),
    'the fixture does cross the limit',
  );
  // Without hysteresis (clear == high) and without a hold, the same noise flaps at every reading.
  const naive = replay(
    new DegradePolicy({ ...config, tempClearC: 84.99, holdSamples: 1 }),
    series.filter((r) => r.phase === 'noise-at-high'),
  );
  t.ok(naive.events.length >= 10, `a naive policy would change level ${naive.events.length} times`);
});

t.test('rates per level: the segmenter period is a multiple of the classifier period', async (t) => {
  t.same(
    DEGRADE_LEVELS.map((l) => [l.segmenterEvery, l.classifierEvery]),
    [
      [1, 1],
      [2, 1],
      [4, 2],
      [8, 4],
    ],
  );
  for (const l of DEGRADE_LEVELS) t.equal(l.segmenterEvery % l.classifierEvery, 0, l.name);
  const p = new DegradePolicy({ ...config, holdSamples: 1 });
  t.same([p.current.segmenterEvery, p.current.classifierEvery], [1, 1]);
  p.update({ tempC: 90, latencyMsP99: 50 });
  p.update({ tempC: 90, latencyMsP99: 50 });
  t.equal(p.level, 2);
  // The frame path's share at that level: the classifier on every 2nd frame taken, the segmenter on every 4th suspicious frame.
  const share = new DegradeShare();
  share.apply(p.current);
  t.same(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map(() => share.takes()),
    [true, false, true, false, true, false, true, false, true],
  );
  t.equal(share.shed, 4, 'frames not classified are counted as shed');
  t.same(
    [0, 1, 2, 3, 4, 5, 6, 7, 8].map(() => share.segments()),
    [true, false, false, false, true, false, false, false, true],
  );
});

t.test('maxLevel caps shedding; recoverSamples can be slower than holdSamples', async (t) => {
  const capped = new DegradePolicy({ ...config, holdSamples: 1, maxLevel: 1 });
  for (let i = 0; i < 5; i++) capped.update({ tempC: 95, latencyMsP99: 200 });
  t.equal(capped.level, 1);
  const slowBack = new DegradePolicy({ ...config, holdSamples: 1, recoverSamples: 4 });
  t.match(slowBack.update({ tempC: 95, latencyMsP99: 200 }), { from: 0, to: 1, cause: 'temperature+latency' });
  const back = [1, 2, 3, 4].map(() => slowBack.update({ tempC: 60, latencyMsP99: 40 }));
  t.same(
    back.map((e) => e?.to ?? null),
    [null, null, null, 0],
  );
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
  // Validated once, by the config schema at start; the policy trusts what it is given.
  const bad: Array<[Partial<DegradeConfig>, RegExp]> = [
    [{ tempClearC: 85 }, /health\.degrade\.tempClearC: tempClearC must be below tempHighC/],
    [{ latencyClearMs: 130 }, /health\.degrade\.latencyClearMs/],
    [{ holdSamples: 0 }, /health\.degrade\.holdSamples/],
    [{ holdSamples: 1.5 }, /health\.degrade\.holdSamples/],
    [{ maxLevel: 4 }, /health\.degrade\.maxLevel/],
    [{ tempHighC: Number.NaN }, /health\.degrade\.tempHighC/],
  ];
  for (const [patch, message] of bad) {
    t.throws(() => parseConfig({ health: { degrade: { ...config, ...patch } } }), { code: 'CONFIG_INVALID', message }, JSON.stringify(patch));
  }
  t.ok(Object.isFrozen(new DegradePolicy(config).config));
});

t.test('the ladder as documented, and limits: over means above, clear means below', async (t) => {
  t.same(DEGRADE_LEVELS, [
    { level: 0, name: 'normal', segmenterEvery: 1, classifierEvery: 1 },
    { level: 1, name: 'segmenter every other frame', segmenterEvery: 2, classifierEvery: 1 },
    { level: 2, name: 'classifier at half rate', segmenterEvery: 4, classifierEvery: 2 },
    { level: 3, name: 'classifier at quarter rate', segmenterEvery: 8, classifierEvery: 4 },
  ]);
  t.ok(Object.isFrozen(DEGRADE_LEVELS) && DEGRADE_LEVELS.every((l) => Object.isFrozen(l)), 'frozen');
  const p = new DegradePolicy({ ...config, holdSamples: 1 });
  t.equal(p.update({ tempC: 85, latencyMsP99: 120 }), null, 'exactly at both high limits is not over');
  t.match(p.update({ tempC: 85.1, latencyMsP99: 50 }), { to: 1, cause: 'temperature' });
  t.match(p.update({ tempC: 50, latencyMsP99: 120.1 }), { to: 2, cause: 'latency' });
  t.match(p.update({ tempC: 95, latencyMsP99: 200 }), {
    to: 3,
    cause: 'temperature+latency',
    toName: 'classifier at quarter rate',
    reason: 'temperature 95 °C > 85 °C and latency p99 200 ms > 120 ms for 1 readings',
  });
  t.equal(p.update({ tempC: 95, latencyMsP99: 200 }), null, 'no level above the top');
  t.equal(p.update({ tempC: 78, latencyMsP99: 50 }), null, 'exactly at the clear temperature is not clear');
  t.equal(p.update({ tempC: 60, latencyMsP99: 80 }), null, 'exactly at the clear latency is not clear');
  t.match(p.update({ tempC: 77.9, latencyMsP99: null }), {
    from: 3,
    to: 2,
    cause: 'clear',
    reason: 'temperature 77.9 °C < 78 °C and latency unknown for 1 readings',
  });
  t.equal(p.level, 2);
  const q = new DegradePolicy({ ...config, holdSamples: 1 });
  for (let i = 0; i < 3; i++) t.equal(q.update({ tempC: 40, latencyMsP99: 20 }), null, 'clear at level 0 changes nothing');
  t.equal(q.level, 0);
});

t.test('an over-limit streak is broken by any reading that is not over', async (t) => {
  const p = new DegradePolicy({ ...config, holdSamples: 2 });
  p.update({ tempC: 90, latencyMsP99: 50 });
  p.update({ tempC: 80, latencyMsP99: 50 });
  t.equal(p.update({ tempC: 90, latencyMsP99: 50 }), null, 'one in the band restarted the count');
  t.match(p.update({ tempC: 90, latencyMsP99: 50 }), { to: 1 });
  p.update({ tempC: 70, latencyMsP99: 50 });
  p.update({ tempC: 90, latencyMsP99: 50 });
  t.equal(p.update({ tempC: 70, latencyMsP99: 50 }), null, 'one over restarted the clear count');
  t.match(p.update({ tempC: 70, latencyMsP99: 50 }), { to: 0 });
  const capped = new DegradePolicy({ ...config, holdSamples: 1, maxLevel: 0 });
  for (let i = 0; i < 3; i++) t.equal(capped.update({ tempC: 99, latencyMsP99: 500 }), null, 'maxLevel 0 never sheds');
});

t.test('every bad setting is refused with its key and its message', async (t) => {
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ latencyClearMs: 120 }, 'health.degrade.latencyClearMs: latencyClearMs must be below latencyHighMs'],
    [{ tempClearC: 85 }, 'health.degrade.tempClearC: tempClearC must be below tempHighC'],
    [{ latencyHighMs: Number.POSITIVE_INFINITY }, 'health.degrade.latencyHighMs: Invalid input: expected number, received Infinity'],
    [{ tempClearC: Number.NaN }, 'health.degrade.tempClearC: Invalid input: expected number, received NaN'],
    [{ holdSamples: 0 }, 'health.degrade.holdSamples: Too small: expected number to be >=1'],
    [{ recoverSamples: 0 }, 'health.degrade.recoverSamples: unknown key'],
    [{ maxLevel: -1 }, 'health.degrade.maxLevel: Too small: expected number to be >=0'],
    [{ maxLevel: 1.5 }, 'health.degrade.maxLevel: Invalid input: expected int, received number'],
    [{ maxLevel: 4 }, 'health.degrade.maxLevel: Too big: expected number to be <=3'],
  ];
  for (const [patch, problem] of bad) {
    t.throws(
      () => parseConfig({ health: { degrade: { ...config, ...patch } } }),
      { code: 'CONFIG_INVALID', message: `config: ${problem}`, detail: { problems: [problem] } },
      JSON.stringify(patch),
    );
  }
  t.equal(parseConfig({ health: { degrade: { ...config, maxLevel: 0 } } }).health.degrade.maxLevel, 0, 'maxLevel 0 is accepted');
  t.same(new DegradePolicy({ ...config, maxLevel: 0 }).config.maxLevel, 0, 'maxLevel 0 is allowed');
  t.same(new DegradePolicy({ ...config, maxLevel: 3 }).config.maxLevel, 3, 'and 3');
  t.same(new DegradePolicy(config).config, { ...config, recoverSamples: 3, maxLevel: 3 }, 'defaults: recoverSamples = holdSamples, maxLevel 3');
});
