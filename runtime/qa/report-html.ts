import { basename } from 'node:path';
import type { Verdict } from './baseline.js';
import { METRICS, type MetricName } from './metrics.js';
import type { ReplayResult } from './replay.js';
import { escapeXml as esc, iouPlot, rocPlot, scoreTimeline } from './svg-plots.js';

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1140px;color:#1d2433;padding:0 12px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.muted{color:#667}.badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600;margin-left:8px}
.pass{background:#2f9e44}.fail{background:#e03131}.none{background:#868e96}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f4f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}tr.bad td{background:#fff0f0}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #ddd;border-radius:6px;padding:8px 12px;min-width:120px}
.card b{display:block;font-size:20px}.row{display:flex;gap:24px;flex-wrap:wrap;align-items:flex-start}
.thumbs{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:12px}
.thumbs figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:6px}.thumbs img{width:100%;display:block}
figcaption{font-size:12px;margin-top:4px}.key span{display:inline-block;width:12px;height:12px;vertical-align:middle;margin:0 4px 0 10px}
`;

function num(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : String(v);
}

function expectation(e: Verdict['checks'][number]['expected']): string {
  const parts: string[] = [];
  if (e.min !== undefined) parts.push(`≥ ${e.min}`);
  if (e.max !== undefined) parts.push(`≤ ${e.max}`);
  if (e.value !== undefined) parts.push(`${e.value} ± ${e.tolerance}`);
  return parts.join(', ');
}

function confusion(title: string, rows: [string, string], cols: [string, string], cells: [number | null, number | null, number | null, number | null]): string {
  return `<table><tr><th>${esc(title)}</th><th>${esc(cols[0])}</th><th>${esc(cols[1])}</th></tr><tr><th>${esc(rows[0])}</th><td class="num">${num(cells[0])}</td><td class="num">${num(cells[1])}</td></tr><tr><th>${esc(rows[1])}</th><td class="num">${num(cells[2])}</td><td class="num">${num(cells[3])}</td></tr></table>`;
}

/**
 * report.html: one self-contained page (inline CSS, inline SVG plots, thumbnails as base64
 * JPEG; nothing fetched) showing the verdict, the score over time against the truth with the
 * alert spans, the ROC curve, IoU per frame, the worst frames, episodes, alerts and every metric.
 */
export function reportHtml(r: ReplayResult, verdict: Verdict | null): string {
  const m = r.metrics;
  const s = r.settings;
  const video = r.source.kind === 'video';
  const fps = r.source.fps;
  const when = (i: number) => (video ? `${(i / fps).toFixed(1)} s` : (r.frames[i]?.name ?? `#${i}`));
  const status = verdict
    ? verdict.passed
      ? '<span class="badge pass">PASS</span>'
      : '<span class="badge fail">FAIL</span>'
    : '<span class="badge none">no baseline</span>';
  const out: string[] = [];
  out.push(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>QA replay: ${esc(basename(r.source.path))}</title><style>${CSS}</style></head><body>`,
  );
  out.push(`<h1>QA replay: ${esc(basename(r.source.path))}${status}</h1>`);
  out.push(
    `<div class="muted">${esc(r.source.path)} · ${r.source.kind === 'video' ? 'video' : 'still images'} · ${m.frames} frames` +
      `${r.source.width ? ` · ${r.source.width}×${r.source.height}` : ''} · ${fps} fps${video ? '' : ' (nominal)'} · truth ${esc(r.source.truth)}<br>` +
      `classifier ${esc(s.models.classifier.id)} ${esc(s.models.classifier.version)} · segmenter ${esc(s.models.segmenter.id)} ${esc(s.models.segmenter.version)} · ` +
      `ROI ${s.roi ? 'on' : 'off'} · quality gate ${s.qualityGate ? 'on' : 'off'} · threshold ${s.scoreThreshold} · decision smoothing ${s.decision.smoothing}, raise ${s.decision.raiseThreshold}×${s.decision.raiseFrames}, clear ${s.decision.clearThreshold}×${s.decision.clearFrames}</div>`,
  );

  if (verdict) {
    out.push(`<h2>Verdict against ${esc(verdict.baseline)}</h2><table><tr><th>metric</th><th>value</th><th>expected</th><th>result</th></tr>`);
    for (const c of verdict.checks) {
      out.push(
        `<tr${c.passed ? '' : ' class="bad"'}><td>${esc(c.metric)}</td><td class="num">${num(c.actual)}</td><td>${esc(expectation(c.expected))}</td><td>${c.passed ? 'pass' : `<b>REGRESSED</b>: ${esc(c.message)}`}</td></tr>`,
      );
    }
    out.push('</table>');
  }

  const cards: [string, MetricName][] = [
    ['sensitivity', 'sensitivity'],
    ['specificity', 'specificity'],
    ['AUROC', 'auroc'],
    ['IoU', 'iou'],
    ['Dice', 'dice'],
    ['missed episodes', 'missedEpisodes'],
    ['false alerts / min', 'falseAlertsPerMinute'],
    ['time to alert (mean s)', 'meanTimeToAlertS'],
  ];
  out.push(`<h2>Summary</h2><div class="cards">${cards.map(([label, k]) => `<div class="card"><b>${num(m[k])}</b>${esc(label)}</div>`).join('')}</div>`);

  out.push(`<h2>Score over ${video ? 'time' : 'the image sequence'}</h2>`);
  out.push(scoreTimeline(r.frames, r.alerts, fps, video, { score: s.scoreThreshold, raise: s.decision.raiseThreshold, clear: s.decision.clearThreshold }));

  const op =
    m.fp !== null && m.tn !== null && m.tp !== null && m.fn !== null && m.fp + m.tn > 0 && m.tp + m.fn > 0
      ? { fpr: m.fp / (m.fp + m.tn), tpr: m.tp / (m.tp + m.fn) }
      : null;
  out.push('<h2>Classification</h2><div class="row">');
  out.push(`<div>${rocPlot(r.roc, m.auroc, op)}</div><div>`);
  out.push(confusion(`frames (score ≥ ${s.scoreThreshold})`, ['truth egc', 'truth normal'], ['predicted egc', 'predicted normal'], [m.tp, m.fn, m.fp, m.tn]));
  out.push(`<p class="muted">Over scored frames labelled egc or normal; ungradable frames and frames the gate stopped are left out.</p>`);
  out.push(confusion('quality gate', ['truth ungradable', 'truth gradable'], ['gated', 'passed'], [m.gateTp, m.gateFn, m.gateFp, m.gateTn]));
  out.push(
    `<p class="muted">From each frame's <code>gated</code> field (ProcessedFrame.gated), against the ungradable labels. ` +
      (s.qualityGate
        ? 'The quality gate is on in this config.'
        : '<b>The quality gate is off in this config</b>: no frame is gated, so every ungradable frame counts as let through.') +
      `</p></div></div>`,
  );
  out.push(
    "<h3>Quality gate per reason</h3><table><tr><th>truth</th><th>frames</th><th>passed</th><th>gated</th><th>for the truth's reason</th><th>gate reasons</th></tr>",
  );
  for (const g of r.gate) {
    out.push(
      `<tr><td>${g.truth}</td><td>${g.frames}</td><td>${g.passed}</td><td>${g.gated}</td><td>${g.gatedForReason ?? '—'}</td><td>${
        Object.entries(g.gatedBy)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || '—'
      }</td></tr>`,
    );
  }
  out.push('</table>');

  out.push('<h2>Segmentation: IoU per frame</h2>');
  out.push(iouPlot(r.frames, fps, video));
  out.push(
    `<p class="muted">The segmenter runs only when the classifier's score reaches ${s.segmentAbove}; on lesion frames it skipped, IoU and Dice count as 0 ` +
      `(it ran on ${m.segmentedFraction === null ? '—' : `${Math.round(m.segmentedFraction * 1000) / 10} %`} of them; IoU where it ran: ${num(m.iouSegmented)}). Its mask is mapped back to full-frame pixels through the ROI and compared with the annotation mask; pixel accuracy is over the whole frame.</p>`,
  );

  out.push(
    '<h2>Worst frames</h2><p class="key muted">Truth contour<span style="background:#28ff5a"></span> predicted lesion<span style="background:#ff2828"></span> box<span style="background:#ffc800"></span></p><div class="thumbs">',
  );
  for (const w of r.worst) {
    const rec = w.record;
    const caption =
      `${w.kind === 'lesion' ? 'lesion' : 'normal'} · frame ${w.index}${w.name ? ` (${w.name})` : ''}${video ? ` · ${when(w.index)}` : ''} · score ${num(rec.score)}` +
      (rec.iou !== null ? ` · IoU ${rec.iou}${rec.segmented ? '' : ' (segmenter skipped)'}` : ` · false-positive area ${num(rec.falsePositiveArea)}`);
    out.push(`<figure><img alt="frame ${w.index}" src="data:image/jpeg;base64,${w.jpeg.toString('base64')}"><figcaption>${esc(caption)}</figcaption></figure>`);
  }
  out.push('</div>');

  out.push(
    `<h2>Lesion episodes (${r.episodes.length})</h2><p class="muted">An alert counts for an episode from its first frame to ${s.matchWindowS} s after its last.</p>`,
  );
  out.push('<table><tr><th>#</th><th>frames</th><th>from</th><th>detected</th><th>time to alert</th><th>alerts</th></tr>');
  r.episodes.forEach((e, i) => {
    out.push(
      `<tr${e.detected && e.alerts <= 1 ? '' : ' class="bad"'}><td>${i + 1}</td><td>${e.start}–${e.end}</td><td>${esc(when(e.start))}</td><td>${e.detected ? 'yes' : '<b>missed</b>'}</td><td class="num">${e.timeToAlertS === null ? '—' : `${e.timeToAlertS} s`}</td><td class="num">${e.alerts}</td></tr>`,
    );
  });
  out.push('</table>');

  out.push(
    `<h2>Alerts (${r.alerts.length})</h2><table><tr><th>#</th><th>raised at frame</th><th>cleared at frame</th><th>onset frame</th><th>peak smoothed score</th><th></th></tr>`,
  );
  r.alerts.forEach((a, i) => {
    out.push(
      `<tr${a.falseAlert ? ' class="bad"' : ''}><td>${i + 1}</td><td>${a.raiseFrame} (${esc(when(a.raiseFrame))})</td><td>${a.clearFrame ?? 'still on at the end'}</td><td>${a.onsetFrame}</td><td class="num">${a.peakScore}</td><td>${a.falseAlert ? '<b>false alert</b>' : ''}</td></tr>`,
    );
  });
  out.push('</table>');

  out.push('<h2>All metrics</h2><table><tr><th>metric</th><th>value</th><th>meaning</th><th>better</th></tr>');
  for (const [k, [meaning, better]] of Object.entries(METRICS))
    out.push(`<tr><td>${k}</td><td class="num">${num(m[k as MetricName])}</td><td>${esc(meaning)}</td><td>${better === 'none' ? '' : better}</td></tr>`);
  out.push('</table>');

  const run = r.run;
  out.push(
    `<h2>This run</h2><p class="muted">Not part of any comparison (report.json's <code>run</code>): started ${esc(run.startedAt)}, ${run.wallS} s, ${run.framesPerSecond} frames/s, ` +
      `providers ${esc(run.providers.classifier)}/${esc(run.providers.segmenter)}; mean ms per frame: ${esc(
        Object.entries(run.stageMs)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      )}.</p>`,
  );
  out.push('</body></html>\n');
  return out.join('\n');
}
