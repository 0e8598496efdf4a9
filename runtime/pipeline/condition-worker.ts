import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorkerCalls } from '../util/worker-calls.js';
import type { ConditionRequest } from './condition-thread.js';

/** A worker thread running condition-thread.ts (compiled .js or source .ts alike, as this module runs). */
export function conditionWorker<Res>(what: string, onFailure: (why: string) => void): WorkerCalls<ConditionRequest, Res> {
  const ext = extname(fileURLToPath(import.meta.url));
  return new WorkerCalls<ConditionRequest, Res>(new URL(`./condition-thread${ext}`, import.meta.url), what, onFailure);
}
