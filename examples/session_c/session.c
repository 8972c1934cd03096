/* session: runs a compiled image classifier in a vitc session at batch sizes
 * 1, 4, 2 and 4 again, and prints each image's logits.
 *
 *   session MODEL.vtc
 *
 * MODEL.vtc: an inference artifact with one f32 input [N, C, H, W] (N
 * dynamic) and the logits [N, classes] as its first output. Image i of a
 * batch is a checkerboard of 4x4 squares of +1 and -1, shifted i columns.
 *
 * What it shows:
 * - the model loaded from memory, as an application that embeds its
 *   artifact would (here the file is read into memory first);
 * - one session reused across batch sizes: the first run at a batch size
 *   records the compiled code's allocations, later runs at that size
 *   allocate nothing (the session's arena);
 * - the logits written straight into the application's buffer (bound
 *   output, 64-byte aligned so the code writes it in place);
 * - the library's version checked against the header's.
 *
 * Output:
 *   vitc runtime 0.1.0 (artifact format 3)
 *   batch 1: image 0: -2.30 ... (one value per class)
 *   ...
 *   arena: 704256 bytes
 */
#include "vitc_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
  fprintf(stderr, "session: %s: %s\n", what, vitc_last_error());
  return 1;
}

/* The whole file in 64-byte aligned memory (used in place, not copied). */
static void *read_file(const char *path, size_t *size) {
  FILE *file = fopen(path, "rb");
  void *data = NULL;
  long length;
  if (!file)
    return NULL;
  if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) > 0 &&
      fseek(file, 0, SEEK_SET) == 0) {
    *size = (size_t)length;
    data = aligned_alloc(64, (*size + 63) / 64 * 64);
    if (data && fread(data, 1, *size, file) != *size) {
      free(data);
      data = NULL;
    }
  }
  fclose(file);
  return data;
}

int main(int argc, char **argv) {
  static const int64_t batches[] = {1, 4, 2, 4};
  vitc_model *model = NULL;
  vitc_session *session = NULL;
  vitc_tensor_info in_info, out_info;
  float *images = NULL, *logits = NULL;
  void *artifact = NULL;
  size_t artifact_size = 0;
  int64_t c, h, w, classes, image_size;
  size_t b;
  int status = 1;

  if (argc != 2) {
    fprintf(stderr, "usage: session MODEL.vtc\n");
    return 2;
  }
  /* A library older than the headers may lack what they declare. */
  if (vitc_runtime_version() < VITC_RUNTIME_VERSION) {
    fprintf(stderr, "session: vitc runtime %s is older than its headers (%s)\n",
            vitc_runtime_version_string(), VITC_RUNTIME_VERSION_STRING);
    return 1;
  }
  printf("vitc runtime %s (artifact format %d)\n",
         vitc_runtime_version_string(), (int)vitc_runtime_artifact_format());

  artifact = read_file(argv[1], &artifact_size);
  if (!artifact) {
    fprintf(stderr, "session: cannot read %s\n", argv[1]);
    return 1;
  }
  model = vitc_model_load_from_memory(artifact, artifact_size, NULL);
  if (!model) {
    status = fail(argv[1]);
    goto done;
  }
  if (vitc_model_input_info(model, 0, &in_info) != 0 ||
      vitc_model_output_info(model, 0, &out_info) != 0) {
    status = fail("model info");
    goto done;
  }
  if (in_info.dtype != VITC_DTYPE_F32 || in_info.rank != 4 ||
      out_info.rank != 2 || out_info.shape[1] < 0) {
    fprintf(stderr, "session: expected f32 [N, C, H, W] -> [N, classes]\n");
    goto done;
  }
  c = in_info.shape[1], h = in_info.shape[2], w = in_info.shape[3];
  classes = out_info.shape[1];
  image_size = c * h * w;

  /* Device "cpu", the default thread count. */
  session = vitc_session_create(model, 0, "cpu", 0);
  if (!session) {
    status = fail("session");
    goto done;
  }
  /* Buffers for the largest batch, reused by every run. */
  images = aligned_alloc(64, (size_t)(4 * image_size) * sizeof(float));
  logits = aligned_alloc(64, (size_t)(4 * classes) * sizeof(float));
  if (!images || !logits)
    goto done;

  for (b = 0; b < sizeof(batches) / sizeof(batches[0]); ++b) {
    int64_t n = batches[b], i, k;
    vitc_tensor input = {VITC_DTYPE_F32, 4, {0}, images};
    vitc_tensor output = {VITC_DTYPE_F32, 2, {0}, logits};
    for (i = 0; i < n * image_size; ++i) {
      int64_t image = i / image_size, x = (i % w + image) % w, y = (i / w) % h;
      images[i] = ((y / 4 + x / 4) % 2 == 0) ? 1.0f : -1.0f;
    }
    input.shape[0] = n, input.shape[1] = c, input.shape[2] = h;
    input.shape[3] = w;
    output.shape[0] = n, output.shape[1] = classes;
    /* Rebinding for another batch size costs nothing; the memory is read
     * and written in place at each run. */
    if (vitc_session_bind_input_at(session, 0, &input) != 0 ||
        vitc_session_bind_output_at(session, 0, &output) != 0 ||
        vitc_session_run(session) != 0) {
      status = fail("run");
      goto done;
    }
    for (i = 0; i < n; ++i) {
      printf("batch %lld: image %lld:", (long long)n, (long long)i);
      for (k = 0; k < classes; ++k)
        printf(" %.9g", logits[i * classes + k]);
      printf("\n");
    }
  }
  printf("arena: %lld bytes\n", (long long)vitc_session_arena_bytes(session));
  status = 0;

done:
  vitc_session_free(session);
  vitc_model_free(model);
  free(artifact); /* after the model: it used the memory in place */
  free(images);
  free(logits);
  return status;
}
