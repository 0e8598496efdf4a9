// The worker thread of background-detector.ts: finds the active area of the frame it is handed,
// in the shared buffer the main thread copied it into, and posts the area back.
import { parentPort } from 'node:worker_threads';
import { findActiveArea } from './active-area.js';

/** A detection request: the frame's pixels are the first width × height × 4 bytes of `pixels`. */
export interface DetectRequest {
  readonly seq: number;
  readonly width: number;
  readonly height: number;
  readonly pixels: SharedArrayBuffer;
}

parentPort?.on('message', (m: DetectRequest) => {
  const data = new Uint8Array(m.pixels, 0, m.width * m.height * 4);
  parentPort!.postMessage({ seq: m.seq, area: findActiveArea({ id: m.seq, ts: 0, width: m.width, height: m.height, data }) });
});
