import type { FrameLabel } from '../feed/scene.js';
import { AGREEMENT_METRICS, NO_AGREEMENT } from './agreement.js';

/**
 * QA metrics: what one replay measured, per frame and overall. Pure functions of the per-frame
 * records and alert spans, so the same replay gives the same numbers, byte for byte (values are
 * rounded to 6 decimals before they are stored). docs/qa.md defines each metric.
 */

/** One replayed frame: truth, what the stages made of it, and its scores. */
export interface FrameRecord {
  index: number;
  /** Image file name (still-image sets only). */
  name?: string;
  label: FrameLabel;
  /** A lesion is in view (the truth mask has pixels, or the label is egc): what alert episodes are made of. */
  lesion: boolean;
  /** Raw classifier score, 0–1; null when the quality gate stopped the frame. */
  score: number | null;
  /** Smoothed score after the decision stage. */
  smoothed: number | null;
  /** Alert state after this frame. */
  alert: boolean;
  /** Why the quality gate stopped the frame, or null. */
  gated: string | null;
  /** Why the truth calls the frame ungradable (annotations' reason), where it says; absent otherwise. */
  ungradableReason?: string;
  /** Whether the segmenter ran (it runs only when the score reaches inference.segmentAbove). */
  segmented: boolean;
  /** Lesion pixels in the truth mask. */
  truthPx: number;
  /** Lesion pixels predicted (full frame); 0 when the segmenter did not run. */
  predPx: number;
  /** egc frames that were scored: overlap with the truth; 0 when the segmenter did not run. */
  iou: number | null;
  dice: number | null;
  pixelAccuracy: number | null;
  /** normal frames that were scored: share of the frame predicted as lesion (0–1). */
  falsePositiveArea: number | null;
}

/** An alert as the decision stage raised and cleared it, in frame indices. */
export interface AlertSpan {
  raiseFrame: number;
  /** First frame without the alert; null when still active at the end of the feed. */
  clearFrame: number | null;
  /** First frame of the score run that raised it. */
  onsetFrame: number;
  peakScore: number;
  /** Overlaps no lesion episode (nor its match window). */
  falseAlert: boolean;
}

/** A run of consecutive frames with a lesion in view, and how the alerting handled it. */
export interface EpisodeResult {
  /** First and last frame (inclusive). */
  start: number;
  end: number;
  detected: boolean;
  /** First frame in [start, end + match window] with the alert on. */
  alertFrame: number | null;
  /** (alertFrame − start) / fps; 0 when an alert was already on at the start. */
  timeToAlertS: number | null;
  /** Alerts overlapping the episode (with its match window); more than one is flicker. */
  alerts: number;
}

/** Every metric: name → what it means and which direction is better (docs/qa.md has the full table). */
export const METRICS = {
  frames: ['frames replayed', 'none'],
  scoredFrames: ['frames the classifier scored (not gated)', 'none'],
  lesionFrames: ['frames labelled egc', 'none'],
  normalFrames: ['frames labelled normal', 'none'],
  ungradableFrames: ['frames labelled ungradable', 'none'],
  tp: ['scored egc frames with score ≥ threshold', 'higher'],
  fp: ['scored normal frames with score ≥ threshold', 'lower'],
  tn: ['scored normal frames with score < threshold', 'higher'],
  fn: ['scored egc frames with score < threshold', 'lower'],
  accuracy: ['(tp + tn) / scored egc and normal frames', 'higher'],
  precision: ['tp / (tp + fp)', 'higher'],
  sensitivity: ['recall: tp / (tp + fn)', 'higher'],
  specificity: ['tn / (tn + fp)', 'higher'],
  f1: ['2 · precision · sensitivity / (precision + sensitivity)', 'higher'],
  auroc: ['area under the ROC curve of the raw score, egc vs normal frames', 'higher'],
  segmentedFraction: ['share of scored egc frames the segmenter ran on', 'higher'],
  iou: ['mean IoU over scored egc frames; 0 where the segmenter did not run', 'higher'],
  dice: ['mean Dice over scored egc frames; 0 where the segmenter did not run', 'higher'],
  pixelAccuracy: ['mean share of correctly labelled pixels of the whole frame, scored egc frames', 'higher'],
  iouSegmented: ['mean IoU over the egc frames the segmenter ran on', 'higher'],
  falsePositiveArea: ['mean share of the frame predicted as lesion, scored normal frames', 'lower'],
  falsePositiveFrames: ['scored normal frames with any predicted lesion pixel', 'lower'],
  episodes: ['lesion episodes: runs of consecutive frames with a lesion in view', 'none'],
  detectedEpisodes: ['episodes with an alert on within the episode or its match window', 'higher'],
  missedEpisodes: ['episodes without one', 'lower'],
  episodeSensitivity: ['detectedEpisodes / episodes', 'higher'],
  meanTimeToAlertS: ['mean seconds from lesion onset to the alert, detected episodes', 'lower'],
  maxTimeToAlertS: ['longest of those', 'lower'],
  alerts: ['alerts raised', 'none'],
  falseAlerts: ['alerts that overlap no episode (nor its match window)', 'lower'],
  falseAlertsPerMinute: ['falseAlerts per minute of feed (frames / fps)', 'lower'],
  strayAlerts: ['alerts raised while no lesion was in view (nor within the match window after one), even if they last into a lesion episode', 'lower'],
  alertFlicker: ['alerts per episode beyond the first, summed over episodes', 'lower'],
  gateTp: ['ungradable frames the quality gate stopped', 'higher'],
  gateFp: ['gradable frames it stopped', 'lower'],
  gateFn: ['ungradable frames it let through', 'lower'],
  gateTn: ['gradable frames it let through', 'higher'],
  gateSensitivity: ['gateTp / ungradable frames', 'higher'],
  gateSpecificity: ['gateTn / gradable frames', 'higher'],
  gateBleedingFrames: ['frames the truth calls ungradable for bleeding', 'none'],
  gateBleedingSensitivity: ['of those, the share the gate stopped for bleeding', 'higher'],
  ...AGREEMENT_METRICS,
} as const satisfies Record<string, readonly [string, 'higher' | 'lower' | 'none']>;

export type MetricName = keyof typeof METRICS;
/** Metric values; null where a metric is undefined on this feed (e.g. sensitivity without egc frames). */
export type Metrics = Record<MetricName, number | null>;

/** The gate against the truth for one kind of frame: an ungradable reason, or 'gradable'. */
export interface GateRow {
  /** The truth's reason ('dark', 'bleeding', …), 'unspecified' for ungradable frames without one, or 'gradable'. */
  truth: string;
  frames: number;
  /** Frames the gate let through. */
  passed: number;
  /** Frames gated, per gate reason (a frame gated for two reasons counts under each). */
  gatedBy: Record<string, number>;
  /** Frames gated at all, and (ungradable rows) gated with the truth's own reason among its reasons. */
  gated: number;
  gatedForReason: number | null;
}

/** The quality gate's confusion per reason: one row per truth reason, then the gradable frames. */
export function gateConfusion(records: readonly FrameRecord[]): GateRow[] {
  const rows = new Map<string, GateRow>();
  for (const r of records) {
    const truth = r.label === 'ungradable' ? (r.ungradableReason ?? 'unspecified') : 'gradable';
    const row = rows.get(truth) ?? { truth, frames: 0, passed: 0, gatedBy: {}, gated: 0, gatedForReason: truth === 'gradable' ? null : 0 };
    rows.set(truth, row);
    row.frames++;
    if (r.gated === null) {
      row.passed++;
      continue;
    }
    row.gated++;
    const why = r.gated.split(',');
    for (const w of why) row.gatedBy[w] = (row.gatedBy[w] ?? 0) + 1;
    if (row.gatedForReason !== null && why.includes(truth)) row.gatedForReason++;
  }
  return [...rows.values()].sort((a, b) => (a.truth === 'gradable' ? 1 : b.truth === 'gradable' ? -1 : a.truth.localeCompare(b.truth)));
}

/** Metrics that need no truth: all an unlabelled recording gets, with the agreement ones. */
const TRUTH_FREE = new Set<string>(['frames', 'scoredFrames', 'alerts', ...Object.keys(AGREEMENT_METRICS)]);

/** The metrics of a video nobody labelled yet: every one that compares with truth is null. */
export function withoutTruth(m: Metrics): Metrics {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, TRUTH_FREE.has(k) ? v : null])) as Metrics;
}

/** Rounds to 6 decimals, so that reports do not carry float noise; null stays null. */
export function round6(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Math.round(v * 1e6) / 1e6;
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}

function mean(xs: number[]): number | null {
  return xs.length === 0 ? null : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Scored egc (positive) and normal (negative) frames: what classification metrics count. */
function classified(records: readonly FrameRecord[]): { score: number; positive: boolean }[] {
  return records.filter((r) => r.score !== null && r.label !== 'ungradable').map((r) => ({ score: r.score!, positive: r.label === 'egc' }));
}

/** Area under the ROC curve (Mann–Whitney U, ties counted half); null without both classes. */
export function auroc(samples: readonly { score: number; positive: boolean }[]): number | null {
  const sorted = [...samples].sort((a, b) => a.score - b.score);
  let pos = 0;
  let rankSum = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
    const rank = (i + 1 + j) / 2; // mean 1-based rank of the tie group
    for (let k = i; k < j; k++)
      if (sorted[k].positive) {
        pos++;
        rankSum += rank;
      }
    i = j;
  }
  const neg = sorted.length - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** ROC points from the highest threshold down: (false positive rate, true positive rate, threshold). */
export function rocCurve(records: readonly FrameRecord[]): { fpr: number; tpr: number; threshold: number }[] {
  const s = classified(records).sort((a, b) => b.score - a.score);
  const P = s.filter((x) => x.positive).length;
  const N = s.length - P;
  if (P === 0 || N === 0) return [];
  const out = [{ fpr: 0, tpr: 0, threshold: 1 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < s.length;) {
    const t = s[i].score;
    while (i < s.length && s[i].score === t) {
      if (s[i].positive) tp++;
      else fp++;
      i++;
    }
    out.push({ fpr: round6(fp / N)!, tpr: round6(tp / P)!, threshold: round6(t)! });
  }
  return out;
}

/** Runs of consecutive frames with a lesion in view, as [first, last]. */
export function lesionRuns(records: readonly FrameRecord[]): [number, number][] {
  const runs: [number, number][] = [];
  records.forEach((r, i) => {
    if (!r.lesion) return;
    const last = runs.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else runs.push([i, i]);
  });
  return runs;
}

/**
 * Matches alerts to lesion episodes. An episode is detected when the alert is on at any frame
 * from its start to `windowS` seconds after its end (smoothing and hysteresis lag); an alert
 * that overlaps no episode's [start, end + window] is false. Marks `falseAlert` on the spans.
 */
export function matchAlerts(records: readonly FrameRecord[], spans: AlertSpan[], fps: number, windowS: number): EpisodeResult[] {
  const n = records.length;
  const grace = Math.round(windowS * fps);
  const windows = lesionRuns(records).map(([s, e]) => [s, e, Math.min(n - 1, e + grace)] as const);
  for (const a of spans) a.falseAlert = !windows.some(([s, , until]) => a.raiseFrame <= until && (a.clearFrame ?? n) > s);
  return windows.map(([start, end, until]) => {
    let alertFrame: number | null = null;
    for (let f = start; f <= until && alertFrame === null; f++) if (records[f].alert) alertFrame = f;
    return {
      start,
      end,
      detected: alertFrame !== null,
      alertFrame,
      timeToAlertS: alertFrame === null ? null : round6((alertFrame - start) / fps),
      alerts: spans.filter((a) => a.raiseFrame <= until && (a.clearFrame ?? n) > start).length,
    };
  });
}

/** All metrics of a replay (rounded); `threshold` is the classifier's operating point. */
export function computeMetrics(
  records: readonly FrameRecord[],
  spans: readonly AlertSpan[],
  episodes: readonly EpisodeResult[],
  threshold: number,
  fps: number,
  matchWindowS = 1,
): Metrics {
  const c = classified(records);
  const tp = c.filter((x) => x.positive && x.score >= threshold).length;
  const fn = c.filter((x) => x.positive && x.score < threshold).length;
  const fp = c.filter((x) => !x.positive && x.score >= threshold).length;
  const tn = c.length - tp - fn - fp;
  const precision = ratio(tp, tp + fp);
  const sensitivity = ratio(tp, tp + fn);
  const f1 = precision === null || sensitivity === null ? null : precision + sensitivity === 0 ? 0 : (2 * precision * sensitivity) / (precision + sensitivity);

  const lesion = records.filter((r) => r.iou !== null);
  const segmented = lesion.filter((r) => r.segmented);
  const normal = records.filter((r) => r.falsePositiveArea !== null);

  const detected = episodes.filter((e) => e.detected);
  const latencies = detected.map((e) => e.timeToAlertS!);
  const falseAlerts = spans.filter((a) => a.falseAlert).length;
  const minutes = records.length / fps / 60;

  const ungradable = (r: FrameRecord) => r.label === 'ungradable';
  const gated = (r: FrameRecord) => r.gated !== null;
  const gateTp = records.filter((r) => ungradable(r) && gated(r)).length;
  const gateFn = records.filter((r) => ungradable(r) && !gated(r)).length;
  const gateFp = records.filter((r) => !ungradable(r) && gated(r)).length;
  const gateTn = records.length - gateTp - gateFn - gateFp;
  const bleeding = records.filter((r) => ungradable(r) && r.ungradableReason === 'bleeding');

  const m: Metrics = {
    frames: records.length,
    scoredFrames: records.filter((r) => r.score !== null).length,
    lesionFrames: records.filter((r) => r.label === 'egc').length,
    normalFrames: records.filter((r) => r.label === 'normal').length,
    ungradableFrames: records.filter(ungradable).length,
    tp,
    fp,
    tn,
    fn,
    accuracy: ratio(tp + tn, c.length),
    precision,
    sensitivity,
    specificity: ratio(tn, tn + fp),
    f1,
    auroc: auroc(c),
    segmentedFraction: ratio(segmented.length, lesion.length),
    iou: mean(lesion.map((r) => r.iou!)),
    dice: mean(lesion.map((r) => r.dice!)),
    pixelAccuracy: mean(lesion.map((r) => r.pixelAccuracy!)),
    iouSegmented: mean(segmented.map((r) => r.iou!)),
    falsePositiveArea: mean(normal.map((r) => r.falsePositiveArea!)),
    falsePositiveFrames: normal.filter((r) => r.predPx > 0).length,
    episodes: episodes.length,
    detectedEpisodes: detected.length,
    missedEpisodes: episodes.length - detected.length,
    episodeSensitivity: ratio(detected.length, episodes.length),
    meanTimeToAlertS: mean(latencies),
    maxTimeToAlertS: latencies.length ? Math.max(...latencies) : null,
    alerts: spans.length,
    falseAlerts,
    falseAlertsPerMinute: minutes > 0 ? falseAlerts / minutes : null,
    strayAlerts: spans.filter(
      (a) => !episodes.some((e) => a.raiseFrame >= e.start && a.raiseFrame <= Math.min(records.length - 1, e.end + Math.round(matchWindowS * fps))),
    ).length,
    alertFlicker: episodes.reduce((s, e) => s + Math.max(0, e.alerts - 1), 0),
    gateTp,
    gateFp,
    gateFn,
    gateTn,
    gateSensitivity: ratio(gateTp, gateTp + gateFn),
    gateSpecificity: ratio(gateTn, gateTn + gateFp),
    gateBleedingFrames: bleeding.length,
    gateBleedingSensitivity: ratio(bleeding.filter((r) => r.gated?.split(',').includes('bleeding')).length, bleeding.length),
    // Set by the replay of an appliance recording (agreement.ts).
    ...NO_AGREEMENT,
  };
  for (const k of Object.keys(m) as MetricName[]) m[k] = round6(m[k]);
  return m;
}
