import type { Rect } from '../frame.js';
import { seededRandom } from '../util/random.js';
import type { Episode, LesionSpec, SceneSpec } from './scene.js';

export interface FeedOptions {
  width: number;
  height: number;
  fps: number;
  seconds: number;
  seed: number;
  /** `demo`: two lesions and heavy bleeding, on a fixed schedule; `full`: lesions and ungradable episodes. */
  episodes: 'demo' | 'full';
  /** Burn the video processor's on-screen text into the frames (makeFeed; default true). */
  osd?: boolean;
  /**
   * `full` schedule: a trickle of blood beside every other lesion (default true). A feed that
   * measures the models on lesions alone turns it off: colour-driven models score the blood.
   */
  trickles?: boolean;
  /** `demo` schedule: heavy bleeding before the first lesion (default true). */
  bleeding?: boolean;
}

/** Where the scope's picture sits: right of centre, leaving the left for the processor's text. */
export function defaultActiveArea(width: number, height: number): Rect {
  const h = Math.round(height * 0.9);
  const w = Math.min(Math.round(h * 1.08), Math.round(width * 0.72));
  return { x: width - w - Math.round(width * 0.04), y: Math.round((height - h) / 2), width: w, height: h };
}

function lesion(rand: () => number, palette: 'red' | 'any'): LesionSpec {
  const pale = palette === 'any' && rand() < 0.25;
  const color: [number, number, number] = pale ? [0.93, 0.78, 0.74] : [0.62 + 0.12 * rand(), 0.18 + 0.1 * rand(), 0.22 + 0.1 * rand()];
  return {
    u: 0.3 + 0.4 * rand(),
    v: 0.3 + 0.4 * rand(),
    radius: palette === 'red' ? 0.1 + 0.06 * rand() : 0.05 + 0.12 * rand(),
    color,
    lobes: [0.12 * rand(), 0.08 * rand(), 0.05 * rand(), 0.03 * rand()],
    phase: rand() * Math.PI * 2,
  };
}

/**
 * Bleeding, drawn from its own random stream so that the other episodes of a seed stay where
 * they were: a trickle beside every other lesion (the first, third, …), and heavy bleeding that
 * fills most of the view in every other calm stretch of 2.5 s or more (the first one always).
 */
function bleedingEpisodes(episodes: readonly Episode[], frames: number, o: FeedOptions): Episode[] {
  const rand = seededRandom((o.seed ^ 0xb100d) >>> 0);
  const out: Episode[] = [];
  let lesions = 0,
    heavy = 0;
  for (const e of episodes) {
    if (e.kind !== 'lesion' || !e.lesion) continue;
    const peak = 0.06 + 0.12 * rand(),
      phase = rand() * 6.28,
      side = rand();
    if (lesions++ % 2 === 1 || o.trickles === false) continue;
    // The trickle runs down the side away from the lesion.
    const streamU = e.lesion.u < 0.5 ? 0.8 + 0.08 * side : 0.12 + 0.08 * side;
    out.push({ kind: 'bleeding', start: e.start, end: e.end, bleeding: { peak, streamU, phase } });
  }
  const bounds = [...episodes].sort((x, y) => x.start - y.start);
  for (let k = 0; k < bounds.length; k++) {
    const from = bounds[k].end,
      to = k + 1 < bounds.length ? bounds[k + 1].start : frames;
    const gap = to - from;
    if (gap < 2.5 * o.fps) continue;
    const take = heavy === 0 || rand() < 0.5;
    // It starts just after the previous event and leaves 1.2 s of calm view before the next one
    // (suction clears the field): an alert blood raised has time to clear before a lesion comes.
    const len = Math.min(gap - Math.round(1.4 * o.fps), Math.round(o.fps * (2.5 + rand())));
    const peak = 0.88 + 0.09 * rand(),
      streamU = 0.2 + 0.6 * rand(),
      phase = rand() * 6.28;
    if (!take) continue;
    heavy++;
    const start = from + Math.round(0.2 * o.fps);
    out.push({ kind: 'bleeding', start, end: start + len, bleeding: { peak, streamU, phase } });
  }
  return out;
}

/**
 * The demo's heavy bleeding: from 5 % to 17 % of the clip (2.9 s of a 24 s demo), in the calm
 * before the first lesion, so that no lesion alert is on when it starts and the view is calm for
 * 8 % of the clip before the lesion comes. Drawn from the bleeding stream: the lesions stay put.
 */
function demoBleeding(frames: number, o: FeedOptions): Episode {
  const rand = seededRandom((o.seed ^ 0xb100d) >>> 0);
  const bleeding = { peak: 0.88 + 0.09 * rand(), streamU: 0.2 + 0.6 * rand(), phase: rand() * 6.28 };
  return { kind: 'bleeding', start: Math.max(1, Math.round(0.05 * frames)), end: Math.round(0.17 * frames), bleeding };
}

/** Builds a reproducible scene: same options, same frames. */
export function makeSceneSpec(o: FeedOptions): SceneSpec {
  const rand = seededRandom(o.seed);
  const frames = Math.max(1, Math.round(o.seconds * o.fps));
  const episodes: Episode[] = [];
  if (o.episodes === 'demo') {
    // Two lesion episodes at fixed fractions of the clip, so tests know when to expect alerts.
    for (const [a, b] of [
      [0.25, 0.45],
      [0.65, 0.85],
    ]) {
      episodes.push({ kind: 'lesion', start: Math.round(a * frames), end: Math.round(b * frames), lesion: lesion(rand, 'red') });
    }
    if (o.bleeding !== false) episodes.push(demoBleeding(frames, o));
  } else {
    // Alternate calm stretches with events of 1–4 s; lesions twice as likely as any one artefact.
    const kinds = ['lesion', 'lesion', 'dark', 'overexposed', 'blur', 'bubbles'] as const;
    let f = Math.round(o.fps * (1 + rand() * 2));
    while (f < frames) {
      const kind = kinds[Math.floor(rand() * kinds.length)];
      const len = Math.round(o.fps * (kind === 'lesion' ? 2 + 2 * rand() : 0.6 + rand()));
      const end = Math.min(frames, f + len);
      episodes.push(kind === 'lesion' ? { kind, start: f, end, lesion: lesion(rand, 'any') } : { kind, start: f, end });
      f = end + Math.round(o.fps * (1.5 + 2 * rand()));
    }
    episodes.push(...bleedingEpisodes(episodes, frames, o));
  }
  return {
    width: o.width,
    height: o.height,
    fps: o.fps,
    frames,
    seed: o.seed,
    activeArea: defaultActiveArea(o.width, o.height),
    shape: 'octagon',
    motion: Math.min(o.width, o.height) * 0.03,
    episodes,
  };
}
