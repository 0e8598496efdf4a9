// The worker thread beside the frame loop (util/worker-calls.ts): it runs ROI detection on a
// frame in shared memory and answers each request.
import { parentPort } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import type { Frame } from '../frame.js';
import { findActiveArea } from '../roi/active-area.js';

/** A frame in shared memory: width × height × 4 RGBA bytes from `offset` of `pixels`. */
export interface SharedFrame {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: SharedArrayBuffer;
  readonly offset: number;
}

export type FrameWorkRequest = { readonly kind: 'detect'; readonly frame: SharedFrame };

function frameOf(f: SharedFrame): Frame {
  return { id: f.id, ts: 0, width: f.width, height: f.height, data: new Uint8Array(f.pixels, f.offset, f.width * f.height * 4) };
}

function handle(req: FrameWorkRequest): unknown {
  return findActiveArea(frameOf(req.frame));
}

parentPort?.on('message', (m: { seq: number; req: FrameWorkRequest }) => {
  try {
    parentPort!.postMessage({ seq: m.seq, res: handle(m.req) });
  } catch (err) {
    parentPort!.postMessage({ seq: m.seq, error: messageOf(err) });
  }
});
