import t from 'tap';
import sharp from 'sharp';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { SHARED_DATA, tempDir } from './helpers/daemon.js';
import { runLumen } from './helpers/qa-feeds.js';

// The 30 Kvasir-SEG frames of the shared data set (the 753 calibration frames take 35 s of CPU
// through the CLI with the text finder: `npm run calibrate`; test/quality-calibration.test.ts runs
// the gate and ROI over all of them in the suite). Read in place, never copied.
const KVASIR = join(SHARED_DATA, 'kvasir-seg');

t.test('lumen calibrate on real lesion frames: none gated, lesion pixels kept, the OSD text found, a report', async (t) => {
  const report = tempDir('lumen-calibrate-');
  const r = await runLumen(['calibrate', KVASIR, '--json', '--fail-on-gated-lesion', '--report', report]);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
  const s = JSON.parse(r.stdout) as Record<string, number>;
  t.comment(`summary: ${r.stdout.trim()}`);
  t.equal(s.frames, 30);
  t.equal(s.errors, 0);
  t.equal(s.lesionFrames, 30, 'every frame has a lesion mask');
  t.equal(s.lesionFramesGated, 0, 'no lesion frame gated');
  t.equal(s.lesionInRoiPx, s.lesionPx, 'every lesion pixel inside the ROI box');
  // The outline leaves out the octagon's black corners: mask pixels drawn into the border go.
  t.ok(s.lesionKeptShare >= 0.9999, `lesion pixels reaching the models: ${s.lesionKeptShare}`);
  t.ok(s.framesWithText >= 25, `text blocks found on ${s.framesWithText} of 30 frames (the OSD on the left)`);
  const json = JSON.parse(readFileSync(join(report, 'calibration.json'), 'utf8')) as { format: string; records: { name: string; explanation: string[] }[] };
  t.equal(json.format, 'lumen-calibration/1');
  t.equal(json.records.length, 30);
  t.match(json.records[0].explanation[0], /^usable \d+ % of \d+ regions ≥ 40 %/, 'each frame says which measure, over which part, against which limit');
  t.match(readFileSync(join(report, 'calibration.html'), 'utf8'), /Gated frames \(0\)/);

  // A site whose limit would hold back a lesion frame: exit 3 with --fail-on-gated-lesion, and the
  // report shows the gated lesion frames.
  const strict = join(report, 'strict.json');
  writeFileSync(strict, JSON.stringify({ quality: { minUsableFraction: 0.97 } }));
  const g = await runLumen(['calibrate', KVASIR, '--config', strict, '--fail-on-gated-lesion', '--report', join(report, 'strict')]);
  t.equal(g.code, 3, 'exit 3: a lesion frame was gated');
  t.match(g.stdout, /GATED images\/\S+ \(lesion frame\): usable \d+ %/);
  t.match(readFileSync(join(report, 'strict', 'calibration.html'), 'utf8'), /LESION FRAME.*<\/figcaption>/s);
  t.match(readFileSync(join(report, 'strict', 'calibration.html'), 'utf8'), /data:image\/jpeg;base64,/, 'with a thumbnail');
});

/** A PNG claiming width × height with one byte of pixel data: its header reads, its pixels never would. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

t.test('bad frames are refused with their codes; the rest of the folder is still processed', async (t) => {
  const dir = tempDir('lumen-calibrate-bad-');
  mkdirSync(join(dir, 'images'));
  mkdirSync(join(dir, 'masks'));
  const rgb = (w: number, h: number, c: [number, number, number]) =>
    sharp({ create: { width: w, height: h, channels: 3, background: { r: c[0], g: c[1], b: c[2] } } })
      .png()
      .toBuffer();
  writeFileSync(join(dir, 'images', 'a-good.png'), await rgb(320, 240, [200, 110, 100]));
  writeFileSync(join(dir, 'masks', 'a-good.png'), await rgb(320, 240, [0, 0, 0]));
  writeFileSync(join(dir, 'images', 'b-unreadable.png'), Buffer.from('not an image at all'));
  writeFileSync(join(dir, 'images', 'c-mask-size.png'), await rgb(320, 240, [200, 110, 100]));
  writeFileSync(join(dir, 'masks', 'c-mask-size.png'), await rgb(160, 120, [0, 0, 0]));
  writeFileSync(join(dir, 'images', 'd-tiny.png'), await rgb(1, 1, [200, 110, 100]));
  writeFileSync(join(dir, 'images', 'e-huge.png'), pngHeader(16000, 16000));
  const r = await runLumen(['calibrate', dir, '--json']);
  t.equal(r.code, 2, 'exit 2: some input refused');
  const s = JSON.parse(r.stdout) as Record<string, number>;
  t.equal(s.frames, 5);
  t.equal(s.errors, 4);
  t.equal(s.gated, 1, 'the good (flat, featureless) frame was judged: no texture, gated blurred');
  t.match(r.stderr, /IMAGE_INVALID: .*b-unreadable\.png/);
  t.match(r.stderr, /MASK_SIZE: .*c-mask-size\.png: the mask is 160×120, its image c-mask-size\.png is 320×240/);
  t.match(r.stderr, /IMAGE_SIZE: .*d-tiny\.png: 1×1/);
  t.match(r.stderr, /IMAGE_SIZE: .*e-huge\.png: 16000×16000/);
});

t.test('a folder with no images is refused', async (t) => {
  const dir = tempDir('lumen-calibrate-empty-');
  writeFileSync(join(dir, 'notes.txt'), 'no frames here');
  const r = await runLumen(['calibrate', dir]);
  t.equal(r.code, 2);
  t.match(r.stderr, /FOLDER_EMPTY: /);
  t.notOk(existsSync(join(dir, 'calibration.json')));
});
