import t from 'tap';
import { parseConfig } from '../runtime/config/load.js';
import { StatusAssembler, type StatusSources } from '../runtime/daemon/status.js';
import { RollingStats } from '../runtime/daemon/stats.js';
import { DecisionStage } from '../runtime/decision/decision.js';
import { Conditioner } from '../runtime/pipeline/condition.js';
import { DegradeShare } from '../runtime/pipeline/degrade-share.js';
import type { PublisherHealth } from '../runtime/publish/health.js';

const config = parseConfig({});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The two rates of a status header. */
const rates = (h: Readonly<Record<string, unknown>>) => ({ fps: Number(h.fps), captureFps: Number(h.captureFps) });

/** A status assembler over real stages and plain counters the test moves by hand. */
function assembler() {
  const output = { processed: 0, gatedCounts: {} as Record<string, number>, lastFrameId: -1 };
  const counts = { captured: 0, dropped: 0 };
  const share = new DegradeShare();
  const stats = new RollingStats();
  const sources: StatusSources = {
    config,
    stats,
    conditioner: new Conditioner(null),
    decision: new DecisionStage(config.decision),
    share,
    output,
    models: { statusFields: () => ({ providers: { classifier: 'cpu' }, providerAttempts: {}, models: [] }) },
    publisher: { health: () => ({}) as PublisherHealth },
    capture: () => ({ counts, signal: { state: 'live', since: 0, restarts: 0, lastError: null, nextRetryAt: null } }),
    ops: () => null,
    recorder: null,
    state: () => ({ state: 'running', lastError: undefined, frameErrors: 0 }),
  };
  return { status: new StatusAssembler(sources), output, counts, share, stats };
}

t.test('reading status changes nothing: two reads in a row give the same rates', async (t) => {
  const { status, output, counts } = assembler();
  output.processed = 20;
  counts.captured = 40;
  await sleep(200);
  status.tick();
  const first = rates(status.header());
  t.ok(first.fps > 0 && first.captureFps > first.fps, `rates measured over the window (${first.fps} fps, capture ${first.captureFps} fps)`);
  output.processed = 25;
  await sleep(50);
  const second = status.header();
  t.same(rates(second), first, 'a second read gives the same rates');
  t.equal(second.processed, 25, 'counters are read live');
  await sleep(100);
  status.tick();
  const third = rates(status.header());
  t.ok(third.fps > 0 && third.fps < first.fps, `the next tick measures only the frames since the last one (${third.fps} fps)`);
  t.equal(third.captureFps, 0, 'no frame captured since the last tick');
});

t.test('status carries the pipeline counters: frames shed, gated reasons, last frame', async (t) => {
  const { status, output, share, stats } = assembler();
  share.apply({ classifierEvery: 2, segmenterEvery: 4 });
  for (let i = 0; i < 6; i++) share.takes();
  output.gatedCounts.dark = 2;
  output.lastFrameId = 41;
  stats.add('work', 10);
  stats.add('outsideOrt', 4);
  const h = status.header();
  t.equal(h.shed, 3, 'every other frame shed at classifierEvery 2');
  t.same(h.gated, { dark: 2 });
  t.not(h.gated, output.gatedCounts, 'gated is a copy');
  t.equal(h.frameId, 41);
  t.same(h.work, { frameMs: { p50: 10, p99: 10 }, outsideOrtMs: { p50: 4, p99: 4 }, outsideOrtShare: 0.4 });
  t.equal(h.roi, null, 'no ROI before the first frame');
  t.notOk('modelReload' in h, 'no reload result before a reload');
});
