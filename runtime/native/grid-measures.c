// The quality gate's two passes over its grid of cells (quality/sharpness.ts sharpnessOf and the
// counting pass of quality/regions.ts judgeRegions), with the JavaScript's arithmetic in its order.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels.h"

/*
 * gridSharpness(luma: Float32Array, kind: Uint8Array, params: Float64Array[3]) → number
 * params: cells across, down, the focus kind bit. Cells pooled 2 × 2 into single-precision
 * means (NaN where a pooled cell lacks focus), then RMS Laplacian over RMS gradient.
 */
napi_value grid_sharpness(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type want[3] = {napi_float32_array, napi_uint8_array, napi_float64_array};
  size_t n[3] = {0};
  void *a[3] = {NULL};
  if (!typed_args(env, info, 3, want, a, n, "kernels: gridSharpness(Float32Array, Uint8Array, Float64Array)")) return NULL;
  const float *mean = a[0];
  const uint8_t *kind = a[1];
  const double *P = a[2];
  const size_t nLuma = n[0], nKind = n[1], nP = n[2];
  const long gw = nP == 3 ? (long)P[0] : 0, gh = nP == 3 ? (long)P[1] : 0;
  if (nP != 3 || gw < 1 || gh < 1 || nLuma < (size_t)(gw * gh) || nKind < (size_t)(gw * gh)) {
    napi_throw_range_error(env, NULL, "kernels: gridSharpness() sizes do not fit together");
    return NULL;
  }
  const uint8_t focus = (uint8_t)P[2];
  const long pw = gw / 2, ph = gh / 2;
  float *pm = malloc(sizeof(float) * (pw * ph > 0 ? pw * ph : 1));
  if (!pm) {
    napi_throw_error(env, NULL, "kernels: out of memory");
    return NULL;
  }
  for (long py = 0; py < ph; py++)
    for (long px = 0, c = py * 2 * gw, p = py * pw; px < pw; px++, c += 2, p++) {
      const int all = focus & kind[c] & kind[c + 1] & kind[c + gw] & kind[c + gw + 1];
      pm[p] = all ? (float)(((((double)mean[c] + mean[c + 1]) + mean[c + gw]) + mean[c + gw + 1]) / 4) : NAN;
    }
  double lapSq = 0, gradSq = 0;
  for (long y = 1; y < ph - 1; y++)
    for (long x = 1, c = y * pw + 1; x < pw - 1; x++, c++) {
      const double l = pm[c - 1], r = pm[c + 1], u = pm[c - pw], d = pm[c + pw];
      const double lap = (((l + r) + u) + d) - 4 * (double)pm[c];
      if (lap != lap) continue;  // NaN: some cell of the cross is left out
      const double gx = (r - l) / 2, gy = (d - u) / 2;
      lapSq += lap * lap;
      gradSq += gx * gx + gy * gy;
    }
  free(pm);
  napi_value result;
  CHECK(napi_create_double(env, gradSq > 0 ? sqrt(lapSq / gradSq) : 0, &result));
  return result;
}

/*
 * regionCounts(valid, kind: Uint8Array, layout: Int32Array, counts: Int32Array, patches: Uint8Array)
 * layout: gw, gh, cols, patches across (pw), kind bits dark, clipped, blood, lit; then
 * the column cuts (cols + 1), each row's region row and patch row (gh each), each column's patch (gw).
 * counts: picture, dark, clipped and blood cells per region, added to (4 blocks of cols × rows).
 * patches: whether each patch holds picture, then whether it holds a highlight (2 blocks), set.
 */
napi_value region_counts(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type want[5] = {napi_uint8_array, napi_uint8_array, napi_int32_array, napi_int32_array, napi_uint8_array};
  size_t n[5] = {0};
  void *a[5] = {NULL};
  if (!typed_args(env, info, 5, want, a, n, "kernels: regionCounts() argument of the wrong type")) return NULL;
  const uint8_t *valid = a[0], *kind = a[1];
  const int32_t *L = a[2];
  int32_t *counts = a[3];
  uint8_t *flags = a[4];
  const long head = 8;
  const long gw = n[2] >= (size_t)head ? L[0] : 0, gh = n[2] >= (size_t)head ? L[1] : 0;
  const long cols = n[2] >= (size_t)head ? L[2] : 0, pw = n[2] >= (size_t)head ? L[3] : 0;
  int fits = gw > 0 && gh > 0 && cols > 0 && pw > 0 && n[2] == (size_t)(head + cols + 1 + 2 * gh + gw);
  fits = fits && n[0] >= (size_t)(gw * gh) && n[1] >= (size_t)(gw * gh);
  const int32_t *xs = L + head, *regionRow = xs + cols + 1, *patchRow = regionRow + gh, *patchOfX = patchRow + gh;
  long rows = 0, prows = 0;
  for (long y = 0; fits && y < gh; y++) {
    if (regionRow[y] + 1 > rows) rows = regionRow[y] + 1;
    if (patchRow[y] + 1 > prows) prows = patchRow[y] + 1;
    fits = regionRow[y] >= 0 && patchRow[y] >= 0;
  }
  fits = fits && xs[0] == 0 && xs[cols] == gw;
  for (long t = 0; fits && t < cols; t++) fits = xs[t] <= xs[t + 1];
  for (long x = 0; fits && x < gw; x++) fits = patchOfX[x] >= 0 && patchOfX[x] < pw;
  fits = fits && n[3] >= (size_t)(4 * cols * rows) && n[4] >= (size_t)(2 * pw * prows);
  if (!fits) {
    napi_throw_range_error(env, NULL, "kernels: regionCounts() layout does not fit the grid");
    return NULL;
  }
  const int kDark = L[4], kClipped = L[5], kBlood = L[6], kLit = L[7];
  const long nReg = cols * rows, nPatch = pw * prows;
  int32_t *cn = counts, *cd = counts + nReg, *cc = counts + 2 * nReg, *cb = counts + 3 * nReg;
  uint8_t *any = flags, *lit = flags + nPatch;
  for (long y = 0; y < gh; y++) {
    const long regRow = (long)regionRow[y] * cols, pRow = (long)patchRow[y] * pw;
    for (long tx = 0; tx < cols; tx++) {
      int32_t sn = 0, sd = 0, sc = 0, sb = 0;
      for (long x = xs[tx], c = y * gw + x; x < xs[tx + 1]; x++, c++) {
        if (!valid[c]) continue;
        const int k = kind[c];
        sn++;
        sd += (k & kDark) != 0;
        sc += (k & kClipped) != 0;
        sb += (k & kBlood) != 0;
        any[pRow + patchOfX[x]] = 1;
        if (k & kLit) lit[pRow + patchOfX[x]] = 1;
      }
      const long reg = regRow + tx;
      cn[reg] += sn;
      cd[reg] += sd;
      cc[reg] += sc;
      cb[reg] += sb;
    }
  }
  return NULL;
}
