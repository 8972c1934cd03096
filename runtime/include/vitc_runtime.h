/*===- vitc_runtime.h - C API of the vitc runtime ------------------------===*\
 *
 * Load a compiled model (.vtc, from a file or from memory), inspect its
 * functions and their inputs and outputs, run them on caller tensors (or in
 * a session: bound caller memory, no allocation per call), read a training
 * artifact's hyperparameters and initial values. vitc-run uses exactly this
 * API.
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

/* --- Versions ---------------------------------------------------------------
 * The version of this header and of the library (the vitc release, CMake's
 * project version). Within a major version >= 1 a newer library runs
 * applications built against older headers; before 1.0, the same minor
 * version is needed. vitc_runtime_version() is the library's: compare it
 * with VITC_RUNTIME_VERSION to refuse an older library than the headers. */
#define VITC_RUNTIME_VERSION_MAJOR 0
#define VITC_RUNTIME_VERSION_MINOR 1
#define VITC_RUNTIME_VERSION_PATCH 0
#define VITC_RUNTIME_VERSION_STRING "0.1.0"
#define VITC_RUNTIME_MAKE_VERSION(major, minor, patch)                        \
  ((major) * 1000000 + (minor) * 1000 + (patch))
#define VITC_RUNTIME_VERSION                                                  \
  VITC_RUNTIME_MAKE_VERSION(VITC_RUNTIME_VERSION_MAJOR,                       \
                            VITC_RUNTIME_VERSION_MINOR,                       \
                            VITC_RUNTIME_VERSION_PATCH)

/* The library's VITC_RUNTIME_VERSION and VITC_RUNTIME_VERSION_STRING. */
int32_t vitc_runtime_version(void);
const char *vitc_runtime_version_string(void);
/* The artifact format version the library loads; a .vtc file of another
 * version is refused with an error naming both (recompile it with a vitc of
 * this release). */
int32_t vitc_runtime_artifact_format(void);

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
  /* What the tensor is to a trainer, "" for a plain inference tensor.
   * Inputs: "data", "label", "param", "buffer", "opt_state", "lr", "step",
   * "seed"; outputs: "loss", "correct", "logits", "grad_norm", and "param",
   * "buffer", "opt_state" for new values of inputs. */
  const char *role;
  /* For an output: the name of the input it replaces after a call (feed it
   * back at the next call); "" otherwise. */
  const char *updates;
  /* Of a sharded tensor (vitc --shard fsdp: params and optimizer state):
   * the whole tensor's shape (full_rank dims); the tensor is this rank's
   * block of the whole flattened, world size blocks of ceil(numel / size)
   * elements, zero-padded at the end. full_rank -1: not sharded. */
  int32_t full_rank;
  const int64_t *full_shape;
} vitc_tensor_info;

typedef struct vitc_model vitc_model;

/* Loads an artifact for the host CPU. */
vitc_model *vitc_model_load(const char *path);

/* The same for an artifact compiled with `vitc --weights-file`, with its
 * weights read from `weights_path` (NULL: the file the artifact names,
 * relative to its directory). The file must have the artifact's weights
 * layout; an error says which differs. */
vitc_model *vitc_model_load_with_weights(const char *path,
                                         const char *weights_path);
/* The same for an artifact in memory (e.g. embedded in the application):
 * `size` bytes at `data`. 64-byte aligned data is used in place and must
 * stay valid and unchanged while the model lives; other data is copied
 * once. weights_path: as above, but required for an artifact compiled with
 * --weights-file (memory has no directory to find its file in). Errors name
 * the artifact "<memory>". */
vitc_model *vitc_model_load_from_memory(const void *data, size_t size,
                                        const char *weights_path);
void vitc_model_free(vitc_model *model);

/* "inference" or "train"; NULL if model is NULL. */
const char *vitc_model_mode(const vitc_model *model);

/* The model file the artifact was compiled from, as given to vitc (may be
 * relative to vitc's working directory; "" if unknown); NULL if model is
 * NULL. */
const char *vitc_model_source(const vitc_model *model);

/* --- Functions -------------------------------------------------------------
 * An artifact has one or more functions, numbered from 0 in manifest order:
 * inference artifacts one, "main"; training artifacts "train_step" and
 * "eval_step". */

/* Number of functions; -1 if model is NULL. */
int32_t vitc_model_num_functions(const vitc_model *model);
/* Name of function `fn`, valid while the model lives; NULL if out of range. */
const char *vitc_model_function_name(const vitc_model *model, int32_t fn);
/* Index of the function called `name`; -1 (and an error) if there is none. */
int32_t vitc_model_find_function(const vitc_model *model, const char *name);
/* Number of inputs / outputs of function `fn`; -1 if out of range. */
int32_t vitc_model_function_num_inputs(const vitc_model *model, int32_t fn);
int32_t vitc_model_function_num_outputs(const vitc_model *model, int32_t fn);
/* Describes input / output `index` of function `fn`. */
int vitc_model_function_input_info(const vitc_model *model, int32_t fn,
                                   int32_t index, vitc_tensor_info *info);
int vitc_model_function_output_info(const vitc_model *model, int32_t fn,
                                    int32_t index, vitc_tensor_info *info);

/* Runs function `fn`. `inputs` (num_inputs, in the function's input order)
 * are read only. On success each of the `num_outputs` (must equal the
 * function's output count) tensors in `outputs` receives the result's data
 * without a copy (the compiled code's own allocation, except for results
 * that alias an input or the weights); release it with vitc_tensor_free. */
int vitc_model_run_function(vitc_model *model, int32_t fn,
                            const vitc_tensor *inputs, int32_t num_inputs,
                            vitc_tensor *outputs, int32_t num_outputs);

/* The same for function 0 (an inference model's "main"). */
int32_t vitc_model_num_inputs(const vitc_model *model);
int32_t vitc_model_num_outputs(const vitc_model *model);
int vitc_model_input_info(const vitc_model *model, int32_t index,
                          vitc_tensor_info *info);
int vitc_model_output_info(const vitc_model *model, int32_t index,
                           vitc_tensor_info *info);
int vitc_model_run(vitc_model *model, const vitc_tensor *inputs,
                   int32_t num_inputs, vitc_tensor *outputs,
                   int32_t num_outputs);

/* --- Sessions ----------------------------------------------------------------
 * A session runs one function of a model on a device with a thread count,
 * on inputs and outputs bound to the caller's memory, from an arena of its
 * own. The first run at a set of input shapes records the compiled code's
 * allocations (warm-up); every later run at those shapes allocates nothing.
 * One session serves any number of input shapes (batch sizes); its arena is
 * sized for the largest.
 *
 *   vitc_session *s = vitc_session_create(model, 0, "cpu", 0);
 *   vitc_session_bind_input(s, "input", &x);    x.data is read at each run
 *   vitc_session_bind_output(s, "logits", &y);  each run writes y.data
 *   vitc_session_run(s);
 *
 * One run at a time per session; sessions of one model may run at once on
 * different threads. A session keeps what it needs of its model: the model
 * may be freed first. vitc_model_run is unchanged beside it. */
typedef struct vitc_session vitc_session;

/* A session for function `fn` (0: an inference model's "main") on `device`:
 * "cpu" (NULL: "cpu"; "cuda:N" is recognised but not served by sessions
 * yet), with `num_threads` threads for its runs (0: the process's default,
 * vitc_set_num_threads). */
vitc_session *vitc_session_create(const vitc_model *model, int32_t fn,
                                  const char *device, int32_t num_threads);
void vitc_session_free(vitc_session *session);

/* Binds input `name` (or #index) to `tensor`: its memory is read at each
 * run, never copied, and must stay valid until then. The dtype and static
 * dims must match the input's; rebind for another batch size or memory. */
int vitc_session_bind_input(vitc_session *session, const char *name,
                            const vitc_tensor *tensor);
int vitc_session_bind_input_at(vitc_session *session, int32_t index,
                               const vitc_tensor *tensor);

/* Binds output `name` (or #index) to caller memory: each run writes the
 * result to tensor->data, which must have the result's dtype and shape
 * (checked at each run). The code writes it there in place when the memory
 * is 64-byte aligned (aligned_alloc(64, ...)); other memory gets a copy. It
 * must not overlap a bound input (the code may write it while it reads
 * them). A NULL tensor or data unbinds the output: its result then lives in
 * the session's memory (vitc_session_output). */
int vitc_session_bind_output(vitc_session *session, const char *name,
                             const vitc_tensor *tensor);
int vitc_session_bind_output_at(vitc_session *session, int32_t index,
                                const vitc_tensor *tensor);

/* Runs the function on the bound inputs; every input must be bound. */
int vitc_session_run(vitc_session *session);

/* Output #index of the last successful run: dtype, shape, and the data, in
 * the bound memory or the session's (valid until the next run or
 * vitc_session_free; do not free it). */
int vitc_session_output(const vitc_session *session, int32_t index,
                        vitc_tensor *output);

/* The bytes of the session's arena (0 before its first run); -1 if session
 * is NULL. */
int64_t vitc_session_arena_bytes(const vitc_session *session);

/* --- Training artifacts ---------------------------------------------------- */

/* How a training artifact was compiled. Strings are valid while the model
 * lives. Hyperparameters the optimizer does not use are 0. */
typedef struct vitc_training_info {
  const char *loss;      /* "cross_entropy" or "mse" */
  float label_smoothing;
  const char *optimizer; /* "adamw" or "sgd" */
  float weight_decay, momentum;
  int nesterov;          /* 0 or 1 */
  float beta1, beta2, epsilon;
  float clip_norm;       /* gradient clipping by global norm; 0 = off */
  float lr;              /* the learning rate given at compile time */
  int64_t num_classes;
  const char *sharding;  /* "none"; "ddp" (vitc --shard ddp): train_step
                            all-reduces its gradients, loss and hits;
                            "fsdp": params and optimizer state are sharded
                            inputs (full_rank >= 0), gathered in the step */
} vitc_training_info;

/* Fills `info`; an error if the model is not a training artifact. */
int vitc_model_training_info(const vitc_model *model, vitc_training_info *info);

/* The initial value of the "param" or "buffer" input `name` (optimizer
 * state starts at zero): `view` gets its dtype and shape and a pointer into
 * the model's mapped weights, which is read only (writing to it crashes)
 * and valid while the model lives; do not pass it to vitc_tensor_free. An
 * error if the model has no initial value of that name. */
int vitc_model_initial_value(const vitc_model *model, const char *name,
                             vitc_tensor *view);

/* Frees the data of an output tensor and sets it to NULL. */
void vitc_tensor_free(vitc_tensor *tensor);

/* The most device memory the model has held at once, in bytes (its weights
 * and every buffer of a call; on a GPU, what vitc allocated, not the
 * driver's own); -1 for a model on the CPU. */
int64_t vitc_model_peak_device_bytes(const vitc_model *model);

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
