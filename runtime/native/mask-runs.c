// The mask plan's runs (roi/mask-plan.ts) written as opaque black in one call.
#include <stdint.h>
#include <string.h>

#include "kernels.h"

// fillRuns(data: Uint8Array, runs: Int32Array): pixels [runs[2i], runs[2i+1]) become 0, 0, 0, 255.
napi_value fill_runs(napi_env env, napi_callback_info info) {
  static const napi_typedarray_type want[2] = {napi_uint8_array, napi_int32_array};
  size_t n[2] = {0};
  void *a[2] = {NULL};
  if (!typed_args(env, info, 2, want, a, n, "kernels: fillRuns(Uint8Array, Int32Array)")) return NULL;
  uint8_t *data = a[0];
  const int32_t *runs = a[1];
  const size_t nData = n[0], nRuns = n[1];
  const size_t pixels = nData / 4;
  // Runs in order, each inside the frame: checked before anything is written.
  int fits = nRuns % 2 == 0;
  for (size_t i = 0; fits && i < nRuns; i += 2) fits = runs[i] >= 0 && runs[i] <= runs[i + 1] && (size_t)runs[i + 1] <= pixels;
  if (!fits) {
    napi_throw_range_error(env, NULL, "kernels: fillRuns() runs outside the frame");
    return NULL;
  }
  // A block of black pixels copied over each run: the C library's copy is faster than a store a pixel.
  uint8_t block[4096];
  for (size_t i = 0; i < sizeof block; i += 4) block[i] = block[i + 1] = block[i + 2] = 0, block[i + 3] = 255;
  for (size_t i = 0; i < nRuns; i += 2) {
    uint8_t *p = data + 4 * (size_t)runs[i];
    for (size_t left = 4 * (size_t)(runs[i + 1] - runs[i]); left > 0;) {
      const size_t n = left < sizeof block ? left : sizeof block;
      memcpy(p, block, n);
      p += n;
      left -= n;
    }
  }
  return NULL;
}
