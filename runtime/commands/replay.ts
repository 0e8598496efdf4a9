import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig, parseConfig } from '../config/load.js';
import { LumenError } from '../errors.js';
import { createLogger } from '../log.js';
import { baselineFrom, compare, loadBaseline, type Baseline, type Verdict } from '../qa/baseline.js';
import { annotationsPathFor, loadAnnotations } from '../annotations.js';
import type { MetricName, Metrics } from '../qa/metrics.js';
import { replay, type ReplayResult } from '../qa/replay.js';
import { writeReports } from '../qa/reports.js';

/** Exit status when the replay ran but a metric regressed against the baseline (2 stays "refused input"). */
export const EXIT_REGRESSED = 3;

interface ReplayFlags {
  annotations?: string;
  baseline?: string;
  report?: string;
  config?: string;
  fps: string;
  writeBaseline?: string;
  againstAppliance?: boolean;
}

/** --against-appliance: the recording's own alerts are the baseline (docs/recording.md). */
export const APPLIANCE_BASELINE: Baseline = {
  version: 1,
  description: "the appliance's own alerts in this recording: none lost, none new",
  metrics: {
    lostAlerts: { max: 0, note: 'every alert the appliance raised is raised again' },
    newAlerts: { max: 0, note: 'no alert where the appliance had none' },
  },
};

const GROUPS: [string, MetricName[]][] = [
  ['classification', ['accuracy', 'precision', 'sensitivity', 'specificity', 'f1', 'auroc']],
  ['segmentation', ['iou', 'dice', 'pixelAccuracy', 'segmentedFraction', 'iouSegmented', 'falsePositiveArea']],
  ['alerts', ['episodes', 'missedEpisodes', 'meanTimeToAlertS', 'falseAlerts', 'falseAlertsPerMinute', 'alertFlicker']],
  ['quality gate', ['gateTp', 'gateFp', 'gateFn', 'gateTn']],
];
const APPLIANCE_GROUP: [string, MetricName[]] = [
  'appliance',
  ['applianceAlerts', 'reproducedAlerts', 'lostAlerts', 'newAlerts', 'alertAgreement', 'scoreDeltaMean'],
];

function summary(r: ReplayResult, verdict: Verdict | null, reportDir: string | undefined): string {
  const m: Metrics = r.metrics;
  const lines = [
    `replay ${basename(r.source.path)}: ${m.frames} frames in ${r.run.wallS} s (${r.run.framesPerSecond} frames/s, ${r.run.providers.classifier})`,
  ];
  if (!r.source.labelled) lines.push('  (no truth: the annotations say labelled: false; add labels to measure against truth)');
  for (const [group, names] of r.source.appliance ? [...GROUPS, APPLIANCE_GROUP] : GROUPS)
    lines.push(`  ${group.padEnd(15)} ${names.map((n) => `${n} ${m[n] ?? '—'}`).join('  ')}`);
  if (verdict) {
    lines.push(
      `verdict: ${verdict.passed ? 'PASS' : 'FAIL'} against ${verdict.baseline} (${verdict.checks.length - verdict.regressed.length}/${verdict.checks.length} metrics hold)`,
    );
    for (const c of verdict.checks) if (!c.passed) lines.push(`  REGRESSED ${c.message}`);
  }
  if (reportDir) lines.push(`report: ${resolve(reportDir, 'report.html')}`);
  return lines.join('\n') + '\n';
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay a recorded feed through the models, every frame in order, score it against its truth and compare with a baseline')
    .argument('<feed>', 'a video (.mkv, .avi, .mp4) with X.annotations.json beside it, or a folder holding images/ and masks/')
    .option('-a, --annotations <file>', 'annotation file of the video (default: X.annotations.json beside X.mkv)')
    .option('-b, --baseline <file>', 'expected metrics with tolerances (docs/qa.md); exit 3 naming each metric that regressed')
    .option('-r, --report <dir>', 'write report.json, junit.xml and report.html there')
    .option('-c, --config <file>', 'daemon config whose inference, decision and overlay sections are replayed (capture is ignored)')
    .option('--fps <f>', 'nominal frame rate of a still-image set, for alert timings', '1')
    .option('--write-baseline <file>', "write a starting baseline from this run's metrics")
    .option('--against-appliance', 'an appliance recording: its own alerts are the baseline (no alert lost, none new; exit 3 otherwise)')
    .action(async (feed: string, o: ReplayFlags) => {
      const stillFps = Number(o.fps);
      if (!Number.isFinite(stillFps) || stillFps <= 0) throw new LumenError('USAGE', `--fps ${o.fps}: expected a positive number`);
      const log = createLogger('lumen-replay', process.env.LUMEN_LOG_LEVEL ?? 'error');
      // Inputs first, each with its own error, before minutes of replay.
      const fromFile = o.baseline ? await loadBaseline(o.baseline) : null;
      if (o.againstAppliance) await checkApplianceDecisions(feed, o.annotations);
      const baseline = o.againstAppliance ? { ...APPLIANCE_BASELINE, metrics: { ...APPLIANCE_BASELINE.metrics, ...fromFile?.metrics } } : fromFile;
      const baselineName = o.againstAppliance ? `the appliance's alerts${o.baseline ? ` and ${o.baseline}` : ''}` : o.baseline!;
      const config = o.config ? await loadConfig(o.config) : parseConfig({}, 'built-in default');

      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: 'replay |{bar}| {percentage}% {value}/{total} frames | {speed} frames/s | ETA {eta_formatted}',
              hideCursor: true,
              clearOnComplete: true,
              etaBuffer: 50,
            },
            cliProgress.Presets.shades_classic,
          )
        : null;
      let started = 0;
      const result = await replay(
        {
          feed: resolve(feed),
          annotations: o.annotations ? resolve(o.annotations) : undefined,
          config,
          stillFps,
          onStart: (s) => {
            started = performance.now();
            bar?.start(s.frameCount, 0, { speed: '—' });
          },
          onProgress: (done) => bar?.update(done, { speed: (done / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(1) }),
        },
        log,
      ).finally(() => bar?.stop());

      const verdict = baseline ? compare(result.metrics, baseline, baselineName) : null;
      if (o.report) await writeReports(o.report, result, verdict);
      if (o.writeBaseline) {
        const b = baselineFrom(result.metrics, `from lumen replay ${basename(feed)}; widen or tighten before committing`);
        await writeFile(o.writeBaseline, JSON.stringify(b, null, 2) + '\n');
      }
      process.stdout.write(summary(result, verdict, o.report));
      if (verdict && !verdict.passed) process.stderr.write(`lumen: replay regressed: ${verdict.regressed.join(', ')}\n`);
      // GStreamer's bus poll keeps a pool thread busy after the pipeline closed: exit explicitly.
      process.exit(verdict && !verdict.passed ? EXIT_REGRESSED : 0);
    });
}

/** --against-appliance needs a recording whose annotations carry the appliance's decisions. */
async function checkApplianceDecisions(feed: string, annotations?: string): Promise<void> {
  const path = resolve(annotations ?? annotationsPathFor(feed));
  const a = await loadAnnotations(path);
  if (!a.appliance)
    throw new LumenError('USAGE', `--against-appliance: ${path} carries no appliance decisions (only the sidecar of an appliance recording does)`);
}
