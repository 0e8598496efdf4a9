import type { Command } from 'commander';
import { basename } from 'node:path';
import { messageOf } from '../errors.js';
import { evaluateQuality } from '../quality/quality-gate.js';
import { findActiveArea } from '../roi/active-area.js';
import { findBurnedInText } from '../roi/privacy.js';
import { decodeImage } from '../util/image-codec.js';

/** What `lumen frame inspect` reports for one image. */
export interface FrameReport {
  file: string;
  width: number;
  height: number;
  roi: { x: number; y: number; width: number; height: number };
  shape: string;
  quality: Record<string, number>;
  gated: boolean;
  reasons: string[];
  /** Likely burned-in text: candidate privacy-mask regions, frame pixels. */
  text: { x: number; y: number; width: number; height: number; confidence: number; inPicture: boolean }[];
}

export async function inspectFrame(file: string): Promise<FrameReport> {
  const img = await decodeImage(file);
  const frame = { id: 0, ts: 0, ...img };
  const area = findActiveArea(frame);
  const q = evaluateQuality(frame, area);
  const text = findBurnedInText(frame)
    .filter((b) => b.confidence >= 0.5)
    .map((b) => ({ ...b.rect, confidence: Math.round(b.confidence * 100) / 100, inPicture: !b.onBorder }));
  const scores = Object.fromEntries(Object.entries(q.scores).map(([k, v]) => [k, Math.round((v as number) * 1000) / 1000]));
  return { file, width: img.width, height: img.height, roi: area.rect, shape: area.shape, quality: scores, gated: q.gated, reasons: q.reasons, text };
}

export function registerFrame(program: Command): void {
  const frame = program.command('frame').description('look at single frames, e.g. when commissioning a video processor');
  frame
    .command('inspect <image...>')
    .description('per image: the ROI (box and shape), quality scores and the gate verdict, and likely burned-in text')
    .option('--json', 'one JSON object per image, one per line')
    .action(async (files: string[], o: { json?: boolean }) => {
      let failed = 0;
      for (const f of files) {
        let r: FrameReport;
        try {
          r = await inspectFrame(f);
        } catch (err) {
          failed++;
          process.stderr.write(`lumen: ${f}: cannot read the image (${messageOf(err)})\n`);
          continue;
        }
        if (o.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
          continue;
        }
        const q = Object.entries(r.quality).map(([k, v]) => `${k} ${v}`).join(', ');
        process.stdout.write(
          `${basename(f)} ${r.width}×${r.height}\n  roi      ${r.roi.x},${r.roi.y} ${r.roi.width}×${r.roi.height} (${r.shape})\n` +
            `  quality  ${q}\n  verdict  ${r.gated ? `GATED (${r.reasons.join(', ')})` : 'gradable'}\n` +
            (r.text.length
              ? r.text.map((t) => `  text     ${t.x},${t.y} ${t.width}×${t.height} confidence ${t.confidence}${t.inPicture ? ' over the picture: set a privacy mask' : ' beside the picture'}\n`).join('')
              : '  text     none found\n'),
        );
      }
      process.exitCode = failed ? 2 : 0;
    });
}
