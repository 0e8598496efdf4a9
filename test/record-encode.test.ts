import { statSync } from 'node:fs';
import t from 'tap';
import { pipelineCounts } from '../runtime/capture/gst.js';
import { createLogger } from '../runtime/log.js';
import { Catalogue, type RecordingInfo } from '../runtime/record/catalogue.js';
import { FramePool } from '../runtime/capture/frame-pool.js';
import { Encoder, type EncodedUnit } from '../runtime/record/encoder.js';
import { PROFILES } from '../runtime/record/profiles.js';
import type { FrameDecision } from '../runtime/record/sidecar.js';
import { RecordingWriter } from '../runtime/record/writer.js';
import { loadAnnotations } from '../runtime/annotations.js';
import type { Frame } from '../runtime/frame.js';
import { tempDir } from './helpers/daemon.js';
import { blockFlags, decodeRecording, meanRed } from './helpers/recordings.js';

const log = createLogger('test', 'silent');
const W = 160;
const H = 120;
const N = 40;
const GOP = 10;

/** Frame i: grey, with a white bar 8 pixels wide whose place says its number. */
const barAt = (i: number) => 4 + i * 3;
function frame(i: number): Buffer {
  const b = Buffer.alloc(W * H * 4);
  for (let p = 0; p < W * H; p++) {
    const x = p % W;
    const v = x >= barAt(i) && x < barAt(i) + 8 ? 255 : 60;
    b.set([v, v, v, 255], p * 4);
  }
  return b;
}

/** Where the bar is in a decoded frame: the brightest 8-column window, by its left edge. */
function findBar(f: Frame): number {
  const col = Array.from({ length: f.width }, (_, x) => meanRed(f, x, 0, 1, f.height));
  let best = 0;
  let at = 0;
  for (let x = 0; x + 8 <= f.width; x++) {
    const sum = col.slice(x, x + 8).reduce((a, b) => a + b, 0);
    if (sum > best) [best, at] = [sum, x];
  }
  return at;
}

/** A writer of `info` for VP8 units, failures into `failures`. */
const writerOf = (cat: Catalogue, info: RecordingInfo, failures: string[]) =>
  new RecordingWriter(
    cat,
    info,
    PROFILES.vp8,
    { models: [{ id: 'm', version: '1' }], decision: { raiseFrames: 3 }, product: 'test' },
    (_w, e) => failures.push(e.message),
    log,
  );

/** A clip's record before its first unit. */
const clipInfo = (cat: Catalogue, id: string): RecordingInfo => ({
  version: 1,
  id,
  kind: 'clip',
  state: 'recording',
  ...cat.pathsFor('clip', id),
  codec: 'vp8',
  width: W,
  height: H,
  firstFrame: null,
  lastFrame: null,
  frames: 0,
  startTs: null,
  endTs: null,
  bytes: 0,
  createdAt: Date.now(),
});

/** A VP8 encoder of W × H frames (at most 4 in flight), its units and failures; `unit()` resolves at the next unit. */
function openEncoder(t: { teardown(fn: () => unknown): void }, gop: number) {
  const units: EncodedUnit<FrameDecision>[] = [];
  const failures: string[] = [];
  let arrived = () => {};
  const enc = Encoder.open<FrameDecision>(
    { profile: PROFILES.vp8, size: { width: W, height: H }, fps: 10, gop, kbps: 800, maxInFlight: 4 },
    (u) => {
      units.push(u);
      arrived();
    },
    (e) => failures.push(e.message),
    log,
  );
  t.teardown(() => enc.close());
  return { enc, units, failures, unit: () => new Promise<void>((r) => (arrived = r)) };
}

const decision = (i: number): FrameDecision => ({
  score: i / N,
  smoothed: i / N,
  alert: i >= 20,
  gated: null,
  box: i >= 20 ? { x: 1, y: 2, width: 3, height: 4 } : null,
});

t.test('frames go through the VP8 encoder one for one, in order, and a writer makes a Matroska file that decodes to them', async (t) => {
  const { enc, units, failures, unit } = openEncoder(t, GOP);

  // Pushed in one go, nothing can come out in between: the fifth is refused (maxInFlight 4).
  const accepted = [0, 1, 2, 3, 4].map((i) => enc.push(frame(i), i, 1000 + i * 100, decision(i)));
  t.same(accepted, [true, true, true, true, false], 'at most maxInFlight frames wait in the encoder; the next is refused');
  t.equal(enc.inFlight, 4);
  for (let i = 4; i < N; i++) {
    const got = unit();
    while (!enc.push(frame(i), i, 1000 + i * 100, decision(i))) await got;
  }
  const deadline = Date.now() + 20_000;
  while (units.length < N && Date.now() < deadline) await unit();
  t.equal(units.length, N, 'one access unit per frame');
  t.same(
    units.map((u) => u.frameId),
    Array.from({ length: N }, (_, i) => i),
    'in the order pushed, each paired with its frame',
  );
  t.same(
    units.map((u) => u.meta.score),
    Array.from({ length: N }, (_, i) => i / N),
    'with its metadata',
  );
  const keys = units.flatMap((u, i) => (u.key ? [i] : []));
  t.equal(keys[0], 0, 'the stream starts with a keyframe');
  t.ok(
    keys.every((k, i) => (keys[i + 1] ?? N) - k <= GOP),
    `a keyframe at least every ${GOP} frames (at ${keys.join(', ')})`,
  );
  t.same(failures, []);

  const root = tempDir('lumen-rec-');
  const cat = await Catalogue.open(root, log);
  const info = clipInfo(cat, 'clip-20250101T000000Z-e1');
  const w = writerOf(cat, info, failures);
  // Starting mid-GOP: the delta units before the next keyframe are skipped.
  const from = keys.find((k) => k > 0)!;
  for (const u of units.slice(from - 2)) w.push(u);
  const done = await w.finish('test');
  t.equal(done.state, 'complete', `the file is complete (${done.error?.message ?? ''})`);
  t.same(
    { first: done.firstFrame, last: done.lastFrame, frames: done.frames },
    { first: from, last: N - 1, frames: N - from },
    'it starts at the keyframe and ends with the last unit',
  );
  t.equal(cat.lookup(info.id).state, 'complete', 'the index says complete');
  t.equal(statSync(cat.abs(info.path)).mode & 0o777, 0o600, 'the video is 0600');

  const bars: number[] = [];
  const n = await decodeRecording(cat.abs(info.path), (f) => bars.push(findBar(f)));
  t.equal(n, N - from, 'GStreamer decodes every frame written');
  t.ok(
    bars.every((x, k) => Math.abs(x - barAt(from + k)) <= 1),
    `each decoded frame is the frame pushed, in order (bars at ${bars.join(' ')})`,
  );
  const flags = blockFlags(cat.abs(info.path));
  t.same(
    flags,
    { blocks: N - from, deltas: N - from - keys.filter((k) => k >= from).length },
    'the muxer knows which blocks are keyframes (seeking lands on them)',
  );

  const ann = await loadAnnotations(cat.abs(info.sidecar));
  t.equal(ann.frameCount, N - from, 'the sidecar describes every frame of the file');
  t.equal(ann.labelled, false, 'and says nobody labelled it yet');
  t.same(
    ann.appliance!.frames.map((f) => [f.index, f.frameId, f.alert]),
    units.slice(from).map((u, k) => [k, u.frameId, u.meta.alert]),
    'with the decision on each, by position in the file',
  );
  t.same(ann.appliance!.frames.at(-1)!.box, { x: 1, y: 2, width: 3, height: 4 });

  // File after file of the same shape reuses one muxer pipeline: the binding never frees one,
  // so a pipeline per file would hold two more fds and its elements for every clip.
  const before = pipelineCounts().made;
  const more: RecordingInfo[] = [];
  for (let k = 2; k <= 4; k++) {
    const id = `clip-20250101T000000Z-e${k}`;
    const next = writerOf(cat, clipInfo(cat, id), failures);
    // Each file from a later keyframe: its first frame tells it from the file before.
    for (const u of units.slice(keys[k - 1])) next.push(u);
    more.push(await next.finish('test'));
  }
  t.equal(pipelineCounts().made - before, 0, 'three more files made no new muxer pipeline: each reused the one before');
  for (const [k, d] of more.entries()) {
    const first = keys[k + 1];
    const again: number[] = [];
    t.equal(await decodeRecording(cat.abs(d.path), (f) => again.push(findBar(f))), N - first, `file ${k + 2} decodes to every frame written to it`);
    t.ok(
      again.every((x, j) => Math.abs(x - barAt(first + j)) <= 1),
      `file ${k + 2} holds its own frames from frame ${first}, none of the file before (first bar at ${again[0]})`,
    );
  }
  t.same(failures, [], 'nothing failed');
});

t.test('pooled frames handed to the encoder are reused only once encoded: the recording holds every frame as pushed', async (t) => {
  // As the daemon runs it: the loop releases its lease right after the push, and the next pull
  // takes a buffer from the pool; the encoder's hold keeps a frame's buffer out until its unit.
  const pool = new FramePool();
  const { enc, units, failures, unit } = openEncoder(t, 100);
  for (let i = 0; i < N; i++) {
    const { buf, hold } = pool.take(W * H * 4);
    buf.set(frame(i));
    hold.retain();
    for (;;) {
      const got = unit();
      if (enc.push(buf, i, 1000 + i * 100, decision(i), hold)) break;
      await got;
    }
    hold.release();
  }
  const deadline = Date.now() + 20_000;
  while (units.length < N && Date.now() < deadline) await unit();
  t.equal(units.length, N, 'one access unit per frame');
  t.ok(pool.made >= 2 && pool.made <= 6, `the pool reused its buffers (${pool.made} made for ${N} frames)`);

  const cat = await Catalogue.open(tempDir('lumen-rec-'), log);
  const info = clipInfo(cat, 'clip-20250101T000000Z-e9');
  const w = writerOf(cat, info, failures);
  for (const u of units) w.push(u);
  t.equal((await w.finish('test')).state, 'complete');
  const bars: number[] = [];
  t.equal(await decodeRecording(cat.abs(info.path), (f) => bars.push(findBar(f))), N, 'every frame decodes');
  t.ok(
    bars.every((x, k) => Math.abs(x - barAt(k)) <= 1),
    `each decoded frame is the one pushed, none overwritten by a later one (bars at ${bars.join(' ')})`,
  );
  t.same(failures, []);
});
