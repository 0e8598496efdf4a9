import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerCalls } from '../util/worker-calls.js';
import type { Frame } from '../frame.js';
import type { FrameWorkRequest, SharedFrame } from './worker-thread.js';

/** A worker thread running worker-thread.ts (compiled .js or source .ts alike, as this module runs). */
export function frameWorker<Res>(what: string, onFailure: (why: string) => void): WorkerCalls<FrameWorkRequest, Res> {
  const ext = extname(fileURLToPath(import.meta.url));
  return new WorkerCalls<FrameWorkRequest, Res>(new URL(`./worker-thread${ext}`, import.meta.url), what, onFailure);
}

/** The frame as a worker reads it where it lies, or null when its bytes are not in shared memory. */
export function sharedFrame(frame: Frame): SharedFrame | null {
  const pixels = frame.data.buffer;
  return pixels instanceof SharedArrayBuffer ? { id: frame.id, width: frame.width, height: frame.height, pixels, offset: frame.data.byteOffset } : null;
}
