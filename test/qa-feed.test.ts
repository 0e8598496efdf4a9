import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { loadAnnotations } from '../runtime/annotations.js';
import { makeFeed } from '../runtime/feed/make-feed.js';
import { OnScreenDisplay } from '../runtime/feed/osd.js';
import { SceneRenderer } from '../runtime/feed/scene.js';
import { makeSceneSpec, type FeedOptions } from '../runtime/feed/schedule.js';
import { tempDir } from './helpers/daemon.js';

const OPTS: FeedOptions = { width: 320, height: 240, fps: 10, seconds: 3, seed: 18, episodes: 'full' };

t.test('on-screen text is burned in beside the picture and over its edge, only inside its regions', async (t) => {
  for (const [width, height] of [
    [320, 240],
    [1280, 720],
  ]) {
    const spec = makeSceneSpec({ ...OPTS, width, height });
    const osd = new OnScreenDisplay(spec);
    const plain = new SceneRenderer(spec).render(12).data;
    const burned = Uint8Array.from(plain);
    osd.draw(burned, 12);
    const inRegion = (x: number, y: number) => osd.regions.some((r) => x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height);
    let changedOutside = 0;
    let changed = 0;
    for (let p = 0; p < width * height; p++) {
      if (burned[p * 4] === plain[p * 4] && burned[p * 4 + 1] === plain[p * 4 + 1] && burned[p * 4 + 2] === plain[p * 4 + 2]) continue;
      changed++;
      if (!inRegion(p % width, Math.floor(p / width))) changedOutside++;
    }
    t.ok(changed > 500, `${width}×${height}: text drawn (${changed} pixels)`);
    t.equal(changedOutside, 0, `${width}×${height}: nothing drawn outside the declared text regions`);
    t.ok(osd.regions.filter((r) => r.onBorder).length >= 5, 'patient and settings lines on the black border');
    t.ok(osd.regions.filter((r) => !r.onBorder).length >= 2, 'lines that run over the picture');
    const a = spec.activeArea;
    t.ok(
      osd.regions.filter((r) => r.onBorder).every((r) => r.x + r.width <= a.x),
      'border lines are left of the picture',
    );
  }
});

t.test('text never changes masks or labels, and lesions never lie under it', async (t) => {
  const dir = tempDir('lumen-feed-');
  const withText = await makeFeed(join(dir, 'text.mkv'), OPTS);
  const without = await makeFeed(join(dir, 'plain.mkv'), { ...OPTS, osd: false });
  const a = await loadAnnotations(withText.annotations);
  const b = await loadAnnotations(without.annotations);
  t.same(a.frames, b.frames, 'per-frame labels and masks are identical with and without text');
  t.ok(a.textRegions && a.textRegions.length >= 7, 'the annotations list the text regions');
  t.equal(b.textRegions, undefined, 'no regions without text');
  t.equal(a.source?.osd, true);

  // Lesions of many seeds (every 4th lesion frame) stay clear of the lines over the picture.
  let checked = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const spec = makeSceneSpec({ ...OPTS, seconds: 15, seed });
    const edge = new OnScreenDisplay(spec).regions.filter((r) => !r.onBorder);
    const renderer = new SceneRenderer(spec);
    for (const e of spec.episodes.filter((x) => x.kind === 'lesion')) {
      for (let i = e.start; i < e.end; i += 4) {
        const { mask } = renderer.render(i);
        if (!mask) continue;
        checked++;
        const hit = edge.some((r) => {
          for (let y = r.y; y < r.y + r.height; y++) for (let x = r.x; x < r.x + r.width; x++) if (mask[y * spec.width + x]) return true;
          return false;
        });
        if (hit) t.fail(`seed ${seed} frame ${i}: a lesion lies under the on-screen text`);
      }
    }
  }
  t.ok(checked > 100, `${checked} lesion frames checked`);
});

t.test('the generator is reproducible: same options, same annotations and pixels', async (t) => {
  const dir = tempDir('lumen-feed-');
  const one = await makeFeed(join(dir, 'one.mkv'), OPTS);
  const two = await makeFeed(join(dir, 'two.mkv'), OPTS);
  const strip = (p: string) => readFileSync(p, 'utf8').replace(/"video":"[^"]+"/, '');
  t.equal(strip(one.annotations), strip(two.annotations), 'annotation files are identical');
  const spec = makeSceneSpec(OPTS);
  const frame = (i: number) => {
    const f = new SceneRenderer(spec).render(i).data;
    new OnScreenDisplay(spec).draw(f, i);
    return f;
  };
  t.equal(Buffer.from(frame(17)).toString('base64'), Buffer.from(frame(17)).toString('base64'), 'a frame renders to the same bytes');
  // The clock line (7th region: after the two edge lines, ID, name, sex/age and date) sits on black.
  const clock = new OnScreenDisplay(spec).regions[6];
  const clockPixels = (f: Uint8Array) => {
    const out: number[] = [];
    for (let y = clock.y; y < clock.y + clock.height; y++) for (let x = clock.x; x < clock.x + clock.width; x++) out.push(f[(y * spec.width + x) * 4]);
    return out.join(',');
  };
  t.equal(clockPixels(frame(0)), clockPixels(frame(5)), 'the clock shows the same second within a second');
  t.not(clockPixels(frame(0)), clockPixels(frame(20)), 'and advances two seconds later');
});
