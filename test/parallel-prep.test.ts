import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../runtime/config/load.js';
import type { Frame } from '../runtime/frame.js';
import { createLogger } from '../runtime/log.js';
import { ParallelPrep } from '../runtime/pipeline/parallel-prep.js';
import type { FrameWorkRequest } from '../runtime/pipeline/worker-thread.js';
import { FramePipeline } from '../runtime/pipeline/pipeline.js';
import { openSessions } from '../runtime/pipeline/sessions.js';
import { scaleToFit } from '../runtime/quality/analysis-size.js';
import { findActiveArea } from '../runtime/roi/active-area.js';
import { decodeImage } from '../runtime/util/image-codec.js';
import { SHARED_DATA } from './helpers/daemon.js';
import { WaitBudget } from './helpers/deadline.js';

// The live daemon prepares the models' inputs on a worker thread while the main thread runs the
// quality gate: the same inputs as in line, from the frame where it lies in shared memory, and
// no model run on a frame the gate holds back.

const budget = new WaitBudget(180_000);
const IMAGES = join(SHARED_DATA, 'calibration', 'kvasir-seg', 'images');

/** Real frames at the analysis size, each as the live capture hands it over: in shared memory. */
async function realFrames(n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (const [id, f] of readdirSync(IMAGES).sort().slice(0, n).entries()) {
    const img = await decodeImage(join(IMAGES, f));
    out.push(shared(scaleToFit({ id, ts: 0, ...img, data: new Uint8Array(img.data) }, { width: 960, height: 540 }).frame));
  }
  return out;
}

const shared = (f: Frame): Frame => {
  const data = Buffer.from(new SharedArrayBuffer(f.data.length));
  data.set(f.data);
  return { ...f, data };
};
const copy = (f: Frame): Frame => ({ ...f, data: new Uint8Array(f.data) });

async function models(t: { teardown(fn: () => unknown): void }) {
  const config = parseConfig({}, 'test');
  const sessions = await openSessions(config, createLogger('test', 'error'));
  t.teardown(() => Promise.all(sessions.map((s) => s.close())));
  return { config, sessions };
}

t.test('the worker prepares each model’s input exactly as in line, on real frames', async (t) => {
  const { sessions } = await models(t);
  const prep = new ParallelPrep();
  t.teardown(() => prep.close());
  const frames = await realFrames(8);
  t.equal(frames.length, 8, 'eight real lesion frames');
  for (const f of frames) {
    const roi = findActiveArea(f).rect;
    const ready = await budget.within(prep.start(f, roi, sessions)!.settled, 30_000, `the inputs of frame ${f.id}`);
    for (const s of sessions) {
      const got = Float32Array.from(s.load(ready.get(s)!));
      const want = s.prepare(copy(f), roi);
      t.ok(got.length === want.length && got.every((v, i) => Object.is(v, want[i])), `frame ${f.id}, ${s.manifest.id}: ${got.length} values, each the same`);
    }
  }
  t.equal(prep.start(copy(frames[0]), findActiveArea(frames[0]).rect, sessions), null, 'a frame outside shared memory is prepared in line');
});

t.test('a job taken back before the worker begins it is left alone by the worker, and prepared in line', async (t) => {
  const { config, sessions } = await models(t);
  const prep = new ParallelPrep();
  t.teardown(() => prep.close());
  const frames = await realFrames(4);
  const inline = new FramePipeline(config, sessions);
  // Warm: the worker runs and has answered once.
  await budget.within(prep.start(frames[0], findActiveArea(frames[0]).rect, sessions)!.settled, 30_000, 'a first job');
  // The worker kept busy by detections on a large frame (requests run in order; ~20 ms each), so
  // that a job offered after them, and taken back at once, cannot have been begun: four of them,
  // as one alone left a window a loaded machine's scheduler could fall into.
  const calls = (prep as unknown as { calls: { call(req: FrameWorkRequest): Promise<unknown> } }).calls;
  const large = shared({ id: 99, ts: 0, width: 1920, height: 1080, data: new Uint8Array(1920 * 1080 * 4).fill(128) });
  const busy = () => calls.call({ kind: 'detect', frame: { id: 99, width: 1920, height: 1080, pixels: large.data.buffer as SharedArrayBuffer, offset: 0 } });
  for (const f of frames) {
    const crop = findActiveArea(f).rect;
    const detection = Promise.all([busy(), busy(), busy(), busy()]);
    const job = prep.start(f, crop, sessions)!;
    const now = await job.take();
    await budget.within(detection, 30_000, 'the detection keeping the worker busy');
    const worker = await budget.within(job.settled, 30_000, `the worker's answer for frame ${f.id}`);
    t.equal(now.size, 0, `frame ${f.id}: taken back, nothing from the worker`);
    t.equal(worker.size, 0, `frame ${f.id}: and the worker did not prepare it either`);
  }
  // A job left on offer is the worker's: take() then waits for its inputs.
  const f = frames[1];
  const job = prep.start(f, findActiveArea(f).rect, sessions)!;
  const worker = await budget.within(job.settled, 30_000, 'the worker’s inputs');
  t.equal(worker.size, sessions.length, 'a job left on offer is prepared by the worker');
  t.equal(await job.take(), worker, 'and take() then gives the worker’s inputs');
  // Through the pipeline, whichever way each job goes, the frames score as in line.
  const parallel = new FramePipeline(config, sessions, undefined, { prep });
  for (const g of frames) {
    const want = await inline.step(copy(g));
    const got = await parallel.step(g);
    t.equal(got.score, want.score, `frame ${g.id} scores ${want.score?.toFixed(3)} as in line`);
  }
});

t.test('the pipeline with preprocessing on the worker: a good frame scores as in line, a gated one runs no model', async (t) => {
  const { config, sessions } = await models(t);
  const prep = new ParallelPrep();
  t.teardown(() => prep.close());
  const [good] = await realFrames(1);
  const parallel = new FramePipeline(config, sessions, undefined, { prep });
  const inline = new FramePipeline(config, sessions);
  const b = await inline.step(copy(good));
  const a = await parallel.step(good);
  t.type(a.timings.prepWait, 'number', 'its inputs were offered to the worker');
  t.equal(a.gated, null, 'the real frame passes the gate');
  t.equal(a.score, b.score, `and scores ${a.score?.toFixed(3)} as in line`);
  t.same(a.box, b.box, 'with the same lesion box');
  // The same picture with the lamp off.
  const dark = shared({ ...good, id: 1, data: good.data.map((v, i) => (i % 4 === 3 ? 255 : v >> 4)) });
  const d = await parallel.step(dark);
  t.match(d.gated, /dark/, `the dark frame is gated (${d.gated})`);
  t.equal(d.score, null, 'with no score');
  t.equal(d.timings.classify, undefined, 'and no model ran on it');
});

t.test('a worker lost mid-frame: that frame and the next are prepared in line, and the loss is said once', async (t) => {
  const { config, sessions } = await models(t);
  const failures: string[] = [];
  const prep = new ParallelPrep((why) => failures.push(why));
  t.teardown(() => prep.close());
  const [f, g] = await realFrames(2);
  const inline = new FramePipeline(config, sessions);
  const expected = [await inline.step(copy(f)), await inline.step(copy(g))];
  const pipeline = new FramePipeline(config, sessions, undefined, { prep });
  await (prep as unknown as { calls: { worker: { terminate(): Promise<number> } } }).calls.worker.terminate();
  const got = [await pipeline.step(f), await pipeline.step(g)];
  t.same(
    got.map((p) => p.score),
    expected.map((p) => p.score),
    'both frames score as in line',
  );
  t.equal(failures.length, 1, 'the loss is reported once');
  t.match(failures[0], /preprocessing worker/, 'naming the worker');
  t.equal(prep.start(g, findActiveArea(g).rect, sessions), null, 'later frames go in line at once');
});
