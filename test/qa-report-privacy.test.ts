import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Rect } from '../runtime/frame.js';
import { loadAnnotations } from '../runtime/annotations.js';
import { decodeImage, type RgbaImage } from '../runtime/util/image-codec.js';
import { tempDir, writeConfig } from './helpers/daemon.js';
import { makeGoldenFeed, runLumen } from './helpers/qa-feeds.js';

const luma = (img: RgbaImage, x: number, y: number) => {
  const i = (y * img.width + x) * 4;
  return 0.299 * img.data[i] + 0.587 * img.data[i + 1] + 0.114 * img.data[i + 2];
};

/** Max and mean luma over a rectangle of the image (clipped). */
function stats(img: RgbaImage, r: Rect): { max: number; mean: number; n: number } {
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, r.y); y < Math.min(img.height, r.y + r.height); y++) {
    for (let x = Math.max(0, r.x); x < Math.min(img.width, r.x + r.width); x++) {
      const l = luma(img, x, y);
      max = Math.max(max, l);
      sum += l;
      n++;
    }
  }
  return { max, mean: n ? sum / n : 0, n };
}

t.test('QA report thumbnails keep privacy-masked regions black, drawings included', async (t) => {
  const dir = tempDir('lumen-qa-privacy-');
  const feed = await makeGoldenFeed(dir);
  const ann = await loadAnnotations(feed.annotations);
  const W = 320;
  const H = 240;
  const text = (ann.textRegions ?? []).map((r) => ({ x: Math.floor(r.x), y: Math.floor(r.y), width: Math.ceil(r.width), height: Math.ceil(r.height) }));
  t.ok(text.length > 0, `the golden feed burns in on-screen text (${text.length} regions)`);
  // A block in the middle of the picture, where the lesions pass: the truth contour, the
  // predicted tint and the box are drawn there unless the thumbnail masks after drawing. (Not a
  // band across: that would split the active area, and ROI extraction would keep only one half.)
  const band: Rect = { x: 100, y: 60, width: 120, height: 90 };
  const masks = [...text, band];
  const config = writeConfig(dir, { roi: { privacyMasks: masks } });
  const out = join(dir, 'report');
  const r = await runLumen(['replay', feed.video, '--config', config, '--report', out]);
  t.equal(r.code === 0 || r.code === 3, true, `the replay ran (exit ${r.code}: ${r.stderr.trim().slice(-300)})`);

  const html = readFileSync(join(out, 'report.html'), 'utf8');
  const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { worstFrames: unknown[] };
  const thumbs = [...html.matchAll(/src="data:image\/jpeg;base64,([^"]+)"/g)].map((m) => Buffer.from(m[1], 'base64'));
  t.ok(thumbs.length > 0, `the report shows thumbnails (${thumbs.length})`);
  t.equal(thumbs.length, json.worstFrames.length, 'one per worst frame');

  // JPEG blocks ring a few pixels across a sharp edge: look a little inside each mask (4 px, or
  // a quarter of the side for the 8 px text strips).
  const inner = (m: Rect): Rect => {
    const d = Math.min(4, Math.floor(m.width / 4), Math.floor(m.height / 4));
    return { x: m.x + d, y: m.y + d, width: m.width - 2 * d, height: m.height - 2 * d };
  };
  let lit = 0;
  for (const [k, jpeg] of thumbs.entries()) {
    const img = await decodeImage(jpeg);
    t.same([img.width, img.height], [W, H], `thumbnail ${k} is full size`);
    for (const m of masks) {
      const s = stats(img, inner(m));
      t.ok(s.n > 0 && s.max <= 40, `thumbnail ${k}: mask ${JSON.stringify(m)} stays black (max luma ${s.max.toFixed(0)})`);
    }
    // Not a black picture: below the block the scene shows. Dark scenes count (a pool of blood
    // reads about 40 in luma there); a blacked-out picture reads under 10 with no bright pixel.
    const scene = stats(img, { x: 120, y: 165, width: 80, height: 30 });
    if (scene.mean > 20 && scene.max > 100) lit++;
    else t.comment(`thumbnail ${k}: scene mean luma ${scene.mean.toFixed(1)}, max ${scene.max.toFixed(0)}`);
  }
  t.equal(lit, thumbs.length, 'every thumbnail shows the picture outside the masks');
});
