import { join } from 'node:path';
import { FeedWriter } from '../../runtime/feed/feed-writer.js';
import type { Rect } from '../../runtime/frame.js';

/** A short MJPEG feed that shows one RGBA image `frames` times. */
export async function stillFeed(dir: string, img: { width: number; height: number; data: Uint8Array }, frames = 20, fps = 10): Promise<string> {
  const path = join(dir, 'still.mkv');
  const w = FeedWriter.open(path, img.width, img.height, fps, 95);
  for (let i = 0; i < frames; i++) w.write(img.data);
  await w.close();
  return path;
}

/** Plants burned-in-style text: white glyph strokes with dark outlines, filling `r`. */
export function plantText(data: Uint8Array, width: number, r: Rect): void {
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) {
      const gx = (x - r.x) % 8;
      const gy = (y - r.y) % 12;
      const stroke = gy < 9 && (gx === 1 || gx === 4 || gy === 1 || gy === 4 || gy === 7) && gx < 6;
      const edge = gy < 10 && gx < 7;
      const o = (y * width + x) * 4;
      const v = stroke ? 255 : edge ? 10 : -1;
      if (v >= 0) data.set([v, v, v, 255], o);
    }
  }
}

/** Luma of a pixel. */
export const luma = (d: Uint8Array, o: number) => 0.299 * d[o] + 0.587 * d[o + 1] + 0.114 * d[o + 2];
