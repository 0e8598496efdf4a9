import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { annotationsPathFor, encodeRle, type Annotations } from '../annotations.js';
import { FeedWriter } from './feed-writer.js';
import { OnScreenDisplay } from './osd.js';
import { SceneRenderer } from './scene.js';
import { makeSceneSpec, type FeedOptions } from './schedule.js';

export interface MadeFeed {
  video: string;
  annotations: string;
  frames: number;
}

/**
 * Renders a synthetic feed to `out` (.mkv or .avi) and writes its annotations beside it.
 * The on-screen text (`o.osd`, default on) is burned in after each frame is rendered, so masks
 * and labels are those of the scene alone. `onProgress(done, total)` is called after each frame.
 */
export async function makeFeed(out: string, o: FeedOptions, onProgress?: (done: number, total: number) => void): Promise<MadeFeed> {
  const spec = makeSceneSpec(o);
  await mkdir(dirname(out), { recursive: true });
  const renderer = new SceneRenderer(spec);
  const osd = o.osd === false ? null : new OnScreenDisplay(spec);
  const writer = FeedWriter.open(out, spec.width, spec.height, spec.fps);
  const frames: Annotations['frames'] = [];
  for (let i = 0; i < spec.frames; i++) {
    const f = renderer.render(i);
    osd?.draw(f.data, i);
    writer.write(f.data);
    frames.push({
      index: i,
      label: f.label,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.mask ? { mask: encodeRle(f.mask, spec.width, spec.height) } : {}),
    });
    onProgress?.(i + 1, spec.frames);
  }
  await writer.close();
  const annotations: Annotations = {
    version: 1,
    video: basename(out),
    width: spec.width,
    height: spec.height,
    fps: spec.fps,
    frameCount: spec.frames,
    activeArea: spec.activeArea,
    ...(osd ? { textRegions: osd.regions.map((r) => ({ ...r })) } : {}),
    source: { generator: 'lumen feed make', ...o, osd: osd !== null, episodes: spec.episodes.map((e) => ({ kind: e.kind, start: e.start, end: e.end })) },
    frames,
  };
  const path = annotationsPathFor(out);
  await writeFile(path, JSON.stringify(annotations) + '\n');
  return { video: out, annotations: path, frames: spec.frames };
}
