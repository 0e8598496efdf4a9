import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { loadConfig, parseConfig } from '../config/load.js';
import { LumenError } from '../errors.js';
import { createLogger } from '../log.js';
import { baselineFrom, compare, loadBaseline, type Verdict } from '../qa/baseline.js';
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
}

const GROUPS: [string, MetricName[]][] = [
  ['classification', ['accuracy', 'precision', 'sensitivity', 'specificity', 'f1', 'auroc']],
  ['segmentation', ['iou', 'dice', 'pixelAccuracy', 'segmentedFraction', 'iouSegmented', 'falsePositiveArea']],
  ['alerts', ['episodes', 'missedEpisodes', 'meanTimeToAlertS', 'falseAlerts', 'falseAlertsPerMinute', 'alertFlicker']],
  ['quality gate', ['gateTp', 'gateFp', 'gateFn', 'gateTn']],
];

function summary(r: ReplayResult, verdict: Verdict | null, reportDir: string | undefined): string {
  const m: Metrics = r.metrics;
  const lines = [`replay ${basename(r.source.path)}: ${m.frames} frames in ${r.run.wallS} s (${r.run.framesPerSecond} frames/s, ${r.run.providers.classifier})`];
  for (const [group, names] of GROUPS) lines.push(`  ${group.padEnd(15)} ${names.map((n) => `${n} ${m[n] ?? '—'}`).join('  ')}`);
  if (verdict) {
    lines.push(`verdict: ${verdict.passed ? 'PASS' : 'FAIL'} against ${verdict.baseline} (${verdict.checks.length - verdict.regressed.length}/${verdict.checks.length} metrics hold)`);
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
    .action(async (feed: string, o: ReplayFlags) => {
      const stillFps = Number(o.fps);
      if (!Number.isFinite(stillFps) || stillFps <= 0) throw new LumenError('USAGE', `--fps ${o.fps}: expected a positive number`);
      const log = createLogger('lumen-replay', process.env.LUMEN_LOG_LEVEL ?? 'error');
      // Inputs first, each with its own error, before minutes of replay.
      const baseline = o.baseline ? await loadBaseline(o.baseline) : null;
      const config = o.config ? await loadConfig(o.config) : parseConfig({}, 'built-in default');

      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { stream: process.stderr, format: 'replay |{bar}| {percentage}% {value}/{total} frames | {speed} frames/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
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

      const verdict = baseline ? compare(result.metrics, baseline, o.baseline!) : null;
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
