import type { Rect } from '../frame.js';
import type { OverlayGeometry } from '../publish/protocol.js';
import { geometryMaps } from './geometry.js';
import { renderOverlay } from './render.js';

/**
 * An overlay message's geometry drawn as a full-frame RGBA image: the daemon's optional PNG
 * payload and a monitor's own rendering (`lumen watch --save-overlays`) are this one function.
 */
export function renderGeometry(o: { width: number; height: number; geometry: OverlayGeometry; box: Rect | null; alert: boolean }): Uint8Array {
  const { mask, attention, rect } = geometryMaps(o.geometry);
  return renderOverlay({
    width: o.width,
    height: o.height,
    roi: rect ?? { x: 0, y: 0, width: o.width, height: o.height },
    mask,
    maskThreshold: 0.5,
    attention,
    box: o.box,
    alert: o.alert,
  });
}
