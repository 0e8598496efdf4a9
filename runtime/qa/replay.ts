import { analysisOf, type Config } from '../config/schema.js';
import type { DecisionSettings } from '../decision/decision.js';
import type { Logger } from '../log.js';
import { agreement, type AgreementName } from './agreement.js';
import {
  computeMetrics,
  gateConfusion,
  matchAlerts,
  rocCurve,
  round6,
  withoutTruth,
  type AlertSpan,
  type EpisodeResult,
  type FrameRecord,
  type GateRow,
  type Metrics,
} from './metrics.js';
import { countPixels, maskToFrame, overlapScores, resampleMask } from './segmentation.js';
import { openSource, type SourceInfo } from './source.js';
import { openStages, type ReplayStages } from './stages.js';
import { WorstFrames, type WorstFrame } from './worst-frames.js';

export interface ReplayOptions {
  /** A video (with `X.annotations.json` beside it, or `annotations`) or a folder with images/ and masks/. */
  feed: string;
  annotations?: string;
  /** The daemon config whose inference, decision and overlay sections are replayed; capture is ignored. */
  config: Readonly<Config>;
  /** Nominal frame rate of a still-image set, for alert timings; default 1. */
  stillFps?: number;
  /** Seconds after a lesion episode's end in which an alert still counts for it; default 1. */
  matchWindowS?: number;
  /** How many worst frames the report shows; default 6 lesion and 3 normal frames. */
  worstFrames?: { lesion: number; normal: number };
  /** Called once the feed is open (frame count known). */
  onStart?: (source: SourceInfo) => void;
  /** Called after each frame. */
  onProgress?: (done: number, total: number) => void;
}

/** The operating settings a replay ran with; part of the deterministic report. */
export interface ReplaySettings {
  /** A frame counts as positive when its raw score reaches this (inference.segmentAbove: the live path's "suspicious"). */
  scoreThreshold: number;
  segmentAbove: number;
  maskThreshold: number;
  matchWindowS: number;
  /** Whether the config runs ROI extraction and the quality gate before the models. */
  roi: boolean;
  qualityGate: boolean;
  decision: DecisionSettings;
  models: Record<'classifier' | 'segmenter', { id: string; version: string; sha256: string }>;
}

/** How the run went on this machine: the only part of a result that changes from run to run. */
export interface RunInfo {
  /** ISO time the replay started. */
  startedAt: string;
  wallS: number;
  /** Frames replayed per second of wall time (models loaded before the clock starts). */
  framesPerSecond: number;
  providers: Record<'classifier' | 'segmenter', string>;
  /** Mean ms per frame of each stage (classify, segment, decision, scoring, …). */
  stageMs: Record<string, number>;
}

export interface ReplayResult {
  source: SourceInfo;
  settings: ReplaySettings;
  metrics: Metrics;
  /** The quality gate per reason: each truth reason (and the gradable frames) against what the gate said. */
  gate: GateRow[];
  frames: FrameRecord[];
  episodes: EpisodeResult[];
  alerts: AlertSpan[];
  roc: { fpr: number; tpr: number; threshold: number }[];
  worst: WorstFrame[];
  run: RunInfo;
}

/**
 * Replays a recorded feed through the live path's own stages (FramePipeline: condition → models → decision),
 * every frame in order, and scores it against its truth. Deterministic: the same feed, config
 * and models give the same result except `run`.
 */
export async function replay(o: ReplayOptions, log: Logger): Promise<ReplayResult> {
  const source = await openSource(
    o.feed,
    { annotations: o.annotations, stillFps: o.stillFps, readyTimeoutMs: o.config.capture.readyTimeoutMs, analysis: analysisOf(o.config.capture).size },
    log,
  );
  let stages: ReplayStages;
  try {
    stages = await openStages(o.config, log);
  } catch (err) {
    source.close();
    throw err;
  }
  const { pipeline } = stages;
  const maskThreshold = o.config.overlay.maskThreshold;
  const matchWindowS = o.matchWindowS ?? 1;
  const records: FrameRecord[] = [];
  const spans: AlertSpan[] = [];
  // Thumbnails are drawn on the conditioned frame: its masks (in its own pixels) go over the drawings too.
  const worst = new WorstFrames(o.worstFrames, undefined, (rgba, w, h) => pipeline.conditioner.blackMasked(rgba, w, h));
  const stageTotals: Record<string, number> = {};
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  o.onStart?.(source.info);
  try {
    for await (const { frame, truth } of source) {
      const index = records.length;
      // The live path's own stages, to the decision; only the output differs: scored here.
      const p = await pipeline.step(frame);
      const d = p.decision;
      if (d.event?.type === 'raise')
        spans.push({ raiseFrame: index, clearFrame: null, onsetFrame: d.event.onsetFrame, peakScore: round6(d.event.peakScore)!, falseAlert: false });
      else if (d.event?.type === 'clear' && spans.length) Object.assign(spans[spans.length - 1], { clearFrame: index, peakScore: round6(d.event.peakScore)! });

      const t = performance.now();
      // Scored in the source's pixels, where the truth is; the stages saw the analysis picture.
      const full = p.scale.full;
      const total = full.width * full.height;
      const pred = p.mask ? maskToFrame(p.mask, p.scale.rectToFull(p.roi), full.width, full.height, maskThreshold) : null;
      const counts = countPixels(pred, truth.mask, total, truth.lesionPx);
      const scored = p.score !== null;
      const seg = scored && truth.label === 'egc' && truth.mask ? overlapScores(counts) : null;
      const r: FrameRecord = {
        index,
        ...(source.info.kind === 'stills' ? { name: truth.name } : {}),
        label: truth.label,
        lesion: truth.lesionPx > 0 || truth.label === 'egc',
        score: round6(p.score),
        smoothed: round6(d.smoothed),
        alert: d.alert,
        gated: p.gated,
        ...(truth.reason ? { ungradableReason: truth.reason } : {}),
        segmented: p.mask !== null,
        truthPx: truth.lesionPx,
        predPx: counts.tp + counts.fp,
        iou: seg ? round6(seg.iou) : null,
        dice: seg ? round6(seg.dice) : null,
        pixelAccuracy: seg ? round6(seg.pixelAccuracy) : null,
        falsePositiveArea: scored && truth.label === 'normal' ? round6(counts.fp / total) : null,
      };
      records.push(r);
      if (p.scale.identity) await worst.offer(r, frame, pred, truth.mask, p.box);
      else {
        // Thumbnails are drawn on the analysis picture: masks at its size.
        const predA = p.mask ? maskToFrame(p.mask, p.roi, frame.width, frame.height, maskThreshold) : null;
        await worst.offer(r, frame, predA, truth.mask ? resampleMask(truth.mask, full, frame) : null, p.box);
      }
      p.timings.scoring = performance.now() - t;
      for (const [k, v] of Object.entries(p.timings)) stageTotals[k] = (stageTotals[k] ?? 0) + v;
      o.onProgress?.(records.length, source.info.frameCount);
    }
  } finally {
    source.close();
    await stages.close();
  }
  const wallS = (performance.now() - t0) / 1000;
  // An unlabelled recording has no truth to match alerts with: only what needs none is measured.
  const labelled = source.info.labelled;
  const episodes = labelled ? matchAlerts(records, spans, source.info.fps, matchWindowS) : [];
  let metrics = computeMetrics(records, spans, episodes, o.config.inference.segmentAbove, source.info.fps, matchWindowS);
  if (!labelled) metrics = withoutTruth(metrics);
  // An appliance recording: this run against the appliance's own decisions.
  if (source.appliance)
    for (const [k, v] of Object.entries(agreement(records, spans, source.appliance, source.info.fps, matchWindowS))) metrics[k as AgreementName] = round6(v);
  const model = (s: ReplayStages['sessions']['classifier']) => ({ id: s.manifest.id, version: s.manifest.version, sha256: s.manifest.onnx.sha256 });
  return {
    source: source.info,
    settings: {
      scoreThreshold: o.config.inference.segmentAbove,
      segmentAbove: o.config.inference.segmentAbove,
      maskThreshold,
      matchWindowS,
      roi: o.config.roi.enabled,
      qualityGate: o.config.quality.enabled,
      decision: { ...o.config.decision },
      models: { classifier: model(stages.sessions.classifier), segmenter: model(stages.sessions.segmenter) },
    },
    metrics,
    gate: labelled ? gateConfusion(records) : [],
    frames: records,
    episodes,
    alerts: spans,
    roc: labelled ? rocCurve(records) : [],
    worst: worst.list(),
    run: {
      startedAt,
      wallS: Math.round(wallS * 1000) / 1000,
      framesPerSecond: Math.round((records.length / Math.max(wallS, 1e-6)) * 10) / 10,
      providers: { classifier: stages.sessions.classifier.provider, segmenter: stages.sessions.segmenter.provider },
      stageMs: Object.fromEntries(Object.entries(stageTotals).map(([k, v]) => [k, Math.round((v / Math.max(1, records.length)) * 100) / 100])),
    },
  };
}
