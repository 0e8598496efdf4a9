// Draws the newest overlay on the canvas: the picture area, the preview or the ROI outline, the
// attention heatmap, contours and box; records where it drew for lumenView.geometry().
import { BOX_ALERT, BOX_WATCH, CONTOUR, NEUTRAL, PREVIEW_MAX_AGE_MS, ROI_OUTLINE, el, s } from './state.js';

const ctx = el.canvas.getContext('2d');

function fit(w, h, cw, ch) {
  const k = Math.min(cw / w, ch / h);
  const fw = w * k;
  const fh = h * k;
  return { x: (cw - fw) / 2, y: (ch - fh) / 2, width: fw, height: fh, scale: k };
}

function mapRect(r, f) {
  return r ? { x: f.x + r.x * f.scale, y: f.y + r.y * f.scale, width: r.width * f.scale, height: r.height * f.scale } : null;
}

export function draw() {
  const c = el.canvas;
  const dpr = window.devicePixelRatio || 1;
  const cw = Math.max(1, Math.round(c.clientWidth * dpr));
  const ch = Math.max(1, Math.round(c.clientHeight * dpr));
  if (c.width !== cw || c.height !== ch) {
    c.width = cw;
    c.height = ch;
  }
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, cw, ch);
  const o = s.overlay;
  if (!o) {
    s.geometry = null;
    return;
  }
  const f = fit(o.header.width, o.header.height, cw, ch);
  ctx.fillStyle = NEUTRAL;
  ctx.fillRect(f.x, f.y, f.width, f.height);
  const roi = mapRect(o.header.roi, f);
  const p = s.preview;
  const previewShown = !!p && performance.now() - p.at <= PREVIEW_MAX_AGE_MS;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  if (previewShown) {
    // The preview shows the ROI only (nothing outside it leaves the appliance).
    const pr = mapRect(p.header.roi, f);
    ctx.drawImage(p.bitmap, pr.x, pr.y, pr.width, pr.height);
  } else if (roi) {
    // No picture: outline where the models look, so the contour has a frame of reference.
    ctx.strokeStyle = ROI_OUTLINE;
    ctx.lineWidth = Math.max(1, 2 * dpr);
    ctx.strokeRect(roi.x, roi.y, roi.width, roi.height);
  }
  const g = o.header.geometry;
  if (g.attention) drawHeatmap(g.attention, f);
  const contours = g.contours.map((poly) => poly.map((v, i) => (i % 2 === 0 ? f.x + v * f.scale : f.y + v * f.scale)));
  ctx.strokeStyle = CONTOUR;
  ctx.lineWidth = Math.max(1.5, 2 * dpr);
  ctx.lineJoin = 'round';
  for (const poly of contours) {
    ctx.beginPath();
    for (let i = 0; i < poly.length; i += 2) (i === 0 ? ctx.moveTo : ctx.lineTo).call(ctx, poly[i], poly[i + 1]);
    ctx.closePath();
    ctx.stroke();
  }
  const box = mapRect(o.header.box, f);
  if (box) {
    ctx.strokeStyle = o.header.alert ? BOX_ALERT : BOX_WATCH;
    ctx.lineWidth = Math.max(2, 3 * dpr);
    ctx.strokeRect(box.x, box.y, box.width, box.height);
  }
  s.geometry = { canvas: { width: cw, height: ch }, image: f, roi, box, contours, frameId: o.header.frameId, preview: previewShown };
}

// The attention grid: a few cells, coloured yellow (weak) to red (strong), smoothed as it is
// stretched over the area the models saw.
function drawHeatmap(a, f) {
  const grid = document.createElement('canvas');
  grid.width = a.width;
  grid.height = a.height;
  const g = grid.getContext('2d');
  const img = g.createImageData(a.width, a.height);
  a.values.forEach((v, i) => {
    const k = v / 255;
    img.data.set(k < 0.2 ? [0, 0, 0, 0] : [255, Math.round(220 * (1 - k)), 0, Math.round(40 + 100 * k)], i * 4);
  });
  g.putImageData(img, 0, 0);
  const r = mapRect(a.rect, f);
  ctx.drawImage(grid, r.x, r.y, r.width, r.height);
}

new ResizeObserver(() => draw()).observe(el.picture);

