// qa/: QA replay: a recorded feed replayed deterministically (every frame, in order), scored against
// its annotations and compared with a baseline; its reports.
import type { ApplianceDecision } from '../annotations.js';
import type { AlertSpan, FrameRecord } from './metrics.js';

/**
 * A replay of an appliance recording against the appliance's own decisions (its sidecar's
 * `appliance.frames`): "did the new model alert where the old one did?". Pure, like metrics.ts.
 */

/** The agreement metrics (docs/qa.md); null on a feed without appliance decisions. */
export const AGREEMENT_METRICS = {
  applianceAlerts: ['alerts the appliance had on in the recording (runs of frames with its alert on)', 'none'],
  reproducedAlerts: ['appliance alerts this replay raised too (overlapping, within the match window)', 'higher'],
  lostAlerts: ['appliance alerts this replay did not raise', 'lower'],
  newAlerts: ['alerts this replay raised where the appliance had none (nor within the match window)', 'lower'],
  alertAgreement: ["share of the appliance's frames whose alert state this replay matches", 'higher'],
  scoreDeltaMean: ['mean |score − appliance score| over frames both scored', 'lower'],
} as const satisfies Record<string, readonly [string, 'higher' | 'lower' | 'none']>;

export type AgreementName = keyof typeof AGREEMENT_METRICS;

export const NO_AGREEMENT: Record<AgreementName, null> = {
  applianceAlerts: null,
  reproducedAlerts: null,
  lostAlerts: null,
  newAlerts: null,
  alertAgreement: null,
  scoreDeltaMean: null,
};

/** Runs of frames with the appliance's alert on, as [first, end) in frame indices. */
export function applianceRuns(decisions: readonly ApplianceDecision[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const d of [...decisions].sort((a, b) => a.index - b.index)) {
    if (!d.alert) continue;
    const last = runs.at(-1);
    if (last && last[1] === d.index) last[1] = d.index + 1;
    else runs.push([d.index, d.index + 1]);
  }
  return runs;
}

/**
 * Matches the replay's alerts with the appliance's: two overlap when they share a frame, or
 * come within `windowS` of each other (smoothing and hysteresis shift the edges a little when a
 * model or the decoded picture changes).
 */
export function agreement(
  records: readonly FrameRecord[],
  spans: readonly AlertSpan[],
  decisions: readonly ApplianceDecision[],
  fps: number,
  windowS: number,
): Record<AgreementName, number | null> {
  const n = records.length;
  const grace = Math.round(windowS * fps);
  const mine = spans.map((s) => [s.raiseFrame, s.clearFrame ?? n] as const);
  const theirs = applianceRuns(decisions);
  const meet = (a: readonly [number, number], b: readonly [number, number]) => a[0] < b[1] + grace && b[0] < a[1] + grace;
  const reproduced = theirs.filter((t) => mine.some((m) => meet(m, t))).length;
  const fresh = mine.filter((m) => !theirs.some((t) => meet(m, t))).length;
  let same = 0;
  let compared = 0;
  let delta = 0;
  let scored = 0;
  for (const d of decisions) {
    const r = records[d.index];
    if (!r) continue;
    compared++;
    if (r.alert === d.alert) same++;
    if (r.score !== null && d.score !== null) {
      delta += Math.abs(r.score - d.score);
      scored++;
    }
  }
  return {
    applianceAlerts: theirs.length,
    reproducedAlerts: reproduced,
    lostAlerts: theirs.length - reproduced,
    newAlerts: fresh,
    alertAgreement: compared ? same / compared : null,
    scoreDeltaMean: scored ? delta / scored : null,
  };
}
