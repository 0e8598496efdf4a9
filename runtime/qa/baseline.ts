import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { LumenError } from '../errors.js';
import { METRICS, type MetricName, type Metrics } from './metrics.js';

/** Error code of a malformed baseline file. */
export const BASELINE_ERROR = 'QA_BASELINE' as const;

const Expectation = z
  .strictObject({
    /** Pass when the metric is at least this. */
    min: z.number().finite().optional(),
    /** Pass when the metric is at most this. */
    max: z.number().finite().optional(),
    /** Pass when the metric is within `tolerance` of this (tolerance required). */
    value: z.number().finite().optional(),
    tolerance: z.number().finite().nonnegative().optional(),
    /** Why this expectation exists, for people. */
    note: z.string().optional(),
  })
  .refine((e) => e.min !== undefined || e.max !== undefined || e.value !== undefined, { message: 'needs min, max or value' })
  .refine((e) => (e.value === undefined) === (e.tolerance === undefined), { message: 'value and tolerance go together' })
  .refine((e) => e.min === undefined || e.max === undefined || e.min <= e.max, { message: 'min exceeds max' });

/** Baseline file v1 (docs/qa.md): expected metrics of one feed, each with its tolerance. */
export const BaselineSchema = z.strictObject({
  version: z.literal(1),
  description: z.string().optional(),
  metrics: z.record(z.string(), Expectation).refine((m) => Object.keys(m).length > 0, { message: 'lists no metric' }),
});

export type Expectation = z.infer<typeof Expectation>;
export interface Baseline {
  version: 1;
  description?: string;
  metrics: Partial<Record<MetricName, Expectation>>;
}

/** One metric's comparison with its expectation. */
export interface Check {
  metric: MetricName;
  actual: number | null;
  expected: Expectation;
  passed: boolean;
  /** e.g. "sensitivity 0.62 is below min 0.9"; "sensitivity 0.95 ≥ min 0.9" when it passed. */
  message: string;
}

export interface Verdict {
  baseline: string;
  passed: boolean;
  checks: Check[];
  /** Names of the metrics that failed, in baseline order. */
  regressed: MetricName[];
}

/** Reads and checks a baseline file; every problem names the file and the entry. */
export async function loadBaseline(path: string): Promise<Baseline> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new LumenError(BASELINE_ERROR, `${path}: cannot read the baseline (${(err as Error).message})`, { path });
  }
  const parsed = BaselineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue.path.map(String).join('.');
    const keys = issue.code === 'unrecognized_keys' ? `: unknown key ${issue.keys.join(', ')}` : `: ${issue.message}`;
    throw new LumenError(BASELINE_ERROR, `${path}: ${at || '(root)'}${keys}`, { path, entry: at });
  }
  for (const name of Object.keys(parsed.data.metrics)) {
    if (!(name in METRICS)) {
      throw new LumenError(BASELINE_ERROR, `${path}: metrics.${name}: no such metric (known: ${Object.keys(METRICS).join(', ')})`, {
        path,
        entry: `metrics.${name}`,
      });
    }
  }
  return parsed.data;
}

// Metrics are rounded to 6 decimals; a bound written with as many must not fail on float noise.
const EPS = 1e-9;

/** Compares metrics with a baseline: one check per listed metric; a metric that is null fails. */
export function compare(metrics: Metrics, baseline: Baseline, path: string): Verdict {
  const checks: Check[] = (Object.entries(baseline.metrics) as [MetricName, Expectation][]).map(([metric, e]) => {
    const actual = metrics[metric];
    // Each part of the expectation: [holds, what it says when it holds, when it fails].
    const parts: [boolean, string, string][] = [];
    if (actual === null) parts.push([false, '', 'was not measured on this feed']);
    else {
      if (e.min !== undefined) parts.push([actual >= e.min - EPS, `≥ min ${e.min}`, `is below min ${e.min}`]);
      if (e.max !== undefined) parts.push([actual <= e.max + EPS, `≤ max ${e.max}`, `is above max ${e.max}`]);
      if (e.value !== undefined) {
        const ok = Math.abs(actual - e.value) <= e.tolerance! + EPS;
        parts.push([ok, `is within ${e.value} ± ${e.tolerance}`, `is not within ${e.value} ± ${e.tolerance}`]);
      }
    }
    const passed = parts.every(([ok]) => ok);
    const said = parts.filter(([ok]) => ok === passed).map(([ok, yes, no]) => (ok ? yes : no));
    return { metric, actual, expected: e, passed, message: `${metric} ${actual ?? 'null'} ${said.join(', ')}` };
  });
  const regressed = checks.filter((c) => !c.passed).map((c) => c.metric);
  return { baseline: path, passed: regressed.length === 0, checks, regressed };
}

/**
 * A starting baseline from a replay's metrics: rates within ±0.02 (±0.05 for IoU and Dice),
 * counts of errors at most what was measured. People then widen or tighten it (docs/qa.md).
 */
export function baselineFrom(metrics: Metrics, description: string): Baseline {
  const out: Baseline = { version: 1, description, metrics: {} };
  const rate = (m: MetricName, tol: number) => {
    const v = metrics[m];
    if (v !== null) out.metrics[m] = { value: v, tolerance: tol };
  };
  const atMost = (m: MetricName, slack = 0) => {
    const v = metrics[m];
    if (v !== null) out.metrics[m] = { max: Math.round((v + slack) * 1e6) / 1e6 };
  };
  out.metrics.frames = { value: metrics.frames ?? 0, tolerance: 0 };
  for (const m of ['accuracy', 'sensitivity', 'specificity', 'precision', 'f1', 'auroc', 'pixelAccuracy', 'episodeSensitivity'] as const) rate(m, 0.02);
  for (const m of ['iou', 'dice'] as const) rate(m, 0.05);
  atMost('missedEpisodes');
  atMost('falseAlertsPerMinute', 0.5);
  atMost('alertFlicker');
  atMost('meanTimeToAlertS', 0.5);
  atMost('falsePositiveArea', 0.01);
  return out;
}
