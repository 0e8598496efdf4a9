import type { Rect } from '../frame.js';
import { seededRandom } from '../util/random.js';
import { ADVANCE, GLYPH_H, GLYPH_W, glyph } from './font5x7.js';
import { activeAreaMask, type SceneSpec } from './scene.js';

/**
 * The video processor's on-screen display, burned into synthetic frames as real processors do:
 * patient and study data in the black border on the left, and two lines that run over the edge
 * of the picture. Drawn after the scene is rendered, so it never changes a lesion mask or label.
 * Everything comes from the seed: the same feed has the same (fake) patient every time.
 */

/** Where one line of burned-in text sits, in frame pixels (its drop shadow included). */
export interface TextRegion extends Rect {
  /** True when the whole line lies on the black border, false when it covers part of the picture. */
  readonly onBorder: boolean;
}

interface OsdLine {
  x: number;
  y: number;
  maxChars: number;
  text: (index: number) => string;
}

const INK = 235;
const SHADOW = 16;
const FAMILY = ['DOE', 'ROE', 'POE', 'MOE', 'LOE', 'NOE'];
const GIVEN = ['JANE', 'JOHN', 'ALEX', 'SAM', 'KIM', 'LEE', 'ROBIN'];

/** Burned-in text of one feed: layout fixed per spec, the clocks advance with the frame index. */
export class OnScreenDisplay {
  /** Pixels per font pixel: 1 up to 479 lines, 2 at 480, 3 at 720, 4 at 1080. */
  readonly scale: number;
  readonly regions: readonly TextRegion[];
  private readonly lines: OsdLine[] = [];

  constructor(private readonly spec: SceneSpec) {
    const { width: W, height: H, activeArea: a, fps } = spec;
    const s = (this.scale = Math.max(1, Math.floor(H / 240)));
    const adv = ADVANCE * s;
    const lineH = (GLYPH_H + 3) * s;
    const margin = Math.max(2, Math.round(W * 0.012));
    const rand = seededRandom((spec.seed ^ 0x05d05d) >>> 0);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 10)).join('');
    const name = `${pick(FAMILY)}^${pick(GIVEN)}`;
    const id = `ID:${digits(7)}`;
    const sexAge = `${pick(['F', 'M'])} ${40 + Math.floor(rand() * 45)}Y`;
    const date = `${2023 + Math.floor(rand() * 3)}/${pad(1 + Math.floor(rand() * 12))}/${pad(1 + Math.floor(rand() * 28))}`;
    const start = 8 * 3600 + Math.floor(rand() * 8 * 3600);
    const clock = (i: number) => hms(start + Math.floor(i / fps));
    const elapsed = (i: number) => `REC ${hms(Math.floor(i / fps))}  ZOOM x1.0`;
    const scope = pick(['GIF-H290', 'GIF-HQ190', 'EG-760Z', 'EG-29i10']);
    const enh = `ENH:${pick(['A', 'B'])}${1 + Math.floor(rand() * 8)} CE:${Math.floor(rand() * 3)}`;
    const room = `ENDO ROOM ${1 + Math.floor(rand() * 6)}  DR ${pick(FAMILY)}`;

    const edgeH = GLYPH_H * s;
    // Two lines straddling the picture's top and bottom edges, starting on the border. They
    // cover the outer 2–3 % of the picture's height, where no lesion reaches: schedule.ts keeps
    // lesion centres in the middle 40 % and radii (with lobes and camera drift) below 26 %.
    const edgeX = Math.max(margin, a.x - 4 * adv);
    const edgeChars = Math.max(0, Math.floor((a.x + a.width / 2 - edgeX) / adv));
    const topEdgeY = Math.max(0, a.y - Math.floor(edgeH / 2));
    const bottomEdgeY = Math.min(H - edgeH - s, a.y + a.height - Math.ceil(edgeH / 2));
    this.lines.push({ x: edgeX, y: topEdgeY, maxChars: edgeChars, text: elapsed });
    this.lines.push({ x: edgeX, y: bottomEdgeY, maxChars: edgeChars, text: () => room });

    // The patient block in the left border, top, and the settings block, bottom.
    const leftChars = Math.floor((a.x - 2 * margin) / adv);
    if (leftChars >= 6) {
      const top = [id, name, sexAge, date, clock];
      const bottom = ['EGD', scope, enh, 'IRIS:PEAK'];
      const y0 = topEdgeY + edgeH + 2 * lineH;
      top.forEach((t, k) => this.lines.push({ x: margin, y: y0 + k * lineH, maxChars: leftChars, text: typeof t === 'string' ? () => t : t }));
      const y1 = bottomEdgeY - lineH - bottom.length * lineH;
      if (y1 > y0 + top.length * lineH) bottom.forEach((t, k) => this.lines.push({ x: margin, y: y1 + k * lineH, maxChars: leftChars, text: () => t }));
    }

    const inside = activeAreaMask(spec);
    this.regions = this.lines
      .filter((l) => l.maxChars > 0)
      .map((l) => {
        const chars = Math.min(l.maxChars, Math.max(...[0, 1].map((i) => l.text(i).length)));
        const width = Math.min(W - l.x, (chars * ADVANCE - 1) * s + s);
        const height = Math.min(H - l.y, edgeH + s);
        return { x: l.x, y: l.y, width, height, onBorder: !touches(inside, W, { x: l.x, y: l.y, width, height }) };
      });
  }

  /** Burns the text of frame `index` into RGBA `data` (the whole frame, spec.width × spec.height). */
  draw(data: Uint8Array, index: number): void {
    for (const l of this.lines) {
      if (l.maxChars <= 0) continue;
      const text = l.text(index).slice(0, l.maxChars);
      // Shadow first (one font pixel down and right), then the ink: legible over bright mucosa.
      this.drawText(data, text, l.x + this.scale, l.y + this.scale, SHADOW);
      this.drawText(data, text, l.x, l.y, INK);
    }
  }

  private drawText(data: Uint8Array, text: string, x0: number, y0: number, value: number): void {
    const { width: W, height: H } = this.spec;
    const s = this.scale;
    for (let c = 0; c < text.length; c++) {
      const g = glyph(text[c]);
      const gx = x0 + c * ADVANCE * s;
      for (let r = 0; r < GLYPH_H; r++) {
        for (let q = 0; q < GLYPH_W; q++) {
          if (!g[r * GLYPH_W + q]) continue;
          for (let dy = 0; dy < s; dy++) {
            const y = y0 + r * s + dy;
            if (y < 0 || y >= H) continue;
            for (let dx = 0; dx < s; dx++) {
              const x = gx + q * s + dx;
              if (x < 0 || x >= W) continue;
              const o = (y * W + x) * 4;
              data[o] = value;
              data[o + 1] = value;
              data[o + 2] = value;
            }
          }
        }
      }
    }
  }
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function hms(t: number): string {
  return `${pad(Math.floor(t / 3600) % 24)}:${pad(Math.floor(t / 60) % 60)}:${pad(t % 60)}`;
}

function touches(inside: Uint8Array, w: number, r: Rect): boolean {
  for (let y = r.y; y < r.y + r.height; y++) {
    for (let x = r.x; x < r.x + r.width; x++) if (inside[y * w + x]) return true;
  }
  return false;
}
