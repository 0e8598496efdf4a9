// commands/: the `lumen` subcommands, one file each; runtime/cli.ts imports only the one it runs.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, parseConfig } from '../config/load.js';
import { calibrate } from '../calibration/calibrate.js';
import { GatedThumbnails, writeCalibrationReport } from '../calibration/report.js';
import { siteSettings } from '../calibration/site-view.js';
import { analysisBox } from '../config/schema.js';
import { LumenError } from '../errors.js';
import type { Size } from '../frame.js';

/** Exit status when --fail-on-gated-lesion is given and a lesion frame was gated. */
export const EXIT_LESION_GATED = 3;

/** --analysis-size: WIDTHxHEIGHT under the config key's own rules (capture.analysisSize), or "full". */
export function parseSize(flag: string, v: string): Size | null {
  if (v === 'full') return null;
  const box = analysisBox(v);
  if (!box) throw new LumenError('USAGE', `${flag} ${v}: expected "full" or WIDTHxHEIGHT with even numbers from 32x32 to 7680x4320, e.g. 960x540`);
  return box;
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description(
      'run the quality gate, ROI and text finder over a folder of real frames and print the figures (gated per reason, lesion frames gated, lesion pixels kept, text found)',
    )
    .argument('<folder>', 'images, or a folder with images/ and masks/, or a folder of such folders')
    .option('-c, --config <file>', 'site config: its privacy masks, gate thresholds and analysis size are used (default: the built-in defaults)')
    .option('--analysis-size <WxH>', 'frames larger than this are scaled to fit, as the live path does, or "full" (default: the config\'s, else 960x540)')
    .option('-r, --report <dir>', 'write calibration.json and calibration.html (thumbnails of every gated frame) there')
    .option('--json', 'print the summary as JSON')
    .option('--fail-on-gated-lesion', `exit ${EXIT_LESION_GATED} when any lesion frame is gated`)
    .action(async (folder: string, o: { config?: string; analysisSize?: string; report?: string; json?: boolean; failOnGatedLesion?: boolean }) => {
      const config = o.config ? await loadConfig(o.config) : parseConfig({}, 'built-in default');
      const settings = siteSettings(config, o.analysisSize ? parseSize('--analysis-size', o.analysisSize) : undefined);
      const thumbs = new GatedThumbnails();
      const t0 = performance.now();
      const r = await calibrate(resolve(folder), settings, { keep: o.report ? (rec, f) => thumbs.keep(rec, f) : undefined });
      const wallS = Math.round((performance.now() - t0) / 100) / 10;
      if (o.report) await writeCalibrationReport(o.report, r, thumbs);
      const s = r.summary;
      if (o.json) process.stdout.write(JSON.stringify({ ...s, wallS }) + '\n');
      else {
        const by =
          Object.entries(s.gatedBy)
            .filter(([, v]) => v > 0)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ') || 'none';
        process.stdout.write(
          `calibrate ${folder}: ${s.frames} frames in ${wallS} s (${s.msRead} ms read, ${s.msGate} ms ROI + gate per frame)\n` +
            `  gated            ${s.gated} (${by})\n` +
            `  lesion frames    ${s.lesionFrames}, gated ${s.lesionFramesGated}\n` +
            `  lesion pixels    ${s.lesionKeptShare === null ? '— (no masks)' : `${s.lesionInRoiPx} of ${s.lesionPx} inside the ROI box, ${s.lesionKeptPx} inside its outline and clear of privacy masks (reach the models); ${s.lesionFramesCut} frames lose some`}\n` +
            `  text blocks      ${s.textBlocks} on ${s.framesWithText} frames\n` +
            `  least usable     ${s.minUsable ?? '—'}\n` +
            r.records
              .filter((x) => x.gated)
              .map((x) => `  GATED ${x.name}${(x.lesionPx ?? 0) > 0 ? ' (lesion frame)' : ''}: ${x.explanation.join('; ')}\n`)
              .join('') +
            (o.report ? `report: ${resolve(o.report, 'calibration.html')}\n` : ''),
        );
      }
      for (const e of r.errors) process.stderr.write(`lumen: ${e.code}: ${e.message}\n`);
      process.exitCode = o.failOnGatedLesion && s.lesionFramesGated > 0 ? EXIT_LESION_GATED : r.errors.length ? 2 : 0;
    });
}
