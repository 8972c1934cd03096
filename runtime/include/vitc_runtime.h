/*===- vitc_runtime.h - C API of the vitc runtime ------------------------===*\
 *
 * Load a compiled model (.vtc), inspect its inputs and outputs, run it on
 * caller tensors. vitc-run uses exactly this API.
 *
 * Functions returning int return 0 on success and -1 on error; functions
 * returning pointers return NULL on error. vitc_last_error() then describes
 * the error (per thread). All tensors are dense, C order.
 *
\*===----------------------------------------------------------------------===*/
#ifndef VITC_RUNTIME_H
#define VITC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vitc_dtype {
  VITC_DTYPE_F32 = 1,
  VITC_DTYPE_F16,
  VITC_DTYPE_BF16,
  VITC_DTYPE_F64,
  VITC_DTYPE_I64,
  VITC_DTYPE_I32,
  VITC_DTYPE_I8,
  VITC_DTYPE_U8,
  VITC_DTYPE_I1, /* one byte per element, 0 or 1 */
} vitc_dtype;

#define VITC_MAX_RANK 8

typedef struct vitc_tensor {
  vitc_dtype dtype;
  int32_t rank;
  int64_t shape[VITC_MAX_RANK];
  void *data;
} vitc_tensor;

/* Description of an input or output; shape entries of -1 are dynamic. Valid
 * while the model lives. */
typedef struct vitc_tensor_info {
  const char *name;
  vitc_dtype dtype;
  int32_t rank;
  const int64_t *shape;
} vitc_tensor_info;

typedef struct vitc_model vitc_model;

/* Loads an artifact for the host CPU. */
vitc_model *vitc_model_load(const char *path);
void vitc_model_free(vitc_model *model);

int32_t vitc_model_num_inputs(const vitc_model *model);
int32_t vitc_model_num_outputs(const vitc_model *model);
int vitc_model_input_info(const vitc_model *model, int32_t index,
                          vitc_tensor_info *info);
int vitc_model_output_info(const vitc_model *model, int32_t index,
                           vitc_tensor_info *info);

/* Runs the model. `inputs` are read only. On success each of the
 * `num_outputs` (must equal vitc_model_num_outputs) tensors in `outputs`
 * receives newly allocated data; release it with vitc_tensor_free. */
int vitc_model_run(vitc_model *model, const vitc_tensor *inputs,
                   int32_t num_inputs, vitc_tensor *outputs,
                   int32_t num_outputs);

/* Frees the data of an output tensor and sets it to NULL. */
void vitc_tensor_free(vitc_tensor *tensor);

/* Threads for kernels (OpenMP and oneDNN); n <= 0 restores the default. */
int vitc_set_num_threads(int32_t n);

/* The last error of this thread, or "" if none. */
const char *vitc_last_error(void);

/* "f32", ...; NULL for an invalid value. */
const char *vitc_dtype_name(vitc_dtype dtype);
/* Bytes per element; 0 for an invalid value. */
size_t vitc_dtype_size(vitc_dtype dtype);

#ifdef __cplusplus
}
#endif

#endif /* VITC_RUNTIME_H */
