// A model's input from the frame (inference/preprocess.ts): bilinear taps given by the caller,
// then (pixel × scale − mean) / std into planar float32, the JavaScript's terms in its order.
#include <stdint.h>

#include "kernels.h"

/*
 * resizeInput(data: Uint8Array, params: Float64Array[11], xi0, xi1: Int32Array, xw, xw0: Float64Array,
 *             yi0, yi1: Int32Array, yw, yw0: Float64Array, out: Float32Array)
 * params: frame width, height; output width, height; BGR (1) or RGB (0); scale / std and
 * mean / std of the three output planes. Taps per output column (row): the first and second
 * source column (row), the second's weight, and 1 − that weight.
 */
napi_value resize_input(napi_env env, napi_callback_info info) {
  size_t n[11] = {0};
  void *a[11] = {NULL};
  static const napi_typedarray_type want[11] = {napi_uint8_array,   napi_float64_array, napi_int32_array,   napi_int32_array,
                                                napi_float64_array, napi_float64_array, napi_int32_array,   napi_int32_array,
                                                napi_float64_array, napi_float64_array, napi_float32_array};
  if (!typed_args(env, info, 11, want, a, n, "kernels: resizeInput() argument of the wrong type")) return NULL;
  const uint8_t *data = a[0];
  const double *P = a[1];
  const int32_t *xi0 = a[2], *xi1 = a[3], *yi0 = a[6], *yi1 = a[7];
  const double *xw = a[4], *xw0 = a[5], *yw = a[8], *yw0 = a[9];
  float *out = a[10];
  if (n[1] != 11) {
    napi_throw_range_error(env, NULL, "kernels: resizeInput() wants 11 params");
    return NULL;
  }
  const long fw = (long)P[0], fh = (long)P[1], ow = (long)P[2], oh = (long)P[3];
  const int bgr = P[4] != 0;
  const double k0 = P[5], k1 = P[6], k2 = P[7], b0 = P[8], b1 = P[9], b2 = P[10];
  int fits = fw > 0 && fh > 0 && ow > 0 && oh > 0 && n[0] >= (size_t)fw * fh * 4 && n[10] >= 3 * (size_t)ow * oh;
  fits = fits && n[2] >= (size_t)ow && n[3] >= (size_t)ow && n[4] >= (size_t)ow && n[5] >= (size_t)ow;
  fits = fits && n[6] >= (size_t)oh && n[7] >= (size_t)oh && n[8] >= (size_t)oh && n[9] >= (size_t)oh;
  // Every tap inside the frame, checked once, so that the loop needs no checks.
  for (long x = 0; fits && x < ow; x++) fits = xi0[x] >= 0 && xi0[x] < fw && xi1[x] >= 0 && xi1[x] < fw;
  for (long y = 0; fits && y < oh; y++) fits = yi0[y] >= 0 && yi0[y] < fh && yi1[y] >= 0 && yi1[y] < fh;
  if (!fits) {
    napi_throw_range_error(env, NULL, "kernels: resizeInput() sizes or taps do not fit the frame");
    return NULL;
  }
  // Planes in output order: BGR takes blue (byte 2) first.
  const int c0 = bgr ? 2 : 0, c2 = bgr ? 0 : 2;
  const long plane = ow * oh;
  for (long y = 0; y < oh; y++) {
    const uint8_t *row0 = data + 4 * (size_t)yi0[y] * fw, *row1 = data + 4 * (size_t)yi1[y] * fw;
    const double wy = yw[y], wy0 = yw0[y];
    for (long x = 0, i = y * ow; x < ow; x++, i++) {
      const uint8_t *pa = row0 + 4 * xi0[x], *pb = row0 + 4 * xi1[x], *pc = row1 + 4 * xi0[x], *pd = row1 + 4 * xi1[x];
      const double wx = xw[x], wx0 = xw0[x];
      const double w00 = wx0 * wy0, w01 = wx * wy0, w10 = wx0 * wy, w11 = wx * wy;
      const double C0 = pa[c0] * w00 + pb[c0] * w01 + pc[c0] * w10 + pd[c0] * w11;
      const double G = pa[1] * w00 + pb[1] * w01 + pc[1] * w10 + pd[1] * w11;
      const double C2 = pa[c2] * w00 + pb[c2] * w01 + pc[c2] * w10 + pd[c2] * w11;
      out[i] = (float)(C0 * k0 - b0);
      out[plane + i] = (float)(G * k1 - b1);
      out[2 * plane + i] = (float)(C2 * k2 - b2);
    }
  }
  return NULL;
}
