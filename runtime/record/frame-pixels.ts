import type { Rect } from '../frame.js';
import type { ConditionedFrame } from '../pipeline/condition.js';
import { splitReasons, type GatedReasons } from '../quality/gate-reasons.js';

/**
 * What the recorder needs of a processed frame. The pixels are a ConditionedFrame, which only
 * conditioning makes: a frame that was not conditioned cannot be recorded.
 */
export interface RecordSource {
  /** After conditioning: privacy masks black and, with roi.blackOutside, the outside of the area too. */
  frame: ConditionedFrame;
  /** The ROI the models looked at (frame pixels). */
  roi: Rect;
  /** The gate's reason; `no-picture` means no active area was found, so nothing outside was blacked. */
  gated: GatedReasons | null;
}

/**
 * The pixels a recording may hold: the conditioned frame the models saw, and never more. With ROI
 * extraction on, the models saw only the ROI: nothing outside it is evidence of what they
 * decided, and it is where the processor burns in patient text, so it is not recorded either. When
 * conditioning did not black out the outside of the active area (no area found yet, or
 * roi.blackOutside off), the burned-in text beside the picture is still in the frame, so the
 * recorder blacks it out itself: a whole black frame when there is no area, the outside of the
 * ROI's rectangle otherwise. The default path (blackOutside, an area found) costs nothing here:
 * the frame's own bytes go to the encoder, uncopied; nothing writes them after conditioning.
 */
export class RecordPixels {
  /** All black, never written: it may be handed to the encoder again and again. */
  private black: Uint8Array | null = null;

  constructor(private readonly roi: { enabled: boolean; blackOutside: boolean }) {}

  of(src: RecordSource): Uint8Array {
    const f = src.frame;
    const bytes = f.width * f.height * 4;
    if (this.roi.enabled && src.gated !== null && splitReasons(src.gated).includes('no-picture')) {
      if (this.black?.length !== bytes) this.black = new Uint8Array(bytes);
      return this.black;
    }
    if (!this.roi.enabled || this.roi.blackOutside) return f.data;
    // A new buffer each time: the encoder keeps each one it is handed until it has encoded it.
    const out = new Uint8Array(bytes);
    const { x, y, width, height } = src.roi;
    const stride = f.width * 4;
    for (let row = y; row < y + height; row++) {
      const at = row * stride + x * 4;
      out.set(f.data.subarray(at, at + width * 4), at);
    }
    return out;
  }
}
