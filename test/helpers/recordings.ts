import { spawnSync } from 'node:child_process';
import { Capture } from '../../runtime/capture/capture.js';
import { PIPELINES_DIR } from '../../runtime/config/paths.js';
import type { Frame } from '../../runtime/frame.js';
import { createLogger } from '../../runtime/log.js';

/**
 * Decodes a recording with GStreamer (the file-replay template, every frame, no scaling) and
 * hands each frame to `each`; resolves with the number of frames.
 */
export async function decodeRecording(path: string, each: (f: Frame, index: number) => void = () => {}): Promise<number> {
  const cap = await Capture.open(
    {
      pipelinesDir: PIPELINES_DIR,
      template: 'file-replay',
      params: { location: path },
      mode: 'every-frame',
      loop: false,
      readyTimeoutMs: 20_000,
      analysis: null,
    },
    createLogger('test', 'silent'),
  );
  let n = 0;
  try {
    for await (const f of cap) each(f, n++);
  } finally {
    cap.close();
  }
  return n;
}

/** Blocks of a Matroska file as its demuxer reports them: how many, and how many are delta (not key) frames. */
export function blockFlags(path: string): { blocks: number; deltas: number } {
  const r = spawnSync('gst-launch-1.0', ['-v', 'filesrc', `location=${path}`, '!', 'matroskademux', '!', 'identity', 'silent=false', '!', 'fakesink'], {
    encoding: 'utf8',
  });
  const chains = r.stdout.split('\n').filter((l) => l.includes('chain'));
  return { blocks: chains.length, deltas: chains.filter((l) => /flags: [^,]*delta-unit/.test(l)).length };
}

/** Mean of the first channel (red) over a rectangle of an RGBA frame. */
export function meanRed(f: Frame, x: number, y: number, w: number, h: number): number {
  let sum = 0;
  for (let row = y; row < y + h; row++) for (let col = x; col < x + w; col++) sum += f.data[(row * f.width + col) * 4];
  return sum / (w * h);
}
