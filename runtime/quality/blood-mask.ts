import type { Frame } from '../frame.js';
import { spanAt, type ActiveArea } from '../roi/active-area.js';
import { CELL_LIMITS } from './regions.js';

/**
 * Blood is not tissue: a pure function that blacks out blood-coloured pixels inside the active
 * area (the gate's blood colour, regions.ts: red ≥ 45, green ≤ 0.2·red, blue ≤ 0.45·red), as the
 * border is blacked out, so that a colour-driven classifier does not score a trickle of blood as
 * a lesion. Red lesions keep green at 0.25–0.7 of red and are left alone. Returns the pixels
 * blacked out. Deliberately not in the frame path (it would change what a clinical model sees):
 * docs/conditioning.md, Bleeding, says why.
 */
export function blackOutBlood(frame: Frame, area: ActiveArea): number {
  const { width: W, data } = frame;
  const gr = CELL_LIMITS.bloodMaxGreenRatio,
    br = CELL_LIMITS.bloodMaxBlueRatio,
    minR = CELL_LIMITS.bloodMinRed;
  let n = 0;
  for (let y = area.rect.y; y < area.rect.y + area.rect.height; y++) {
    const span = spanAt(area, y);
    if (!span) continue;
    for (let x = Math.max(0, span[0]), i = (y * W + x) * 4; x <= Math.min(W - 1, span[1]); x++, i += 4) {
      const r = data[i];
      if (r >= minR && data[i + 1] <= gr * r && data[i + 2] <= br * r) {
        data[i] = 0;
        data[i + 1] = 0;
        data[i + 2] = 0;
        n++;
      }
    }
  }
  return n;
}
