import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeFeed, type MadeFeed } from '../../runtime/feed/make-feed.js';
import { loadAnnotations, type Annotations } from '../../runtime/annotations.js';
import { tempDir } from './daemon.js';

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

/** A short demo-schedule feed (two lesion episodes), made once per test file. */
export async function shortDemoFeed(seconds = 12, fps = 10): Promise<MadeFeed & { annotations: string; parsed: Annotations }> {
  const dir = tempDir('lumen-feed-');
  const video = join(dir, 'demo-short.mkv');
  const made = existsSync(video)
    ? { video, annotations: video.replace('.mkv', '.annotations.json'), frames: 0 }
    : await makeFeed(video, { width: 320, height: 240, fps, seconds, seed: 3, episodes: 'demo' });
  return { ...made, parsed: await loadAnnotations(made.annotations) };
}
