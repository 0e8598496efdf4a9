import type { FrameHold } from './capture/frame-pool.js';

/**
 * A captured video frame. Pixels are RGBA, 8 bits per channel, rows packed (stride = width × 4):
 * RGBA is chosen over RGB because GStreamer pads RGB rows to 4 bytes, which would make the
 * stride depend on the width.
 *
 * On the live path GStreamer scales the source to the analysis size before JavaScript sees it:
 * `width` × `height` is then the analysis size and `full` the source's own size, which is what
 * every coordinate on the wire refers to (see frame-scale.ts).
 */
export interface Frame {
  /** Capture order, from 0, per capture session. */
  readonly id: number;
  /** Capture time, ms since the epoch (taken when the frame left GStreamer). */
  readonly ts: number;
  readonly width: number;
  readonly height: number;
  /** RGBA bytes, length width × height × 4. */
  readonly data: Uint8Array;
  /** The source's size before scaling; absent when the frame is the full picture. */
  readonly full?: Size;
  /**
   * Present when `data` is a reused buffer (the live capture, capture/frame-pool.ts): whatever
   * reads the pixels after the frame loop is done with the frame retains it first and releases
   * it when done; the frame loop releases its own lease when the frame is done.
   */
  readonly hold?: FrameHold;
}

export interface Size {
  readonly width: number;
  readonly height: number;
}

/** An axis-aligned rectangle in pixels; x, y is the top-left corner. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
