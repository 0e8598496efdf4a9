import type { Verdict } from './baseline.js';
import type { ReplayResult } from './replay.js';

/** Format tag of report.json. */
export const REPORT_FORMAT = 'lumen-qa-report/1';

/**
 * report.json: everything but `run` is a function of the feed, its truth, the config, the models
 * and the baseline — byte-identical run to run. `run` (start time, wall time, frames per second,
 * providers, stage timings) is the one part to leave out of comparisons.
 */
export function reportJson(r: ReplayResult, verdict: Verdict | null): string {
  const head = {
    format: REPORT_FORMAT,
    source: r.source,
    settings: r.settings,
    metrics: r.metrics,
    gate: r.gate,
    verdict,
    episodes: r.episodes,
    alerts: r.alerts,
    roc: r.roc,
    worstFrames: r.worst.map((w) => ({ index: w.index, ...(w.name ? { name: w.name } : {}), kind: w.kind, badness: w.badness })),
  };
  // Pretty at the top, one line per frame record: diffable and not ten times the size.
  const top = JSON.stringify(head, null, 2).slice(0, -2);
  const frames = r.frames.map((f) => `    ${JSON.stringify(f)}`).join(',\n');
  return `${top},\n  "frames": [\n${frames}\n  ],\n  "run": ${JSON.stringify(r.run, null, 2).replace(/\n/g, '\n  ')}\n}\n`;
}
