import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { isLumenError, type ErrorCode } from '../runtime/errors.js';
import { loadAnnotations } from '../runtime/annotations.js';
import { createLogger } from '../runtime/log.js';
import { Conditioner } from '../runtime/pipeline/condition.js';
import { joinReasons } from '../runtime/quality/gate-reasons.js';
import { agreement } from '../runtime/qa/agreement.js';
import type { AlertSpan, FrameRecord } from '../runtime/qa/metrics.js';
import { Catalogue, type RecordingInfo } from '../runtime/record/catalogue.js';
import type { EncodedUnit } from '../runtime/record/encoder.js';
import { exportRecording } from '../runtime/record/export.js';
import { RecordPixels } from '../runtime/record/frame-pixels.js';
import { PreRoll } from '../runtime/record/preroll.js';
import { h264Keyframe, vp8Keyframe } from '../runtime/record/profiles.js';
import { RecentFrames } from '../runtime/record/recorder-status.js';
import { chooseDeletions } from '../runtime/record/retention.js';
import { tempDir } from './helpers/daemon.js';

const log = createLogger('test', 'silent');

function throwsCode(t: Pick<typeof import('tap').default, 'ok' | 'match' | 'fail'>, fn: () => unknown, code: ErrorCode, mention: RegExp): void {
  try {
    fn();
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(isLumenError(err, code), `${code}: ${(err as Error).message}`);
    t.match((err as Error).message, mention);
  }
}

t.test('keyframes are read from the bitstream: VP8 frame tag, H.264 IDR slice', async (t) => {
  t.equal(vp8Keyframe(Uint8Array.of(0x50, 0x42, 0x01)), true, 'VP8: bit 0 clear is a keyframe');
  t.equal(vp8Keyframe(Uint8Array.of(0x51, 0x42, 0x01)), false, 'VP8: bit 0 set is an interframe');
  const sps = [0, 0, 0, 1, 0x67, 0x42];
  const pps = [0, 0, 0, 1, 0x68, 0xce];
  t.equal(h264Keyframe(Uint8Array.from([...sps, ...pps, 0, 0, 1, 0x65, 0x88])), true, 'H.264: SPS, PPS, then an IDR slice');
  t.equal(h264Keyframe(Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a])), false, 'H.264: delimiter, then a non-IDR slice');
  t.equal(h264Keyframe(Uint8Array.of(0x65, 0, 0)), false, 'H.264: no start code, no keyframe');
});

const unit = (frameId: number, ts: number, key: boolean, bytes = 100): EncodedUnit<null> => ({ data: Buffer.alloc(bytes), key, frameId, ts, meta: null });

t.test("the source's frame rate is measured from frame ids, gaps included, over the newest frames only", async (t) => {
  const r = new RecentFrames(64);
  t.equal(r.idRate(), null, 'no frames: no rate');
  r.add(0, 1000);
  t.equal(r.idRate(), null, 'one frame: no rate');
  // 30 frames/s delivered, one in three handled: ids step by 3 every 100 ms.
  for (let k = 1; k <= 20; k++) r.add(3 * k, 1000 + 100 * k);
  t.ok(Math.abs(r.idRate()! - 0.03) < 1e-9, `30 ids/s (${r.idRate()! * 1000}), not the 10 handled`);
  // The source re-opened: ids start again from 0, the old ones no longer count.
  for (let k = 0; k <= 10; k++) r.add(k, 10_000 + 40 * k);
  t.ok(Math.abs(r.idRate()! - 0.025) < 1e-9, `after a re-open, the new source's 25 ids/s (${r.idRate()! * 1000})`);
  // Only the newest 10 s: an older, slower stretch does not dilute the rate.
  const s = new RecentFrames(1024);
  for (let k = 0; k < 100; k++) s.add(k, k * 500);
  for (let k = 1; k <= 600; k++) s.add(99 + k, 99 * 500 + k * 20);
  t.ok(Math.abs(s.idRate()! - 0.05) < 1e-9, `the newest 10 s at 50 ids/s (${s.idRate()! * 1000})`);
  // A stall, then the frames it held back leave GStreamer at once: still about the source's 10/s.
  const b = new RecentFrames(1024);
  let ts = 0;
  for (let id = 0; id < 150; id++) {
    if (id % 30 === 20) ts += 1000;
    else ts += id % 30 > 20 ? 1 : 100;
    b.add(id, ts);
  }
  t.ok(
    Math.abs(b.idRate()! * 1000 - 10) < 1.5,
    `frames pulled in bursts after stalls read as the source's rate (${(b.idRate()! * 1000).toFixed(1)}/s, 10 expected)`,
  );
});

t.test('the pre-roll keeps whole GOPs back to the keyframe at or before now − span, and no more bytes than its cap', async (t) => {
  // 10 frames/s, a keyframe every 10 frames, 2 s span.
  const p = new PreRoll<null>(2000, 1 << 20);
  p.add(unit(0, 0, false));
  t.equal(p.bytes, 0, 'a delta frame before any keyframe is dropped');
  for (let i = 1; i <= 45; i++) p.add(unit(i, i * 100, i % 10 === 0));
  // Now 4500 ms: the cut is 2500 ms; the keyframe at or before it is frame 20 (2000 ms).
  t.same(p.from(0).map((u) => u.frameId)[0], 20, 'the oldest unit kept is the keyframe at or before the cut');
  t.equal(p.from(0).length, 26, 'frames 20–45 kept');
  t.equal(p.bytes, 26 * 100, 'bytes held are those of the units kept');
  t.equal(p.seconds, 2.5);
  t.same(
    p
      .from(3500)
      .map((u) => u.frameId)
      .slice(0, 2),
    [30, 31],
    'a clip from 3.5 s starts at the keyframe of 3.0 s',
  );
  t.same(p.from(2999).map((u) => u.frameId)[0], 20, 'a clip from before the second keyframe starts at the first');

  const capped = new PreRoll<null>(60_000, 2500);
  for (let i = 0; i < 40; i++) capped.add(unit(i, i * 100, i % 10 === 0, 100));
  t.ok(capped.bytes <= 2500, `the byte cap holds (${capped.bytes} ≤ 2500)`);
  t.equal(capped.from(0)[0].key, true, 'trimming drops whole GOPs: the first unit is still a keyframe');
  t.equal(capped.trimmedForBytes, 2, 'two GOPs went for the byte cap');
  const huge = new PreRoll<null>(60_000, 10);
  for (let i = 0; i < 5; i++) huge.add(unit(i, i * 100, i === 0, 100));
  t.equal(huge.from(0).length, 5, 'the newest GOP stays even when it alone exceeds the cap');
});

const rec = (id: string, kind: RecordingInfo['kind'], ageMs: number, bytes: number, state: RecordingInfo['state'] = 'complete'): RecordingInfo => ({
  version: 1,
  id,
  kind,
  state,
  path: `x/${id}.mkv`,
  sidecar: `x/${id}.annotations.json`,
  codec: 'vp8',
  width: 2,
  height: 2,
  firstFrame: 0,
  lastFrame: 1,
  frames: 2,
  startTs: 0,
  endTs: 1,
  bytes,
  createdAt: 1_000_000_000_000 - ageMs,
});

t.test('retention: segments go after their hours, clips after their days; over quota the oldest segments go before any clip', async (t) => {
  const now = 1_000_000_000_000;
  const H = 3600_000;
  const s = { quotaMB: 1, segmentMaxAgeHours: 24, clipMaxAgeDays: 30, minFreeMB: 0 };
  const MB = 2 ** 20;
  const byAge = chooseDeletions(
    [
      rec('seg-old', 'segment', 25 * H, 10),
      rec('seg-new', 'segment', 23 * H, 10),
      rec('clip-25h', 'clip', 25 * H, 10),
      rec('clip-31d', 'clip', 31 * 24 * H, 10),
    ],
    now,
    s,
    new Set(),
  );
  t.same(
    byAge.map((d) => [d.record.id, d.reason]),
    [
      ['seg-old', 'age'],
      ['clip-31d', 'age'],
    ],
    'a day-old segment and a month-old clip go; a day-old clip stays',
  );

  const list = [
    rec('clip-a', 'clip', 10 * H, 0.4 * MB),
    rec('seg-a', 'segment', 5 * H, 0.4 * MB),
    rec('seg-b', 'segment', 4 * H, 0.4 * MB),
    rec('clip-b', 'clip', 1 * H, 0.4 * MB),
  ];
  t.same(
    chooseDeletions(list, now, s, new Set()).map((d) => d.record.id),
    ['seg-a', 'seg-b'],
    '1.6 MB over a 1 MB quota: both segments go, oldest first, the older clip stays',
  );
  t.same(
    chooseDeletions(list, now, { ...s, quotaMB: 0.3 }, new Set()).map((d) => d.record.id),
    ['seg-a', 'seg-b', 'clip-a', 'clip-b'],
    'then the clips, oldest first',
  );
  t.same(
    chooseDeletions(list, now, { ...s, quotaMB: 0.3 }, new Set(['seg-a', 'clip-b'])).map((d) => d.record.id),
    ['seg-b', 'clip-a'],
    'a recording being written is never deleted',
  );
  t.same(chooseDeletions([rec('clip-x', 'clip', 40 * 24 * H, 0, 'deleted')], now, s, new Set()), [], 'a tombstone is not deleted again');
});

t.test('catalogue: a record still "recording" at open is marked incomplete; tombstones answer deleted; ids are checked', async (t) => {
  const root = tempDir('lumen-rec-');
  mkdirSync(join(root, 'clips'), { recursive: true });
  const cut = rec('clip-20250101T000000Z-e1', 'clip', 0, 0, 'recording');
  writeFileSync(join(root, 'clips', `${cut.id}.json`), JSON.stringify({ ...cut, path: `clips/${cut.id}.mkv` }));
  writeFileSync(join(root, 'clips', `${cut.id}.mkv`), Buffer.alloc(1234));
  const cat = await Catalogue.open(root, log);
  const r = cat.lookup(cut.id);
  t.equal(r.state, 'incomplete', 'the run that wrote it died: incomplete');
  t.equal(r.bytes, 1234, 'its size is what reached the disk');
  t.equal((JSON.parse(readFileSync(join(root, 'clips', `${cut.id}.json`), 'utf8')) as { state: string }).state, 'incomplete', 'and the record on disk says so');
  t.equal(statSync(join(root, 'clips')).mode & 0o777, 0o700, 'folders are 0700');
  t.equal(statSync(join(root, 'clips', `${cut.id}.json`)).mode & 0o777, 0o600, 'records are 0600');
  await cat.remove(r, 'quota');
  throwsCode(t, () => cat.lookup(cut.id), 'CLIP_DELETED', /deleted by retention \(quota\)/);
  throwsCode(t, () => cat.lookup('clip-20250101T000000Z-e2'), 'CLIP_UNKNOWN', /no recording clip-20250101T000000Z-e2/);
  throwsCode(t, () => cat.lookup('../../etc/passwd'), 'CLIP_UNKNOWN', /not a recording id/);
  const again = await Catalogue.read(root);
  throwsCode(t, () => again.lookup(cut.id), 'CLIP_DELETED', /deleted by retention/);
  throwsCode(t, () => cat.lookup(''), 'CLIP_UNKNOWN', /not a recording id/);
});

t.test('an export is one tar that tar(1) unpacks into the same bytes, mode 0600, never over a file', async (t) => {
  const root = tempDir('lumen-rec-');
  mkdirSync(join(root, 'clips'), { recursive: true });
  const r = {
    ...rec('clip-20250101T000000Z-e3', 'clip', 0, 0),
    path: 'clips/clip-20250101T000000Z-e3.mkv',
    sidecar: 'clips/clip-20250101T000000Z-e3.annotations.json',
  };
  const video = Buffer.from(Array.from({ length: 70_001 }, (_, i) => (i * 7) % 251));
  writeFileSync(join(root, r.path), video);
  writeFileSync(join(root, r.sidecar), '{"version":1}\n');
  const cat = await Catalogue.read(root);
  const out = join(tempDir(), 'clip.tar');
  const done = await exportRecording(cat, r, out);
  t.equal(statSync(out).mode & 0o777, 0o600, 'the export is 0600');
  t.equal(done.sha256, createHash('sha256').update(video).digest('hex'), 'the reported sha256 is the video’s');
  const list = spawnSync('tar', ['tf', out], { encoding: 'utf8' });
  t.same(list.stdout.trim().split('\n'), [`${r.id}.mkv`, `${r.id}.annotations.json`, `${r.id}.json`], 'tar lists video, sidecar, record');
  const into = tempDir();
  t.equal(spawnSync('tar', ['xf', out, '-C', into]).status, 0, 'tar extracts it');
  t.ok(readFileSync(join(into, `${r.id}.mkv`)).equals(video), 'the video comes back byte for byte');
  t.equal((JSON.parse(readFileSync(join(into, `${r.id}.json`), 'utf8')) as { id: string }).id, r.id, 'with its record');
  await t.rejects(exportRecording(cat, r, out), { code: 'USAGE', message: /exists/ }, 'an existing file is not overwritten');
});

t.test('agreement with the appliance: reproduced, lost and new alerts, frame agreement, score delta', async (t) => {
  const n = 100;
  const records = Array.from({ length: n }, (_, i) => ({ index: i, alert: (i >= 22 && i < 40) || (i >= 80 && i < 90), score: 0.5 }) as FrameRecord);
  const spans: AlertSpan[] = [
    { raiseFrame: 22, clearFrame: 40, onsetFrame: 20, peakScore: 1, falseAlert: false },
    { raiseFrame: 80, clearFrame: 90, onsetFrame: 78, peakScore: 1, falseAlert: false },
  ];
  // The appliance: one alert over 20–41 (reproduced, edges shifted), one over 60–65 (lost).
  const decisions = Array.from({ length: n }, (_, i) => ({
    index: i,
    frameId: 1000 + i,
    ts: i * 100,
    score: 0.6,
    smoothed: 0.6,
    alert: (i >= 20 && i < 42) || (i >= 60 && i < 66),
    gated: null,
    box: null,
  }));
  const a = agreement(records, spans, decisions, 10, 1);
  t.same(
    { ...a, scoreDeltaMean: null },
    { applianceAlerts: 2, reproducedAlerts: 1, lostAlerts: 1, newAlerts: 1, alertAgreement: 0.8, scoreDeltaMean: null },
    'one kept (edges shifted), one lost, one new; 80 of 100 frames agree',
  );
  t.ok(Math.abs(a.scoreDeltaMean! - 0.1) < 1e-9, 'scores 0.1 apart on average');
  const dir = tempDir();
  const ann = (extra: object) => {
    const path = join(dir, `a${Math.random()}.json`);
    writeFileSync(path, JSON.stringify({ version: 1, video: 'v.mkv', width: 2, height: 2, fps: 10, frameCount: 3, frames: [], ...extra }));
    return path;
  };
  await t.rejects(
    loadAnnotations(ann({ labelled: false, frames: [{ index: 0, label: 'egc' }] })),
    { code: 'FEED_INVALID', message: /labelled is false/ },
    'truth in a file that says it has none is refused',
  );
  await t.rejects(
    loadAnnotations(ann({ appliance: { models: [], decision: {}, frames: [{ ...decisions[0], index: 3 }] } })),
    { code: 'FEED_INVALID', message: /appliance\.frames\.0 \(frame 3\): index beyond frameCount 3/ },
    'a decision beyond the video is refused, named',
  );
});

t.test('a recording holds no pixel the models did not see: no active area found → black; roi.blackOutside off → black outside the ROI', async (t) => {
  const w = 8;
  const h = 6;
  const data = new Uint8Array(w * h * 4).fill(200);
  const roi = { x: 2, y: 1, width: 4, height: 3 };
  // Only conditioning makes a frame the recorder takes (none configured here: the frame as it is).
  const { frame } = new Conditioner(null).run({ id: 0, ts: 0, width: w, height: h, data }, {});
  const on = new RecordPixels({ enabled: true, blackOutside: true });
  t.equal(on.of({ frame, roi, gated: null }), data, 'the conditioned frame as it is (conditioning blacked the outside): no copy');
  t.ok(
    on.of({ frame, roi, gated: joinReasons(['no-picture']) }).every((v) => v === 0),
    'no active area yet: the border text may be there, the frame goes black',
  );
  const off = new RecordPixels({ enabled: true, blackOutside: false }).of({ frame, roi, gated: null });
  const inside = (i: number) => {
    const p = i >> 2;
    const x = p % w;
    const y = Math.floor(p / w);
    return x >= roi.x && x < roi.x + roi.width && y >= roi.y && y < roi.y + roi.height;
  };
  t.ok(
    off.every((v, i) => v === (inside(i) ? 200 : 0)),
    'outside the ROI black, inside as the models saw it',
  );
  t.equal(data[0], 200, 'the frame itself is left alone');
  const noRoi = new RecordPixels({ enabled: false, blackOutside: true });
  t.equal(noRoi.of({ frame, roi, gated: null }), data, 'ROI extraction off: the models saw the whole (masked) frame, and so does the recording');
  const raw = { id: 0, ts: 0, width: w, height: h, data };
  // Compile-time guarantee (tsc -p test): a frame that was not conditioned cannot be recorded.
  // @ts-expect-error a raw Frame is not a ConditionedFrame
  const refused = () => on.of({ frame: raw, roi, gated: null });
  t.type(refused, 'function');
});
