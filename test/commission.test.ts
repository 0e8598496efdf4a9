import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../runtime/config/load.js';
import { loadAnnotations } from '../runtime/annotations.js';
import { makeFeed } from '../runtime/feed/make-feed.js';
import type { Rect } from '../runtime/frame.js';
import { SHARED_DATA, tempDir } from './helpers/daemon.js';
import { runLumen } from './helpers/qa-feeds.js';

interface Proposal {
  roi: { privacyMasks: Rect[]; blackOutside: boolean };
  activeArea: Rect;
  shape: string;
  maskShare: number;
  text: { rect: Rect; inPicture: boolean }[];
  out: string | null;
  png: string;
  refused: string | null;
}

/** Pixels of r covered by the union of masks. */
function covered(r: Rect, masks: Rect[]): number {
  let n = 0;
  for (let y = r.y; y < r.y + r.height; y++)
    for (let x = r.x; x < r.x + r.width; x++) {
      if (masks.some((m) => x >= m.x && y >= m.y && x < m.x + m.width && y < m.y + m.height)) n++;
    }
  return n;
}

t.test("commission on the generator's OSD feed: masks over the text that crosses the picture, the rest left to blackOutside", async (t) => {
  const dir = tempDir('lumen-commission-');
  const feed = await makeFeed(join(dir, 'osd.mkv'), { width: 640, height: 360, fps: 10, seconds: 6, seed: 5, episodes: 'full' });
  const truth = await loadAnnotations(feed.annotations);
  const out = join(dir, 'proposal.yaml');
  const r = await runLumen(['commission', feed.video, '--out', out, '--frames', '16', '--json']);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
  const p = JSON.parse(r.stdout) as Proposal;
  t.equal(p.shape, 'octagon');
  const a = truth.activeArea!;
  t.ok(
    Math.abs(p.activeArea.x - a.x) <= 6 && Math.abs(p.activeArea.width - a.width) <= 12,
    `active area ${JSON.stringify(p.activeArea)} ≈ ${JSON.stringify(a)}`,
  );
  const over = truth.textRegions!.filter((x) => !x.onBorder);
  t.equal(over.length, 2, 'the generator draws two lines over the picture edge');
  for (const line of over) {
    const c = covered(line, p.roi.privacyMasks);
    t.equal(c, line.width * line.height, `line at ${line.x},${line.y} ${line.width}×${line.height} fully masked`);
  }
  t.equal(p.roi.privacyMasks.length, 2, 'one mask per line, none on the border text');
  t.ok(p.text.filter((x) => !x.inPicture).length >= 2, 'the border blocks are listed for blackOutside');
  t.ok(p.maskShare < 0.05, `masks cover ${p.maskShare} of the active area`);
  // The written file is a valid site config (the roi section), and the PNG is the frame's size.
  const config = await loadConfig(out);
  t.same(config.roi.privacyMasks, p.roi.privacyMasks);
  t.equal(config.roi.blackOutside, true);
  t.match(readFileSync(out, 'utf8'), /# text .* over the picture -> privacy mask/);
  const meta = await sharp(p.png).metadata();
  t.same([meta.width, meta.height], [640, 360]);
});

t.test('commission on the Kvasir frames: the text block over the picture on the left', async (t) => {
  const dir = tempDir('lumen-commission-');
  const out = join(dir, 'kvasir.yaml');
  const r = await runLumen(['commission', join(SHARED_DATA, 'kvasir-seg'), '--out', out, '--frames', '30', '--json']);
  t.equal(r.code, 0, `exit 0 (stderr: ${r.stderr})`);
  const p = JSON.parse(r.stdout) as Proposal;
  t.equal(p.roi.privacyMasks.length, 1);
  const m = p.roi.privacyMasks[0];
  // Where the date, time and settings lines sit on these frames (x 0–110, y 146–236 on cju0qkwl…).
  t.ok(m.x === 0 && m.y <= 146 && m.y + m.height >= 236 && m.x + m.width >= 110, `mask ${JSON.stringify(m)} covers the block`);
  t.ok(p.maskShare <= 0.15, `covers ${p.maskShare} of the active area`);
  t.ok((await loadConfig(out)).roi.privacyMasks.length === 1);

  // A stricter limit refuses the same masks and says why; the PNG is still written, the YAML not.
  const refusedOut = join(dir, 'strict.yaml');
  const s = await runLumen(['commission', join(SHARED_DATA, 'kvasir-seg'), '--out', refusedOut, '--frames', '30', '--max-mask-share', '0.02']);
  t.equal(s.code, 2);
  t.match(s.stderr, /COMMISSION_REFUSED: the 1 masks would cover [\d.]+ % of the active area, more than 2 %/);
  t.throws(() => readFileSync(refusedOut), 'no proposal file written');
  t.ok(readFileSync(join(dir, 'strict.png')).length > 0, 'the picture is, to show why');
});

t.test('commission refuses bad input with codes', async (t) => {
  const dir = tempDir('lumen-commission-');
  const empty = await runLumen(['commission', dir, '--out', join(dir, 'p.yaml')]);
  t.equal(empty.code, 2);
  t.match(empty.stderr, /FOLDER_EMPTY/);
  const usage = await runLumen(['commission', dir, '--max-mask-share', '2']);
  t.equal(usage.code, 2);
  t.match(usage.stderr, /USAGE: --max-mask-share 2/);
});
