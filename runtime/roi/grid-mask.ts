/**
 * Binary masks on the coarse sample grid of ./active-area.ts: 3×3 opening (erode, dilate) and the
 * largest connected component. One byte per sample, 0 or 1, row-major.
 */

/**
 * 3×3 erosion, separable (a row AND, then a column AND). Beyond the frame counts as lit, so a
 * picture cropped by the frame edge keeps its outer samples.
 */
export function erode(m: Uint8Array, w: number, h: number): Uint8Array {
  const t = new Uint8Array(m.length),
    out = new Uint8Array(m.length);
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      t[r + x] = (x > 0 ? m[r + x - 1] : 1) & m[r + x] & (x < w - 1 ? m[r + x + 1] : 1);
    }
  }
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      out[r + x] = (y > 0 ? t[r - w + x] : 1) & t[r + x] & (y < h - 1 ? t[r + w + x] : 1);
    }
  }
  return out;
}

/** 3×3 dilation, separable (a row OR, then a column OR). */
export function dilate(m: Uint8Array, w: number, h: number): Uint8Array {
  const t = new Uint8Array(m.length),
    out = new Uint8Array(m.length);
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      t[r + x] = (x > 0 ? m[r + x - 1] : 0) | m[r + x] | (x < w - 1 ? m[r + x + 1] : 0);
    }
  }
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      out[r + x] = (y > 0 ? t[r - w + x] : 0) | t[r + x] | (y < h - 1 ? t[r + w + x] : 0);
    }
  }
  return out;
}

/** The largest 4-connected component of m, as a 0/1 mask, and its size in samples. */
export function largestComponent(m: Uint8Array, w: number, h: number): { labels: Uint8Array; size: number } {
  const ids = new Int32Array(m.length);
  const stack = new Int32Array(m.length);
  let next = 0,
    best = 0,
    bestSize = 0;
  for (let s = 0; s < m.length; s++) {
    if (!m[s] || ids[s]) continue;
    const id = ++next;
    let sp = 0,
      size = 0;
    stack[sp++] = s;
    ids[s] = id;
    while (sp > 0) {
      const i = stack[--sp];
      size++;
      const x = i % w;
      if (x > 0 && m[i - 1] && !ids[i - 1]) {
        ids[i - 1] = id;
        stack[sp++] = i - 1;
      }
      if (x < w - 1 && m[i + 1] && !ids[i + 1]) {
        ids[i + 1] = id;
        stack[sp++] = i + 1;
      }
      if (i >= w && m[i - w] && !ids[i - w]) {
        ids[i - w] = id;
        stack[sp++] = i - w;
      }
      if (i < (h - 1) * w && m[i + w] && !ids[i + w]) {
        ids[i + w] = id;
        stack[sp++] = i + w;
      }
    }
    if (size > bestSize) {
      bestSize = size;
      best = id;
    }
  }
  const labels = new Uint8Array(m.length);
  if (best > 0) for (let i = 0; i < m.length; i++) labels[i] = ids[i] === best ? 1 : 0;
  return { labels, size: bestSize };
}
