import type { AlertSpan, FrameRecord } from './metrics.js';

/**
 * Hand-written inline SVG plots for report.html: no plotting library, no external resources.
 * Coordinates are rounded to 0.1 px so the markup is small and the same run to run.
 */

const W = 1100;
const PAD = { left: 48, right: 16, top: 14, bottom: 30 };
const COLORS = {
  score: '#3b6fd8',
  smoothed: '#1b2a4a',
  lesion: '#c9f0cf',
  ungradable: '#e2e2e2',
  alert: '#e03131',
  threshold: '#999',
  iou: '#2f9e44',
  skipped: '#868e96',
  fp: '#e8590c',
};

function f(v: number): string {
  return String(Math.round(v * 10) / 10);
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Runs of consecutive indices where `pred` holds, as [first, last]. */
function runs(frames: readonly FrameRecord[], pred: (r: FrameRecord) => boolean): [number, number][] {
  const out: [number, number][] = [];
  frames.forEach((r, i) => {
    if (!pred(r)) return;
    const last = out.at(-1);
    if (last && last[1] === i - 1) last[1] = i;
    else out.push([i, i]);
  });
  return out;
}

interface Axis {
  x: (i: number) => number;
  y: (v: number) => number;
  plotW: number;
  plotH: number;
  height: number;
}

function axis(n: number, height: number): Axis {
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  return {
    x: (i) => PAD.left + (n <= 1 ? 0 : (i / (n - 1)) * plotW),
    y: (v) => PAD.top + (1 - v) * plotH,
    plotW,
    plotH,
    height,
  };
}

/** Ticks along the frame axis, labelled in seconds (video) or frame numbers (stills). */
function xTicks(a: Axis, n: number, fps: number, seconds: boolean): string {
  const span = seconds ? n / fps : n;
  const steps = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3000, 6000];
  const step = steps.find((s) => span / s <= 12) ?? steps[steps.length - 1];
  let out = '';
  for (let v = 0; v <= span; v += step) {
    const i = seconds ? v * fps : v;
    if (i > n - 1 && n > 1) break;
    const x = f(a.x(i));
    out += `<line x1="${x}" x2="${x}" y1="${f(PAD.top + a.plotH)}" y2="${f(PAD.top + a.plotH + 4)}" stroke="#666"/>`;
    out += `<text x="${x}" y="${f(PAD.top + a.plotH + 16)}" text-anchor="middle">${v}${seconds ? ' s' : ''}</text>`;
  }
  return out;
}

function yTicks(a: Axis, values: number[]): string {
  return values
    .map(
      (v) =>
        `<line x1="${PAD.left - 4}" x2="${f(PAD.left + a.plotW)}" y1="${f(a.y(v))}" y2="${f(a.y(v))}" stroke="#eee"/><text x="${PAD.left - 8}" y="${f(a.y(v) + 4)}" text-anchor="end">${v}</text>`,
    )
    .join('');
}

function polyline(frames: readonly FrameRecord[], a: Axis, value: (r: FrameRecord) => number | null, color: string, width: number): string {
  let out = '';
  let pts: string[] = [];
  const flush = () => {
    if (pts.length) out += `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.join(' ')}"/>`;
    pts = [];
  };
  frames.forEach((r, i) => {
    const v = value(r);
    if (v === null) flush();
    else pts.push(`${f(a.x(i))},${f(a.y(v))}`);
  });
  flush();
  return out;
}

function bands(frames: readonly FrameRecord[], a: Axis, pred: (r: FrameRecord) => boolean, color: string): string {
  const half = frames.length > 1 ? a.plotW / (frames.length - 1) / 2 : 1;
  return runs(frames, pred)
    .map(([s, e]) => `<rect x="${f(a.x(s) - half)}" y="${PAD.top}" width="${f(a.x(e) - a.x(s) + 2 * half)}" height="${f(a.plotH)}" fill="${color}"/>`)
    .join('');
}

function hline(a: Axis, v: number, label: string): string {
  const y = f(a.y(v));
  return `<line x1="${PAD.left}" x2="${f(PAD.left + a.plotW)}" y1="${y}" y2="${y}" stroke="${COLORS.threshold}" stroke-dasharray="4 3"/><text x="${f(PAD.left + a.plotW - 4)}" y="${f(a.y(v) - 3)}" text-anchor="end" fill="#777">${escapeXml(label)}</text>`;
}

function svg(height: number, body: string, width = W): string {
  const size = width < W ? `width="${width}" height="${height}"` : 'width="100%"';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" ${size} style="max-width:${width}px" font-family="sans-serif" font-size="11">${body}</svg>`;
}

function legend(items: [string, string, 'line' | 'box'][], x: number, y: number): string {
  let out = '';
  let cx = x;
  for (const [label, color, kind] of items) {
    out +=
      kind === 'line'
        ? `<line x1="${cx}" x2="${cx + 16}" y1="${y - 4}" y2="${y - 4}" stroke="${color}" stroke-width="2"/>`
        : `<rect x="${cx}" y="${y - 9}" width="16" height="10" fill="${color}"/>`;
    out += `<text x="${cx + 20}" y="${y}">${escapeXml(label)}</text>`;
    cx += 28 + label.length * 6;
  }
  return out;
}

/**
 * Raw and smoothed score over time on the truth (green: lesion in view, grey: ungradable), the
 * operating, raise and clear thresholds, and the alert spans as red bars under the plot.
 */
export function scoreTimeline(
  frames: readonly FrameRecord[],
  alerts: readonly AlertSpan[],
  fps: number,
  seconds: boolean,
  t: { score: number; raise: number; clear: number },
): string {
  const n = frames.length;
  const a = axis(n, 300);
  const alertY = PAD.top + a.plotH + 22;
  let body = bands(frames, a, (r) => r.lesion, COLORS.lesion) + bands(frames, a, (r) => r.label === 'ungradable', COLORS.ungradable);
  body += yTicks(a, [0, 0.25, 0.5, 0.75, 1]);
  body += hline(a, t.score, `threshold ${t.score}`) + hline(a, t.raise, `raise ${t.raise}`) + hline(a, t.clear, `clear ${t.clear}`);
  body += polyline(frames, a, (r) => r.score, COLORS.score, 1) + polyline(frames, a, (r) => r.smoothed, COLORS.smoothed, 2);
  for (const s of alerts) {
    const x0 = a.x(s.raiseFrame);
    const x1 = a.x(s.clearFrame ?? n - 1);
    body += `<rect x="${f(x0)}" y="${f(alertY)}" width="${f(Math.max(2, x1 - x0))}" height="8" fill="${s.falseAlert ? '#f08c00' : COLORS.alert}"><title>alert frames ${s.raiseFrame}–${s.clearFrame ?? 'end'}${s.falseAlert ? ' (false alert)' : ''}</title></rect>`;
  }
  const ticks = xTicks({ ...a, plotH: a.plotH + 22 }, n, fps, seconds);
  body += ticks;
  body += legend(
    [
      ['raw score', COLORS.score, 'line'],
      ['smoothed', COLORS.smoothed, 'line'],
      ['lesion in view (truth)', COLORS.lesion, 'box'],
      ['ungradable (truth)', COLORS.ungradable, 'box'],
      ['alert', COLORS.alert, 'box'],
      ['false alert', '#f08c00', 'box'],
    ],
    PAD.left,
    a.height + 26,
  );
  return svg(a.height + 34, body);
}

/** IoU of each scored lesion frame (green bars; grey crosses where the segmenter did not run) and predicted area on normal frames (orange, downwards, share of the frame × 10). */
export function iouPlot(frames: readonly FrameRecord[], fps: number, seconds: boolean): string {
  const n = frames.length;
  const a = axis(n, 220);
  const zero = a.y(0.2);
  const scaleY = (v: number) => zero - v * (zero - PAD.top);
  const bar = Math.max(1, a.plotW / Math.max(1, n) - 0.5);
  let body = bands(frames, a, (r) => r.lesion, COLORS.lesion);
  for (const v of [0, 0.5, 1])
    body += `<line x1="${PAD.left - 4}" x2="${f(PAD.left + a.plotW)}" y1="${f(scaleY(v))}" y2="${f(scaleY(v))}" stroke="#eee"/><text x="${PAD.left - 8}" y="${f(scaleY(v) + 4)}" text-anchor="end">${v}</text>`;
  frames.forEach((r, i) => {
    const x = a.x(i);
    if (r.iou !== null) {
      if (r.segmented)
        body += `<rect x="${f(x - bar / 2)}" y="${f(scaleY(r.iou))}" width="${f(bar)}" height="${f(zero - scaleY(r.iou))}" fill="${COLORS.iou}"/>`;
      else body += `<path d="M${f(x - 2)} ${f(zero - 2)}l4 4m0 -4l-4 4" stroke="${COLORS.skipped}"/>`;
    } else if (r.falsePositiveArea !== null && r.falsePositiveArea > 0) {
      const h = Math.min(PAD.top + a.plotH - zero, r.falsePositiveArea * 10 * (zero - PAD.top));
      body += `<rect x="${f(x - bar / 2)}" y="${f(zero)}" width="${f(bar)}" height="${f(Math.max(1, h))}" fill="${COLORS.fp}"/>`;
    }
  });
  body += `<line x1="${PAD.left}" x2="${f(PAD.left + a.plotW)}" y1="${f(zero)}" y2="${f(zero)}" stroke="#666"/>`;
  body += xTicks(a, n, fps, seconds);
  body += legend(
    [
      ['IoU, lesion frame', COLORS.iou, 'box'],
      ['segmenter skipped (IoU 0)', COLORS.skipped, 'line'],
      ['false-positive area ×10, normal frame', COLORS.fp, 'box'],
    ],
    PAD.left,
    a.height + 26,
  );
  return svg(a.height + 34, body);
}

/** ROC curve of the raw score with the diagonal and the operating point. */
export function rocPlot(
  roc: readonly { fpr: number; tpr: number; threshold: number }[],
  auroc: number | null,
  op: { fpr: number; tpr: number } | null,
): string {
  const S = 300;
  const p = 40;
  const x = (v: number) => p + v * (S - 2 * p);
  const y = (v: number) => S - p - v * (S - 2 * p);
  let body = `<rect x="${p}" y="${p}" width="${S - 2 * p}" height="${S - 2 * p}" fill="none" stroke="#999"/>`;
  body += `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#ccc" stroke-dasharray="4 3"/>`;
  for (const v of [0, 0.5, 1])
    body += `<text x="${f(x(v))}" y="${S - p + 16}" text-anchor="middle">${v}</text><text x="${p - 6}" y="${f(y(v) + 4)}" text-anchor="end">${v}</text>`;
  body += `<text x="${S / 2}" y="${S - 6}" text-anchor="middle">false positive rate</text><text transform="translate(12 ${S / 2}) rotate(-90)" text-anchor="middle">sensitivity</text>`;
  if (roc.length)
    body += `<polyline fill="none" stroke="${COLORS.score}" stroke-width="2" points="${roc.map((r) => `${f(x(r.fpr))},${f(y(r.tpr))}`).join(' ')} ${f(x(1))},${f(y(1))}"/>`;
  else body += `<text x="${S / 2}" y="${S / 2}" text-anchor="middle">needs both egc and normal frames</text>`;
  if (op) body += `<circle cx="${f(x(op.fpr))}" cy="${f(y(op.tpr))}" r="5" fill="${COLORS.alert}"><title>operating point</title></circle>`;
  body += `<text x="${p + 8}" y="${p + 16}">AUROC ${auroc ?? 'n/a'}</text>`;
  return svg(S, body, S);
}
