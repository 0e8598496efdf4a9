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

// The call's `count` arguments as typed arrays of the types in `want` (data in a, lengths in n);
// 0, with a TypeError naming `what` thrown, when one is missing or of another type.
int typed_args(napi_env env, napi_callback_info info, size_t count, const napi_typedarray_type *want, void **a, size_t *n,
               const char *what);

napi_value grid_sample(napi_env env, napi_callback_info info);
napi_value resize_input(napi_env env, napi_callback_info info);
napi_value grid_sharpness(napi_env env, napi_callback_info info);
napi_value region_counts(napi_env env, napi_callback_info info);
napi_value fill_runs(napi_env env, napi_callback_info info);
#endif
