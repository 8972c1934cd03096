/* classify: runs one image through a compiled image classifier and prints
 * its logits and top-1 class.
 *
 *   classify MODEL.vtc [IMAGE.f32]
 *
 * MODEL.vtc: an inference artifact (`vitc model.onnx -o model.vtc`) with one
 * f32 input [N, C, H, W] (N may be dynamic) and the logits [N, classes] as
 * its first output. IMAGE.f32: C*H*W raw float32 values in C order (already
 * normalised as the model expects); without it, a checkerboard of 4x4
 * squares of +1 and -1 (the first square +1).
 *
 * Output:
 *   input 'input' f32 [1, 1, 28, 28]
 *   logits: -2.30 ... (one value per class)
 *   top-1: class 3 (logit -1.95)
 */
#include "vitc_runtime.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what) {
  fprintf(stderr, "classify: %s: %s\n", what, vitc_last_error());
  return 1;
}

int main(int argc, char **argv) {
  vitc_model *model;
  vitc_tensor_info info;
  vitc_tensor input, *outputs = NULL;
  int64_t numel = 1, k, best = 0;
  int32_t i, num_outputs = 0;
  float *image = NULL, *logits;
  int status = 1;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: classify MODEL.vtc [IMAGE.f32]\n");
    return 2;
  }
  model = vitc_model_load(argv[1]);
  if (!model)
    return fail(argv[1]);

  /* The input's description: batch 1 for a dynamic batch dim. */
  if (vitc_model_input_info(model, 0, &info) != 0) {
    fail("input 0");
    goto done;
  }
  if (info.dtype != VITC_DTYPE_F32 || info.rank != 4) {
    fprintf(stderr, "classify: expected an f32 [N, C, H, W] input, got %s of "
                    "rank %d\n", vitc_dtype_name(info.dtype), (int)info.rank);
    goto done;
  }
  input.dtype = VITC_DTYPE_F32;
  input.rank = 4;
  input.shape[0] = 1;
  for (i = 1; i < 4; ++i) {
    if (info.shape[i] < 0) {
      fprintf(stderr, "classify: input dim %d is dynamic; compile with "
                      "vitc --input-shape\n", (int)i);
      goto done;
    }
    input.shape[i] = info.shape[i];
    numel *= info.shape[i];
  }
  printf("input '%s' f32 [1, %lld, %lld, %lld]\n", info.name,
         (long long)input.shape[1], (long long)input.shape[2],
         (long long)input.shape[3]);

  image = malloc((size_t)numel * sizeof(float));
  if (!image)
    goto done;
  if (argc == 3) {
    FILE *file = fopen(argv[2], "rb");
    size_t got = file ? fread(image, sizeof(float), (size_t)numel, file) : 0;
    if (file)
      fclose(file);
    if (got != (size_t)numel) {
      fprintf(stderr, "classify: %s: expected %lld float32 values\n", argv[2],
              (long long)numel);
      goto done;
    }
  } else {
    int64_t h = input.shape[2], w = input.shape[3];
    for (k = 0; k < numel; ++k) {
      int64_t y = (k / w) % h, x = k % w;
      image[k] = ((y / 4 + x / 4) % 2 == 0) ? 1.0f : -1.0f;
    }
  }
  input.data = image;

  /* Run: each output receives the runtime's buffer, freed below. */
  num_outputs = vitc_model_num_outputs(model);
  outputs = calloc((size_t)num_outputs, sizeof(vitc_tensor));
  if (!outputs)
    goto done;
  if (vitc_model_run(model, &input, 1, outputs, num_outputs) != 0) {
    fail("run");
    goto done;
  }
  if (outputs[0].dtype != VITC_DTYPE_F32 || outputs[0].rank != 2) {
    fprintf(stderr, "classify: expected f32 logits [N, classes]\n");
    goto done;
  }
  logits = outputs[0].data;
  printf("logits:");
  for (k = 0; k < outputs[0].shape[1]; ++k) {
    printf(" %.9g", logits[k]);
    if (logits[k] > logits[best])
      best = k;
  }
  printf("\ntop-1: class %lld (logit %.6g)\n", (long long)best, logits[best]);
  status = 0;

done:
  for (i = 0; outputs && i < num_outputs; ++i)
    vitc_tensor_free(&outputs[i]);
  free(outputs);
  free(image);
  vitc_model_free(model);
  return status;
}
