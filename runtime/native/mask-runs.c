// The mask plan's runs (roi/mask-plan.ts) written as opaque black in one call.
#include <stdint.h>
#include <string.h>

#include "kernels.h"

// fillRuns(data: Uint8Array, runs: Int32Array): pixels [runs[2i], runs[2i+1]) become 0, 0, 0, 255.
napi_value fill_runs(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  size_t nData = 0, nRuns = 0;
  int ok1 = 0, ok2 = 0;
  uint8_t *data = argc == 2 ? typed_array(env, argv[0], napi_uint8_array, &nData, &ok1) : NULL;
  const int32_t *runs = argc == 2 ? typed_array(env, argv[1], napi_int32_array, &nRuns, &ok2) : NULL;
  if (!ok1 || !ok2) {
    napi_throw_type_error(env, NULL, "kernels: fillRuns(Uint8Array, Int32Array)");
    return NULL;
  }
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
