import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeFeed, type MadeFeed } from '../../runtime/feed/make-feed.js';
import { loadAnnotations, type Annotations } from '../../runtime/annotations.js';
import { ROOT } from './daemon.js';

/** Lesion episodes as [first, last] frame indices, read from the annotations. */
export function lesionEpisodes(a: Annotations): [number, number][] {
  const eps: [number, number][] = [];
  const labels = new Map(a.frames.map((f) => [f.index, f.label]));
  for (let i = 0; i < a.frameCount; i++) {
    if (labels.get(i) !== 'egc') continue;
    const last = eps.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else eps.push([i, i]);
  }
  return eps;
}

/** Where made feeds are kept between test files and runs (var/ is not committed). */
const FEED_CACHE = join(ROOT, 'var', 'cache', 'test-feeds');

/** What a feed's pixels depend on: the generator's sources and the options it was made with. */
function feedKey(options: object): string {
  const hash = createHash('sha256').update(JSON.stringify(options));
  const sources = [join(ROOT, 'runtime', 'annotations.ts'), join(ROOT, 'runtime', 'util', 'random.ts')];
  for (const f of readdirSync(join(ROOT, 'runtime', 'feed')).sort()) sources.push(join(ROOT, 'runtime', 'feed', f));
  for (const f of sources) hash.update(readFileSync(f));
  return hash.digest('hex').slice(0, 16);
}

/**
 * A short demo-schedule feed (two lesion episodes), made once and kept under var/cache for every
 * test file that asks for the same one, until the generator changes. Tests copy it before
 * altering it.
 */
export async function shortDemoFeed(seconds = 12, fps = 10): Promise<MadeFeed & { annotations: string; parsed: Annotations }> {
  const options = { width: 320, height: 240, fps, seconds, seed: 3, episodes: 'demo' } as const;
  const dir = join(FEED_CACHE, feedKey(options));
  const video = join(dir, 'demo-short.mkv');
  const annotations = join(dir, 'demo-short.annotations.json');
  if (!existsSync(annotations)) {
    // Made aside and moved in whole: test files running at once never see half a feed.
    mkdirSync(FEED_CACHE, { recursive: true });
    const aside = mkdtempSync(join(FEED_CACHE, 'making-'));
    await makeFeed(join(aside, 'demo-short.mkv'), options);
    try {
      renameSync(aside, dir);
    } catch {
      // Another test file moved in the same feed first.
      rmSync(aside, { recursive: true, force: true });
    }
  }
  const parsed = await loadAnnotations(annotations);
  return { video, annotations, frames: parsed.frameCount, parsed };
}
