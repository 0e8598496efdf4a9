import type { Rect } from '../frame.js';
import type { UngradableReason } from '../quality/gate-reasons.js';
import { BLEEDING_UNGRADABLE, paintBleeding, type BleedingSpec } from './bleeding.js';
import { ValueNoise } from './value-noise.js';
import { seededRandom } from '../util/random.js';

/** A lesion: position and size relative to the active area, so it scales with the frame. */
export interface LesionSpec {
  /** Centre, 0…1 across the active area's width and height (at the episode's start). */
  readonly u: number;
  readonly v: number;
  /** Mean radius as a fraction of the active area's smaller side. */
  readonly radius: number;
  /** RGB 0…1 of the lesion surface. */
  readonly color: readonly [number, number, number];
  /** Border irregularity: amplitudes of harmonics 2, 3, 4, … of the radius. */
  readonly lobes: readonly number[];
  readonly phase: number;
}

export type EpisodeKind = 'lesion' | 'dark' | 'overexposed' | 'blur' | 'bubbles' | 'bleeding';

/** Something that happens on frames [start, end); a bleeding episode may overlap a lesion episode. */
export interface Episode {
  readonly kind: EpisodeKind;
  readonly start: number;
  readonly end: number;
  readonly lesion?: LesionSpec;
  readonly bleeding?: BleedingSpec;
}

const REASON_OF: Record<Exclude<EpisodeKind, 'lesion' | 'bleeding'>, UngradableReason> = {
  dark: 'dark',
  overexposed: 'overexposed',
  blur: 'blurred',
  bubbles: 'bubbles',
};

export type ActiveShape = 'octagon' | 'circle';

export interface SceneSpec {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly frames: number;
  readonly seed: number;
  /** The endoscope's picture inside the black frame. */
  readonly activeArea: Rect;
  readonly shape: ActiveShape;
  /** Camera drift in pixels (0 = still). */
  readonly motion: number;
  readonly episodes: readonly Episode[];
}

export type FrameLabel = 'egc' | 'normal' | 'ungradable';

export interface RenderedFrame {
  readonly data: Uint8Array;
  /** 1 where the lesion is, in frame coordinates; null when no lesion is in view. */
  readonly mask: Uint8Array | null;
  readonly label: FrameLabel;
  /** Why the frame is ungradable (label 'ungradable' only). */
  readonly reason?: UngradableReason;
  /** Share of the picture under blood, 0–1 (0 without a bleeding episode). */
  readonly blood: number;
}

const MUCOSA: readonly [number, number, number] = [0.86, 0.5, 0.46];

/** Renders frames of a scene; deterministic for a given spec. */
export class SceneRenderer {
  private readonly noise: ValueNoise;
  private readonly detail: ValueNoise;
  private readonly inside: Uint8Array;

  constructor(readonly spec: SceneSpec) {
    this.noise = new ValueNoise(spec.seed);
    this.detail = new ValueNoise(spec.seed + 7919);
    this.inside = activeAreaMask(spec);
  }

  /** Whether pixel (x, y) lies in the active area. */
  isInside(x: number, y: number): boolean {
    return this.inside[y * this.spec.width + x] === 1;
  }

  render(index: number): RenderedFrame {
    const { width: w, height: h, activeArea: a } = this.spec;
    const data = new Uint8Array(w * h * 4);
    const active = this.spec.episodes.filter((e) => index >= e.start && index < e.end);
    const lesionEp = active.find((e) => e.kind === 'lesion' && e.lesion);
    const t = index / this.spec.fps;
    const ox = this.spec.motion * (Math.sin(0.45 * t) + 0.4 * Math.sin(1.3 * t + 1));
    const oy = this.spec.motion * (Math.cos(0.35 * t) + 0.3 * Math.sin(0.9 * t));
    const minSide = Math.min(a.width, a.height);
    const scale = minSide / 400; // texture features scale with the picture
    const cx = a.x + a.width / 2;
    const cy = a.y + a.height / 2;
    const rmax2 = (a.width / 2) ** 2 + (a.height / 2) ** 2;
    const lesion = lesionEp?.lesion;
    const lx = lesion ? a.x + lesion.u * a.width - ox : 0;
    const ly = lesion ? a.y + lesion.v * a.height - oy : 0;
    const lr = lesion ? lesion.radius * minSide : 0;
    let mask: Uint8Array | null = lesion ? new Uint8Array(w * h) : null;
    let maskPixels = 0;
    const specs = speculars(this.spec, index);

    for (let y = a.y; y < a.y + a.height; y++) {
      for (let x = a.x; x < a.x + a.width; x++) {
        const p = y * w + x;
        if (this.inside[p] === 0) continue;
        const tx = (x + ox) / scale;
        const ty = (y + oy) / scale;
        const warp = this.noise.sample(tx / 70, ty / 70);
        const fold = 0.5 + 0.5 * Math.sin((tx * 0.8 + ty * 0.6) * 0.045 + 5 * warp);
        const shade = 0.72 + 0.28 * fold * fold;
        const grain = this.detail.sample(tx / 5, ty / 5) - 0.5;
        const dx = x - cx;
        const dy = y - cy;
        const vignette = 1 - 0.5 * ((dx * dx + dy * dy) / rmax2);
        let r = MUCOSA[0] * shade * (1 + 0.14 * grain);
        let g = MUCOSA[1] * shade * (1 + 0.2 * grain);
        let b = MUCOSA[2] * shade * (1 + 0.2 * grain);
        if (lesion) {
          const ex = x - lx;
          const ey = y - ly;
          const d = Math.sqrt(ex * ex + ey * ey);
          if (d < lr * 2) {
            const edge = lr * lobeFactor(lesion, Math.atan2(ey, ex));
            const alpha = Math.min(1, Math.max(0, (edge - d) / 2 + 0.5));
            if (alpha > 0) {
              const nod = 0.85 + 0.3 * this.detail.sample(tx / 9 + 40, ty / 9 + 40);
              r += (lesion.color[0] * nod * shade - r) * alpha;
              g += (lesion.color[1] * nod * shade - g) * alpha;
              b += (lesion.color[2] * nod * shade - b) * alpha;
              if (alpha >= 0.5) {
                mask![p] = 1;
                maskPixels++;
              }
            }
          }
        }
        let spec = 0;
        for (const s of specs) {
          const sx = x - s.x;
          const sy = y - s.y;
          const q = (sx * sx + sy * sy) / (s.r * s.r);
          if (q < 4) spec += Math.exp(-q * 2);
        }
        const o = p * 4;
        data[o] = clamp255((r * vignette + spec) * 255);
        data[o + 1] = clamp255((g * vignette + spec) * 255);
        data[o + 2] = clamp255((b * vignette + spec) * 255);
      }
    }
    for (let p = 3; p < data.length; p += 4) data[p] = 255;
    if (maskPixels === 0) mask = null;

    // Blood lies on the mucosa (and over a lesion under it: the lesion's truth is unchanged).
    let blood = 0;
    for (const e of active) {
      if (e.kind === 'bleeding' && e.bleeding) {
        const progress = (index - e.start) / Math.max(1, e.end - e.start);
        blood = Math.max(blood, paintBleeding(data, w, a, this.inside, e.bleeding, progress, t, this.detail));
      }
    }
    const reasons: UngradableReason[] = blood >= BLEEDING_UNGRADABLE ? ['bleeding'] : [];
    for (const e of active) {
      if (e.kind === 'dark') applyGain(data, 0.13, 0);
      else if (e.kind === 'overexposed') applyGain(data, 2.4, 60);
      else if (e.kind === 'blur') boxBlur(data, w, h, Math.max(3, Math.round(minSide / 45)), 3);
      else if (e.kind === 'bubbles') paintBubbles(data, this.spec, index);
      if (e.kind !== 'lesion' && e.kind !== 'bleeding') reasons.unshift(REASON_OF[e.kind]);
    }
    if (reasons.length) blackOutside(data, this.inside);
    const label: FrameLabel = reasons.length ? 'ungradable' : mask ? 'egc' : 'normal';
    return { data, mask, label, ...(reasons.length ? { reason: reasons[0] } : {}), blood };
  }
}

function lobeFactor(l: LesionSpec, theta: number): number {
  let f = 1;
  l.lobes.forEach((amp, k) => {
    f += amp * Math.sin((k + 2) * theta + l.phase * (k + 1));
  });
  return f;
}

function clamp255(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v;
}

/** 1 inside the active area (octagon or circle), 0 in the black frame around it. */
export function activeAreaMask(spec: Pick<SceneSpec, 'width' | 'height' | 'activeArea' | 'shape'>): Uint8Array {
  const { width: w, height: h, activeArea: a } = spec;
  const m = new Uint8Array(w * h);
  const hw = a.width / 2;
  const hh = a.height / 2;
  const cx = a.x + hw;
  const cy = a.y + hh;
  const cut = 0.3 * Math.min(hw, hh); // octagon corner cut
  for (let y = a.y; y < a.y + a.height; y++) {
    for (let x = a.x; x < a.x + a.width; x++) {
      const dx = Math.abs(x + 0.5 - cx);
      const dy = Math.abs(y + 0.5 - cy);
      const ok = spec.shape === 'circle' ? (dx * dx) / (hw * hw) + (dy * dy) / (hh * hh) <= 1 : dx + dy <= hw + hh - cut;
      if (ok && dx <= hw && dy <= hh) m[y * w + x] = 1;
    }
  }
  return m;
}

interface Spot {
  x: number;
  y: number;
  r: number;
}

/** Specular highlights: light reflections that move a little with the scope. */
function speculars(spec: SceneSpec, index: number): Spot[] {
  const a = spec.activeArea;
  const s = Math.min(a.width, a.height);
  const t = index / spec.fps;
  const base: [number, number, number][] = [
    [0.35, 0.3, 0.012],
    [0.62, 0.55, 0.009],
    [0.48, 0.72, 0.015],
    [0.7, 0.28, 0.007],
  ];
  return base.map(([u, v, r], i) => ({
    x: a.x + (u + 0.02 * Math.sin(t * 0.8 + i)) * a.width,
    y: a.y + (v + 0.02 * Math.cos(t * 0.6 + i)) * a.height,
    r: r * s,
  }));
}

function applyGain(data: Uint8Array, gain: number, offset: number): void {
  for (let i = 0; i < data.length; i += 4) {
    data[i] = clamp255(data[i] * gain + offset);
    data[i + 1] = clamp255(data[i + 1] * gain + offset);
    data[i + 2] = clamp255(data[i + 2] * gain + offset);
  }
}

function blackOutside(data: Uint8Array, inside: Uint8Array): void {
  for (let p = 0; p < inside.length; p++) {
    if (inside[p] === 0) {
      data[p * 4] = 0;
      data[p * 4 + 1] = 0;
      data[p * 4 + 2] = 0;
    }
  }
}

/** Separable running-sum box blur, repeated `passes` times (≈ Gaussian). */
function boxBlur(data: Uint8Array, w: number, h: number, radius: number, passes: number): void {
  const line = new Float32Array(Math.max(w, h) * 4);
  for (let pass = 0; pass < passes; pass++) {
    for (let y = 0; y < h; y++) blurLine(data, y * w * 4, 4, w, radius, line);
    for (let x = 0; x < w; x++) blurLine(data, x * 4, w * 4, h, radius, line);
  }
}

function blurLine(data: Uint8Array, start: number, step: number, n: number, radius: number, tmp: Float32Array): void {
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += data[start + Math.min(n - 1, Math.max(0, i)) * step + c];
    for (let i = 0; i < n; i++) {
      tmp[i] = sum / (2 * radius + 1);
      const add = Math.min(n - 1, i + radius + 1);
      const sub = Math.max(0, i - radius);
      sum += data[start + add * step + c] - data[start + sub * step + c];
    }
    for (let i = 0; i < n; i++) data[start + i * step + c] = tmp[i];
  }
}

/**
 * Bubbles: froth of small translucent circles with bright rims, as seen with mucus and water,
 * packed over nearly the whole view (bubbles over a quarter of it leave the rest gradable).
 */
function paintBubbles(data: Uint8Array, spec: SceneSpec, index: number): void {
  const { width: w, activeArea: a } = spec;
  const s = Math.min(a.width, a.height);
  const rand = seededRandom(spec.seed * 7919 + index * 104729);
  const count = 320;
  for (let k = 0; k < count; k++) {
    const bx = a.x + (0.02 + 0.96 * rand()) * a.width;
    const by = a.y + (0.02 + 0.96 * rand()) * a.height;
    const br = (0.015 + 0.04 * rand()) * s;
    const x0 = Math.max(0, Math.floor(bx - br - 1));
    const x1 = Math.min(w - 1, Math.ceil(bx + br + 1));
    const y0 = Math.max(0, Math.floor(by - br - 1));
    const y1 = Math.min(spec.height - 1, Math.ceil(by + br + 1));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const d = Math.hypot(x - bx, y - by) / br;
        if (d > 1.05) continue;
        const o = (y * w + x) * 4;
        const rim = Math.exp(-((d - 0.9) ** 2) / 0.004);
        const glint = Math.exp(-((x - bx + br * 0.35) ** 2 + (y - by + br * 0.35) ** 2) / (0.02 * br * br));
        const mix = Math.min(1, 0.25 + 0.75 * rim + glint);
        for (let c = 0; c < 3; c++) data[o + c] = clamp255(data[o + c] + (245 - data[o + c]) * mix);
      }
    }
  }
}
