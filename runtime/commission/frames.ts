// commission/: `lumen commission`: proposes a site's roi section (active area, privacy masks over burned-in
// text) from frames of its video processor.
import { stat } from 'node:fs/promises';
import { Capture } from '../capture/capture.js';
import { listStills, loadStill } from '../calibration/stills.js';
import type { Config } from '../config/schema.js';
import { PIPELINES_DIR } from '../config/paths.js';
import { isLumenError, LumenError, messageOf } from '../errors.js';
import type { Frame } from '../frame.js';
import type { Logger } from '../log.js';

/**
 * Frames to commission a room from: a folder of stills, a recording (every frame decoded in
 * order, `count` of them kept evenly spread over the first `count × spacing`), or the live
 * capture of the site config (`count` frames, `spacing` apart).
 */
export async function commissionFrames(
  source: string | null,
  config: Readonly<Config>,
  count: number,
  log: Logger,
): Promise<{ frames: Frame[]; refused: { name: string; code: string; message: string }[]; from: string }> {
  if (source && (await stat(source).catch(() => null))?.isDirectory()) {
    const frames: Frame[] = [];
    const refused: { name: string; code: string; message: string }[] = [];
    const entries = await listStills(source);
    const step = Math.max(1, entries.length / count);
    for (let k = 0; k < Math.min(count, entries.length); k++) {
      const e = entries[Math.floor(k * step)];
      try {
        frames.push(await loadStill(e.image));
      } catch (err) {
        if (!isLumenError(err)) throw err;
        refused.push({ name: e.name, code: err.code, message: messageOf(err) });
      }
    }
    return { frames, refused, from: `folder ${source}` };
  }
  const opts = source
    ? { template: 'file-replay', params: { location: source }, mode: 'every-frame' as const }
    : { template: config.capture.pipeline, params: config.capture.params, mode: 'live' as const };
  let capture: Capture;
  try {
    capture = await Capture.open({ pipelinesDir: PIPELINES_DIR, ...opts, loop: false, readyTimeoutMs: config.capture.readyTimeoutMs }, log);
  } catch (err) {
    if (source && isLumenError(err) && (err.code === 'PIPELINE_START' || err.code === 'PIPELINE_RUNTIME')) {
      throw new LumenError(
        'FEED_INVALID',
        `${source}: not a folder of frames nor a video GStreamer can decode (${err.message})`,
        { path: source },
        { cause: err },
      );
    }
    throw err;
  }
  const frames: Frame[] = [];
  try {
    // Live: one frame every 10th, so the clock on the display moves and the picture changes.
    const spacing = source ? 3 : 10;
    for (let i = 0; frames.length < count; i++) {
      const f = await capture.next();
      if (!f) break;
      if (i % spacing === 0) frames.push({ ...f, data: new Uint8Array(f.data) });
    }
  } finally {
    capture.close();
  }
  return { frames, refused: [], from: source ? `recording ${source}` : `live capture (${config.capture.pipeline})` };
}
