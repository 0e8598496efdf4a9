// The frame loop's compiled kernels (kernels.ts loads them): what each C file gives the addon.
#ifndef LUMEN_KERNELS_H
#define LUMEN_KERNELS_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "kernels: bad argument to " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

// The data of a typed array of type `want`; *ok is 0 when v is not one.
void *typed_array(napi_env env, napi_value v, napi_typedarray_type want, size_t *length, int *ok);

napi_value grid_sample(napi_env env, napi_callback_info info);
napi_value resize_input(napi_env env, napi_callback_info info);
napi_value grid_sharpness(napi_env env, napi_callback_info info);
napi_value region_counts(napi_env env, napi_callback_info info);
napi_value fill_runs(napi_env env, napi_callback_info info);
#endif
