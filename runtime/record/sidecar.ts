import { basename } from 'node:path';
import type { Rect } from '../frame.js';
import type { RecordingInfo } from './catalogue.js';

/** The appliance's decision on one recorded frame; `box` in the recording's own pixels. */
export interface FrameDecision {
  score: number | null;
  smoothed: number | null;
  alert: boolean;
  gated: string | null;
  box: Rect | null;
}

/** One line of a sidecar's `appliance.frames`: the frame's place in the file, its id and time. */
export interface ApplianceFrame extends FrameDecision {
  index: number;
  frameId: number;
  ts: number;
}

/** What made the decisions, for the record (models, decision settings, product version). */
export interface DecisionContext {
  models: { id: string; version: string }[];
  decision: Record<string, number>;
  product: string;
}

const r6 = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e6);

/**
 * The recording's annotation file (format v1, runtime/feed/annotations.ts): no truth yet
 * (`labelled: false`, `frames` empty, for a QA engineer to fill in), and the appliance's own
 * decision on every frame in `appliance.frames`, which `lumen replay` compares a new run with.
 * One frame per line, so that a diff shows what changed.
 */
export function sidecarJson(r: RecordingInfo, frames: readonly ApplianceFrame[], ctx: DecisionContext): string {
  const spanS = frames.length > 1 ? (frames[frames.length - 1].ts - frames[0].ts) / 1000 : 0;
  // The mean rate of what was recorded: alert timings in a replay are counted in it.
  const fps = spanS > 0 ? Math.round(((frames.length - 1) / spanS) * 1000) / 1000 : 1;
  const head = {
    version: 1,
    video: basename(r.path),
    width: r.width,
    height: r.height,
    fps,
    frameCount: Math.max(1, frames.length),
    labelled: false,
    source: { generator: 'lumen recorder', product: ctx.product, recording: r.id, kind: r.kind, codec: r.codec },
    frames: [],
  };
  const appliance = {
    models: ctx.models,
    decision: ctx.decision,
    ...(r.alert ? { alert: r.alert } : {}),
  };
  const lines = frames.map((f) =>
    JSON.stringify({ index: f.index, frameId: f.frameId, ts: f.ts, score: r6(f.score), smoothed: r6(f.smoothed), alert: f.alert, gated: f.gated, box: f.box }),
  );
  const top = JSON.stringify(head, null, 1).slice(0, -2);
  const app = JSON.stringify(appliance).slice(0, -1);
  return `${top},\n "appliance": ${app},"frames": [\n${lines.join(',\n')}\n]}\n}\n`;
}
