// The addon's entry: registers the kernels of the other C files.
#include "kernels.h"

void *typed_array(napi_env env, napi_value v, napi_typedarray_type want, size_t *length, int *ok) {
  napi_typedarray_type type;
  size_t len = 0;
  void *data = NULL;
  *ok = napi_get_typedarray_info(env, v, &type, &len, &data, NULL, NULL) == napi_ok && type == want;
  if (length) *length = len;
  return data;
}

int typed_args(napi_env env, napi_callback_info info, size_t count, const napi_typedarray_type *want, void **a, size_t *n,
               const char *what) {
  napi_value argv[16];
  size_t argc = 16;
  if (count > 16 || napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) argc = 0;
  int ok = argc >= count;
  for (size_t i = 0; ok && i < count; i++) a[i] = typed_array(env, argv[i], want[i], &n[i], &ok);
  if (!ok) napi_throw_type_error(env, NULL, what);
  return ok;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
    {"gridSample", NULL, grid_sample, NULL, NULL, NULL, napi_default, NULL},
    {"gridSharpness", NULL, grid_sharpness, NULL, NULL, NULL, napi_default, NULL},
    {"regionCounts", NULL, region_counts, NULL, NULL, NULL, napi_default, NULL},
    {"resizeInput", NULL, resize_input, NULL, NULL, NULL, napi_default, NULL},
    {"fillRuns", NULL, fill_runs, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
