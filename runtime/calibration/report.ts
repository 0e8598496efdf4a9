import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Frame } from '../frame.js';
import { GATE_REASONS } from '../quality/gate-reasons.js';
import { encodeJpeg } from '../util/image-codec.js';
import type { CalibrationRecord, CalibrationResult } from './calibrate.js';

/** Most thumbnails kept in a report: a folder where everything is gated should not fill memory. */
const MAX_THUMBS = 200;

/** Keeps a JPEG thumbnail of every gated frame, its unusable regions tinted by state. */
export class GatedThumbnails {
  readonly thumbs = new Map<string, string>();

  async keep(r: CalibrationRecord, analysed: Frame): Promise<void> {
    if (!r.gated || this.thumbs.size >= MAX_THUMBS || !r.regions) return;
    const img = { ...analysed, data: new Uint8Array(analysed.data) };
    for (const g of r.regions.cells) {
      if (g.state === 'usable') continue;
      const c = GATE_REASONS[g.state].tint;
      for (let y = g.rect.y; y < Math.min(img.height, g.rect.y + g.rect.height); y++) {
        for (let x = g.rect.x; x < Math.min(img.width, g.rect.x + g.rect.width); x++) {
          const i = (y * img.width + x) * 4;
          const edge = y === g.rect.y || x === g.rect.x;
          for (let k = 0; k < 3; k++) img.data[i + k] = edge ? c[k] : Math.round(img.data[i + k] * 0.7 + c[k] * 0.3);
        }
      }
    }
    this.thumbs.set(r.name, (await encodeJpeg(img, 70, 240)).toString('base64'));
  }
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Writes calibration.json and calibration.html (self-contained) into dir. */
export async function writeCalibrationReport(dir: string, r: CalibrationResult, thumbs: GatedThumbnails): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'calibration.json'), JSON.stringify({ format: 'lumen-calibration/1', ...r }, null, 1) + '\n');
  const s = r.summary;
  const rows = (pairs: [string, unknown][]) => pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(String(v))}</td></tr>`).join('');
  const gated = r.records.filter((x) => x.gated);
  const cut = r.records.filter((x) => x.lesionPx !== null && x.lesionKeptPx! < x.lesionPx);
  const html = `<!doctype html><meta charset="utf-8"><title>Calibration: ${esc(r.folder)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}
.g{display:flex;flex-wrap:wrap;gap:12px}.g figure{margin:0;width:240px}.g figcaption{font-size:12px}.bad{color:#b00}</style>
<h1>Calibration</h1><p>${esc(r.folder)} — analysis size ${r.settings.analysis ? `${r.settings.analysis.width}×${r.settings.analysis.height}` : 'full'}; gate ${r.settings.quality ? esc(JSON.stringify(r.settings.quality)) : 'off'}; ${r.settings.privacyMasks.length} privacy masks.</p>
<h2>Summary</h2><table>${rows([
    ['frames', s.frames],
    ['refused (errors)', s.errors],
    ['gated', s.gated],
    ...Object.entries(s.gatedBy).map(([k, v]) => [`  gated: ${k}`, v] as [string, unknown]),
    ['lesion frames', s.lesionFrames],
    ['lesion frames gated', s.lesionFramesGated],
    ['lesion pixels kept by the ROI', s.lesionKeptShare === null ? '—' : `${s.lesionKeptPx} of ${s.lesionPx} (${(s.lesionKeptShare * 100).toFixed(3)} %)`],
    ['lesion frames losing pixels', s.lesionFramesCut],
    ['frames with text', s.framesWithText],
    ['text blocks', s.textBlocks],
    ['least usable share', s.minUsable ?? '—'],
    ['ms per frame (read / ROI + gate)', `${s.msRead} / ${s.msGate}`],
  ])}</table>
<h2>Gated frames (${gated.length})</h2><p>Unusable regions tinted: dark blue, overexposed yellow, bubbles cyan, bleeding magenta.</p>
<div class="g">${gated.map((x) => `<figure>${thumbs.thumbs.has(x.name) ? `<img width="240" src="data:image/jpeg;base64,${thumbs.thumbs.get(x.name)}">` : ''}<figcaption${(x.lesionPx ?? 0) > 0 ? ' class="bad"' : ''}><b>${esc(x.name)}</b>${(x.lesionPx ?? 0) > 0 ? ' — LESION FRAME' : ''}<br>${x.reasons.join(', ')}<br>${x.explanation.map(esc).join('<br>')}</figcaption></figure>`).join('') || '<p>none</p>'}</div>
<h2>Lesion frames losing pixels to the ROI or a privacy mask (${cut.length})</h2><table>${cut.map((x) => `<tr><td>${esc(x.name)}</td><td>${x.lesionKeptPx} of ${x.lesionPx} kept</td></tr>`).join('') || '<tr><td>none</td></tr>'}</table>
<h2>Refused files (${r.errors.length})</h2><table>${r.errors.map((e) => `<tr><td>${esc(e.name)}</td><td>${e.code}</td><td>${esc(e.message)}</td></tr>`).join('') || '<tr><td>none</td></tr>'}</table>
`;
  await writeFile(join(dir, 'calibration.html'), html);
}
