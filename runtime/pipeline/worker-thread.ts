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
  /** Each model's input from the frame cropped to `crop`, written into its `out` (shared memory). */
  | { readonly kind: 'prepare'; readonly frame: SharedFrame; readonly crop: Rect; readonly inputs: readonly { spec: InputSpec; out: Float32Array }[] };

function frameOf(f: SharedFrame): Frame {
  return { id: f.id, ts: 0, width: f.width, height: f.height, data: new Uint8Array(f.pixels, f.offset, f.width * f.height * 4) };
}

function handle(req: FrameWorkRequest): unknown {
  if (req.kind === 'detect') return findActiveArea(frameOf(req.frame));
  const frame = frameOf(req.frame);
  for (const { spec, out } of req.inputs) preprocess(frame, spec, req.crop, out);
  return null;
}

parentPort?.on('message', (m: { seq: number; req: FrameWorkRequest }) => {
  try {
    parentPort!.postMessage({ seq: m.seq, res: handle(m.req) });
  } catch (err) {
    parentPort!.postMessage({ seq: m.seq, error: messageOf(err) });
  }
});
