/**
 * A captured video frame. Pixels are RGBA, 8 bits per channel, rows packed (stride = width × 4):
 * RGBA is chosen over RGB because GStreamer pads RGB rows to 4 bytes, which would make the
 * stride depend on the width.
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
}

/** An axis-aligned rectangle in pixels; x, y is the top-left corner. */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}
