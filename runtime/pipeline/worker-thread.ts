// The worker thread beside the frame loop (util/worker-calls.ts): it runs the steps that can go
// off the main thread on a frame in shared memory (ROI detection, the models' preprocessing) and
// answers each request.
import { parentPort } from 'node:worker_threads';
import { messageOf } from '../errors.js';
import type { Frame, Rect } from '../frame.js';
import { preprocess } from '../inference/preprocess.js';
import type { InputSpec } from '../models/manifest.js';
import { findActiveArea } from '../roi/active-area.js';

/** A frame in shared memory: width × height × 4 RGBA bytes from `offset` of `pixels`. */
export interface SharedFrame {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: SharedArrayBuffer;
  readonly offset: number;
}

export type FrameWorkRequest =
  | { readonly kind: 'detect'; readonly frame: SharedFrame }
  /**
   * Each model's input from the frame cropped to `crop`, written into its `out` (shared memory),
   * if the job is still on offer: `offer[0]` still holds `ticket`, which the worker then claims.
   * Answers whether it prepared them.
   */
  | {
      readonly kind: 'prepare';
      readonly frame: SharedFrame;
      readonly crop: Rect;
      readonly inputs: readonly { spec: InputSpec; out: Float32Array }[];
      readonly offer: Int32Array;
      readonly ticket: number;
    };

function frameOf(f: SharedFrame): Frame {
  return { id: f.id, ts: 0, width: f.width, height: f.height, data: new Uint8Array(f.pixels, f.offset, f.width * f.height * 4) };
}

function handle(req: FrameWorkRequest): unknown {
  if (req.kind === 'detect') return findActiveArea(frameOf(req.frame));
  // Taken back by the main thread (or a newer job on offer): the frame is not read.
  if (Atomics.compareExchange(req.offer, 0, req.ticket, -1) !== req.ticket) return false;
  const frame = frameOf(req.frame);
  for (const { spec, out } of req.inputs) preprocess(frame, spec, req.crop, out);
  return true;
}

parentPort?.on('message', (m: { seq: number; req: FrameWorkRequest }) => {
  try {
    parentPort!.postMessage({ seq: m.seq, res: handle(m.req) });
  } catch (err) {
    parentPort!.postMessage({ seq: m.seq, error: messageOf(err) });
  }
});
