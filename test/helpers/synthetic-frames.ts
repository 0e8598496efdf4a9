import type { Frame, Rect } from '../../runtime/frame.js';
import { seededRandom } from '../../runtime/util/random.js';

// ---------- synthetic frames: textured pink picture on black, with text-like glyphs ----------

export const FONT: Record<string, string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '/': ['00001', '00010', '00010', '00100', '01000', '01000', '10000'],
  ':': ['00000', '01100', '01100', '00000', '01100', '01100', '00000'],
  C: ['01110', '10001', '10000', '10000', '10000', '10001', '01110'],
  V: ['10001', '10001', '10001', '10001', '10001', '01010', '00100'],
  P: ['11110', '10001', '10001', '11110', '10000', '10000', '10000'],
};

/** A frame whose picture is where inside(x, y) holds: pink mucosa-like texture with noise; black (0–5) elsewhere. */
export function makeFrame(width: number, height: number, inside: (x: number, y: number) => boolean, seed = 1): Frame {
  const data = new Uint8Array(width * height * 4);
  const rand = seededRandom(seed);
  const c = (v: number): number => Math.max(0, Math.min(255, Math.round(v)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i + 3] = 255;
      if (!inside(x, y)) {
        const n = Math.floor(rand() * 6);
        data[i] = n;
        data[i + 1] = n;
        data[i + 2] = n;
        continue;
      }
      const tex = Math.sin(x / 13) * Math.cos(y / 17) + 0.5 * Math.sin((x + y) / 7);
      const n = (rand() - 0.5) * 20;
      data[i] = c(190 + 30 * tex + n);
      data[i + 1] = c(100 + 25 * tex + n);
      data[i + 2] = c(95 + 20 * tex + n);
    }
  }
  return { id: 0, ts: 0, width, height, data };
}

/** Draws white 5×7 glyphs at scale s with a 1-px black outline, as a processor's OSD does; returns the box. */
export function drawText(f: Frame, text: string, x0: number, y0: number, s: number): Rect {
  const paint = (x: number, y: number, v: number): void => {
    if (x < 0 || y < 0 || x >= f.width || y >= f.height) return;
    const i = (y * f.width + x) * 4;
    f.data[i] = v;
    f.data[i + 1] = v;
    f.data[i + 2] = v;
  };
  const px: [number, number][] = [];
  for (let k = 0; k < text.length; k++) {
    const g = FONT[text[k]];
    if (!g) continue;
    for (let r = 0; r < 7; r++)
      for (let c = 0; c < 5; c++)
        if (g[r][c] === '1') {
          for (let yy = 0; yy < s; yy++) for (let xx = 0; xx < s; xx++) px.push([x0 + k * 6 * s + c * s + xx, y0 + r * s + yy]);
        }
  }
  for (const [x, y] of px) for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) paint(x + dx, y + dy, 8);
  for (const [x, y] of px) paint(x, y, 245);
  return { x: x0 - 1, y: y0 - 1, width: text.length * 6 * s - s + 2, height: 7 * s + 2 };
}
