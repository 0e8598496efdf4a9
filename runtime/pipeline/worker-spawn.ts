import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerCalls } from '../util/worker-calls.js';
import type { FrameWorkRequest } from './worker-thread.js';

/** A worker thread running worker-thread.ts (compiled .js or source .ts alike, as this module runs). */
export function frameWorker<Res>(what: string, onFailure: (why: string) => void): WorkerCalls<FrameWorkRequest, Res> {
  const ext = extname(fileURLToPath(import.meta.url));
  return new WorkerCalls<FrameWorkRequest, Res>(new URL(`./worker-thread${ext}`, import.meta.url), what, onFailure);
}
