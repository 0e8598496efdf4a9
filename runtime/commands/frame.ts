import type { Command } from 'commander';
import { basename } from 'node:path';
import { siteSettings, judgeFrame, type SiteSettings } from '../calibration/site-view.js';
import { loadStill } from '../calibration/stills.js';
import { loadConfig, parseConfig } from '../config/load.js';
import { isLumenError, messageOf } from '../errors.js';
import { findBurnedInText } from '../roi/privacy.js';
import { parseSize } from './calibrate.js';

/** What `lumen frame inspect` reports for one image. */
export interface FrameReport {
  file: string;
  width: number;
  height: number;
  /** Size the gate and the ROI worked at (the live path's analysis size). */
  analysed: { width: number; height: number };
  /** Full-frame pixels. */
  roi: { x: number; y: number; width: number; height: number };
  shape: string;
  /** Gate scores; empty when the config turns the gate off. */
  quality: Record<string, number>;
  gated: boolean;
  reasons: string[];
  /** Which measure decided, over which part of the picture, against which limit. */
  explanation: string[];
  /** Privacy masks of the config blacked out before the ROI and the gate. */
  privacyMasks: number;
  /** Likely burned-in text the config does not mask yet: candidate privacy-mask regions, frame pixels. */
  text: { x: number; y: number; width: number; height: number; confidence: number; inPicture: boolean }[];
}

/** Inspects one image as the daemon would see it under settings (default: the built-in config). */
export async function inspectFrame(file: string, settings: SiteSettings = siteSettings(parseConfig({}, 'built-in default'))): Promise<FrameReport> {
  const frame = await loadStill(file);
  const j = judgeFrame(frame, settings);
  const q = j.quality;
  const text = findBurnedInText(j.masked)
    .filter((b) => b.confidence >= 0.5)
    .map((b) => ({ ...b.rect, confidence: Math.round(b.confidence * 100) / 100, inPicture: !b.onBorder }));
  const scores = q ? Object.fromEntries(Object.entries(q.scores).map(([k, v]) => [k, Math.round((v as number) * 1000) / 1000])) : {};
  return {
    file,
    width: frame.width,
    height: frame.height,
    analysed: { width: j.analysed.width, height: j.analysed.height },
    roi: j.roi,
    shape: j.shape,
    quality: scores,
    gated: q?.gated ?? false,
    reasons: q?.reasons ?? [],
    explanation: q?.explanation ?? ['quality gate off in this config'],
    privacyMasks: settings.privacyMasks.length,
    text,
  };
}

export function registerFrame(program: Command): void {
  const frame = program.command('frame').description('look at single frames, e.g. when commissioning a video processor');
  frame
    .command('inspect <image...>')
    .description(
      'per image, as the daemon would see it: the ROI (box and shape), quality scores and the gate verdict with its reasons, and likely burned-in text',
    )
    .option('--json', 'one JSON object per image, one per line')
    .option('-c, --config <file>', 'site config: its privacy masks, gate thresholds and analysis size are used (default: the built-in defaults)')
    .option('--analysis-size <WxH>', "frames larger than this are scaled to fit, as the live path does (default: the config's, else 960x540)")
    .action(async (files: string[], o: { json?: boolean; config?: string; analysisSize?: string }) => {
      const config = o.config ? await loadConfig(o.config) : parseConfig({}, 'built-in default');
      const settings = siteSettings(config, o.analysisSize ? parseSize('--analysis-size', o.analysisSize) : undefined);
      let failed = 0;
      for (const f of files) {
        let r: FrameReport;
        try {
          r = await inspectFrame(f, settings);
        } catch (err) {
          failed++;
          process.stderr.write(isLumenError(err) ? `lumen: ${err.code}: ${err.message}\n` : `lumen: ${f}: cannot read the image (${messageOf(err)})\n`);
          continue;
        }
        if (o.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
          continue;
        }
        const q = Object.entries(r.quality)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        process.stdout.write(
          `${basename(f)} ${r.width}×${r.height}${r.analysed.width !== r.width ? ` (analysed at ${r.analysed.width}×${r.analysed.height})` : ''}\n` +
            `  roi      ${r.roi.x},${r.roi.y} ${r.roi.width}×${r.roi.height} (${r.shape})${r.privacyMasks ? `, ${r.privacyMasks} privacy masks applied` : ''}\n` +
            `  quality  ${q || 'gate off'}\n  verdict  ${r.gated ? `GATED (${r.reasons.join(', ')})` : 'gradable'}\n` +
            r.explanation.map((e) => `           ${e}\n`).join('') +
            (r.text.length
              ? r.text
                  .map(
                    (t) =>
                      `  text     ${t.x},${t.y} ${t.width}×${t.height} confidence ${t.confidence}${t.inPicture ? ' over the picture: set a privacy mask' : ' beside the picture'}\n`,
                  )
                  .join('')
              : '  text     none found\n'),
        );
      }
      process.exitCode = failed ? 2 : 0;
    });
}
