// The quality gate's sampling pass (quality/analysis-grid.ts sampleCells) in C: the same samples,
// integer sums, single-precision means and luma, and the same cell kinds, bit for bit.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

// A grid is at most this many cells across (GRID_CELLS, or fewer on a small ROI).
#define MAX_GW 1024

// 1 / k for the few samples a cell holds: the same double as the division, without it.
#define INV_TABLE 64

// The cell limits and kind bits (regions.ts), as the call passes them.
typedef struct {
  double dark, clipped, washed, white, bloodRed, bloodGreen, bloodBlue, focusSlope, focusOffset, brightLit;
  uint8_t kDark, kClipped, kBlood, kLit, kFocus;
} Limits;

// regions.ts cellKind: the same tests in the same order, in double precision.
static uint8_t cell_kind(const Limits *L, double l, double r, double g, double b, double white) {
  uint8_t k = 0;
  if (l < L->dark) k = L->kDark;
  else if (l >= L->clipped || (r >= L->washed && g >= L->washed && b >= L->washed)) k = L->kClipped;
  else if (r >= L->bloodRed && g <= L->bloodGreen * r && b <= L->bloodBlue * r) k = L->kBlood;
  int lit = white >= L->white;
  if (lit) k |= L->kLit;
  int bright = l >= L->clipped || (lit && l >= L->brightLit);
  if (!bright && l >= L->dark && white <= L->focusSlope * l + L->focusOffset) k |= L->kFocus;
  return k;
}

/*
 * gridSample(data: Uint8Array, params: Float64Array[24], spans: Int32Array,
 *            valid: Uint8Array, luma: Float32Array, kind: Uint8Array, sums: Float64Array[2])
 * params: frame width, height; rect x, y, width, height; cell size; cells across, down; then the
 * ten cell limits and five kind bits (analysis-grid.ts). spans: per row of the rect, the
 * picture's first and last column (first > last: none), clipped to the rect here; empty: no outline. sums: picture cells, sum of their lumas.
 */
napi_value grid_sample(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type want[7] = {napi_uint8_array, napi_float64_array, napi_int32_array, napi_uint8_array,
                                               napi_float32_array, napi_uint8_array, napi_float64_array};
  size_t n[7] = {0};
  void *arg[7] = {NULL};
  if (!typed_args(env, info, 7, want, arg, n, "kernels: gridSample() argument of the wrong type")) return NULL;
  const uint8_t *data = arg[0];
  const double *P = arg[1];
  const int32_t *spans = n[2] ? arg[2] : NULL;
  uint8_t *valid = arg[3], *kind = arg[5];
  float *luma = arg[4];
  double *sums = arg[6];
  const size_t nData = n[0], nP = n[1], nSpans = n[2], nValid = n[3], nLuma = n[4], nKind = n[5], nSums = n[6];
  if (nP != 24 || nSums != 2) {
    napi_throw_range_error(env, NULL, "kernels: gridSample() wants 24 params and 2 sums");
    return NULL;
  }
  const long W = (long)P[0], H = (long)P[1], x0 = (long)P[2], y0 = (long)P[3], rw = (long)P[4], rh = (long)P[5];
  const double cs = P[6];
  const long gw = (long)P[7], gh = (long)P[8];
  const Limits L = {P[9], P[10], P[11], P[12], P[13], P[14], P[15], P[16], P[17], P[18],
                    (uint8_t)P[19], (uint8_t)P[20], (uint8_t)P[21], (uint8_t)P[22], (uint8_t)P[23]};
  // Everything the loops read or write is checked here once, so that they need no checks.
  if (!(cs >= 1) || gw < 1 || gh < 1 || gw > MAX_GW || rw < 1 || rh < 1 || x0 < 0 || y0 < 0 || x0 + rw > W || y0 + rh > H ||
      (size_t)gw * gh > nValid || (size_t)gw * gh > nLuma || (size_t)gw * gh > nKind || nData < (size_t)W * H * 4 ||
      (spans && nSpans < 2 * (size_t)rh)) {
    napi_throw_range_error(env, NULL, "kernels: gridSample() sizes do not fit together");
    return NULL;
  }
  int32_t *cell = malloc(sizeof(int32_t) * rw);
  if (!cell) {
    napi_throw_error(env, NULL, "kernels: out of memory");
    return NULL;
  }
  // Per rect column: its cell's index in the row, as the JavaScript's accOfX (which holds 4 ×).
  for (long x = 0; x < rw; x++) {
    long c = (long)floor(x / cs);
    cell[x] = (int32_t)(c < gw - 1 ? c : gw - 1);
  }
  double inv[INV_TABLE];
  for (int i = 1; i < INV_TABLE; i++) inv[i] = 1.0 / i;  // inv[1] is 1: a lone sample stays itself
  // Per cell of the row: R, G, B and the count in 16-bit lanes. A cell holds a few samples (two
  // a side; a few more in the last column, which takes the rect's leftover columns), far under
  // the 257 that would carry one lane into the next.
  uint64_t acc[MAX_GW];
  uint8_t white[MAX_GW];
  memset(acc, 0, sizeof(uint64_t) * gw);
  memset(white, 0, gw);
  const long sub = (long)floor(cs);
  const long yEnd = y0 + (rh < (long)floor(gh * cs) ? rh : (long)floor(gh * cs));
  long cells = 0, y = y0;
  double lumaSum = 0;
  for (long cy = 0; cy < gh; cy++) {
    // The sampled rows of this row of cells.
    for (; y < yEnd; y += sub) {
      long row = (long)floor((y - y0) / cs);
      if ((row < gh - 1 ? row : gh - 1) != cy) break;
      long xa = x0, xb = x0 + rw - 1;
      if (spans) {
        long a = spans[2 * (y - y0)], b = spans[2 * (y - y0) + 1];
        if (a > b) continue;
        if (a > xa) xa = a;
        if (b < xb) xb = b;
      }
      const uint8_t *p = data + 4 * (y * W + xa);
      for (long x = xa; x <= xb; x += sub, p += 4 * sub) {
        const uint64_t r = p[0], g = p[1], b = p[2];
        const int c = cell[x - x0];
        // R, G, B and the count in 16-bit lanes of one word: one sum per sample, not four.
        acc[c] += r | g << 16 | b << 32 | (uint64_t)1 << 48;
        uint8_t mn = r < g ? r : g;
        if (b < mn) mn = b;
        if (mn > white[c]) white[c] = mn;
      }
    }
    // The row of cells is complete: its cells; the sums are cleared as read.
    for (long x = 0, c = cy * gw; x < gw; x++, c++) {
      const uint64_t sum = acc[x];
      const int k = (int)(sum >> 48);
      if (k == 0) {
        valid[c] = 0;
        luma[c] = 0;
        kind[c] = 0;
        continue;
      }
      // Means at single precision, as the JavaScript's. For one sample the product by 1 is the
      // sample itself, exactly: no branch on the count, whose pattern along a row is irregular.
      const double q = k < INV_TABLE ? inv[k] : 1.0 / k;
      const double r = (float)((double)(sum & 0xffff) * q), g = (float)((double)(sum >> 16 & 0xffff) * q),
                   b = (float)((double)(sum >> 32 & 0xffff) * q);
      float l = (float)(0.299 * r + 0.587 * g + 0.114 * b);
      luma[c] = l;
      lumaSum += l;
      kind[c] = cell_kind(&L, l, r, g, b, white[x]);
      valid[c] = 1;
      cells++;
      acc[x] = 0;
      white[x] = 0;
    }
  }
  free(cell);
  sums[0] = (double)cells;
  sums[1] = lumaSum;
  return NULL;
}
