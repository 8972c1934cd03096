/* finetune: fine-tunes a model for a few optimizer steps through the trainer's
 * C API (vitc_train.h), evaluates it before and after, and writes a
 * checkpoint and the tuned weights.
 *
 *   finetune TRAIN.vtc WORKDIR [STEPS [KIND DIR]]
 *
 * TRAIN.vtc: a training artifact (`vitc model.onnx --mode train -o
 * train.vtc`) of a classifier of 28x28 grey images into 10 classes (e.g.
 * share/vitc/examples/models/cnn_bn_train.onnx). STEPS: optimizer steps
 * (default 20). KIND DIR: a dataset ("mnist" or "fashion-mnist" idx files,
 * "npy" shards; see vitc_train.h); without them, WORKDIR/data gets a small
 * synthetic one (class c: a bright 7x7 square at a place of its own over
 * noise; 256 training and 64 test images, idx files as MNIST's).
 * Pixels become (pixel / 255 - 0.5) / 0.5.
 *
 * Writes WORKDIR/ckpt/checkpoint.vtck (resume with vitc-run --resume or
 * vitc_trainer_load_checkpoint) and WORKDIR/weights/: one raw file per param
 * and buffer (C order) and index.txt, a line "name role dtype file d0 d1 ..."
 * per weight.
 *
 * Output:
 *   before: test loss 2.3012 accuracy 0.1094 (64 images)
 *   step 1 loss 2.3547 lr 0.001
 *   ...
 *   after: test loss 0.0123 accuracy 1.0000 (64 images)
 */
#define _POSIX_C_SOURCE 200809L

#include "vitc_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int fail(const char *what) {
  fprintf(stderr, "finetune: %s: %s\n", what, vitc_last_error());
  return 1;
}

static int make_dir(const char *path) {
  struct stat st;
  if (mkdir(path, 0777) == 0 || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
    return 0;
  fprintf(stderr, "finetune: cannot create %s\n", path);
  return -1;
}

/* --- A synthetic dataset, as MNIST's idx files ------------------------- */

static void put_be32(FILE *file, unsigned long value) {
  fputc((int)((value >> 24) & 255), file);
  fputc((int)((value >> 16) & 255), file);
  fputc((int)((value >> 8) & 255), file);
  fputc((int)(value & 255), file);
}

/* <dir>/<prefix>-images-idx3-ubyte and -labels-idx1-ubyte: `count` 28x28
 * images, image i of class i % 10. */
static int write_split(const char *dir, const char *prefix, int count,
                       unsigned seed) {
  char path[4096];
  FILE *images, *labels;
  int i, y, x;
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
  images = fopen(path, "wb");
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
  labels = fopen(path, "wb");
  if (!images || !labels) {
    fprintf(stderr, "finetune: cannot write %s\n", path);
    return -1;
  }
  put_be32(images, 0x803);
  put_be32(images, (unsigned long)count);
  put_be32(images, 28);
  put_be32(images, 28);
  put_be32(labels, 0x801);
  put_be32(labels, (unsigned long)count);
  for (i = 0; i < count; ++i) {
    int label = i % 10;
    for (y = 0; y < 28; ++y)
      for (x = 0; x < 28; ++x) {
        int square = y / 7 == label / 4 && x / 7 == label % 4;
        seed = seed * 1103515245u + 12345u;
        fputc(square ? 192 + (int)(seed >> 26) : (int)(seed >> 26), images);
      }
    fputc(label, labels);
  }
  return (fclose(images) == 0 && fclose(labels) == 0) ? 0 : -1;
}

/* --- Callbacks ----------------------------------------------------------- */

static void on_step(const vitc_step_info *step, void *user_data) {
  (void)user_data;
  printf("step %lld loss %.6f lr %g\n", (long long)step->step, step->loss,
         step->lr);
}

static void on_warning(const char *message, void *user_data) {
  (void)user_data;
  fprintf(stderr, "finetune: warning: %s\n", message);
}

static int evaluate(vitc_trainer *trainer, const char *when) {
  vitc_eval_result result;
  if (vitc_trainer_evaluate(trainer, VITC_SPLIT_TEST, &result) != 0)
    return fail("evaluate");
  printf("%s: test loss %.6f accuracy %.4f (%lld images)\n", when,
         result.loss, result.accuracy, (long long)result.samples);
  return 0;
}

/* WORKDIR/weights/<name> (a '/' in a name becomes '_') and index.txt. */
static int write_weights(vitc_trainer *trainer, const char *workdir) {
  char dir[4096], path[8192], file_name[1024];
  FILE *index;
  int32_t i, d, n = vitc_trainer_num_weights(trainer);
  snprintf(dir, sizeof dir, "%s/weights", workdir);
  if (make_dir(dir) != 0)
    return -1;
  snprintf(path, sizeof path, "%s/index.txt", dir);
  if (!(index = fopen(path, "w")))
    return -1;
  for (i = 0; i < n; ++i) {
    vitc_weight w;
    FILE *file;
    char *c;
    if (vitc_trainer_weight(trainer, i, &w) != 0) {
      fclose(index);
      return fail("weight");
    }
    snprintf(file_name, sizeof file_name, "%s.bin", w.name);
    for (c = file_name; *c; ++c)
      if (*c == '/')
        *c = '_';
    snprintf(path, sizeof path, "%s/%s", dir, file_name);
    if (!(file = fopen(path, "wb")) ||
        fwrite(w.data, 1, w.bytes, file) != w.bytes || fclose(file) != 0) {
      fprintf(stderr, "finetune: cannot write %s\n", path);
      fclose(index);
      return -1;
    }
    fprintf(index, "%s %s %s %s", w.name, w.role, vitc_dtype_name(w.dtype),
            file_name);
    for (d = 0; d < w.rank; ++d)
      fprintf(index, " %lld", (long long)w.shape[d]);
    fprintf(index, "\n");
  }
  printf("weights: %d tensors in %s\n", (int)n, dir);
  return fclose(index) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  static const float normalize[2] = {0.5f, 0.5f}; /* one mean, one std */
  const char *artifact, *workdir, *kind = "mnist";
  char data_dir[4096], ckpt_dir[4096];
  vitc_train_options options;
  vitc_trainer *trainer;
  long steps = 20;
  int64_t done;
  int status = 1;

  if (argc != 3 && argc != 4 && argc != 6) {
    fprintf(stderr, "usage: finetune TRAIN.vtc WORKDIR [STEPS [KIND DIR]]\n");
    return 2;
  }
  artifact = argv[1];
  workdir = argv[2];
  if (argc >= 4 && (steps = strtol(argv[3], NULL, 10)) <= 0) {
    fprintf(stderr, "finetune: STEPS must be positive\n");
    return 2;
  }
  if (make_dir(workdir) != 0)
    return 1;
  if (argc == 6) {
    kind = argv[4];
    snprintf(data_dir, sizeof data_dir, "%s", argv[5]);
  } else {
    snprintf(data_dir, sizeof data_dir, "%s/data", workdir);
    if (make_dir(data_dir) != 0 ||
        write_split(data_dir, "train", 256, 1u) != 0 ||
        write_split(data_dir, "t10k", 64, 2u) != 0)
      return 1;
  }

  /* vitc-run's defaults, then what this run changes. */
  vitc_train_options_init(&options);
  options.batch_size = 16;
  options.epochs = 1000;  /* enough: max_steps ends the run */
  options.max_steps = steps;
  options.val_split = 0;  /* evaluate on the test split only */
  options.seed = 7;
  if (argc != 6) {
    options.normalize = normalize;
    options.num_normalize = 2;
  }
  options.on_step = on_step;
  options.on_warning = on_warning;

  trainer = vitc_trainer_open(artifact, &options);
  if (!trainer)
    return fail(artifact);
  if (vitc_trainer_set_dataset(trainer, kind, data_dir) != 0) {
    fail("dataset");
    goto done;
  }

  if (evaluate(trainer, "before") != 0)
    goto done;
  done = vitc_trainer_train_steps(trainer, steps);
  if (done < 0) {
    fail("train");
    goto done;
  }
  if (evaluate(trainer, "after") != 0)
    goto done;

  snprintf(ckpt_dir, sizeof ckpt_dir, "%s/ckpt", workdir);
  if (make_dir(ckpt_dir) != 0 ||
      vitc_trainer_save_checkpoint(trainer, ckpt_dir) != 0) {
    fail("checkpoint");
    goto done;
  }
  printf("checkpoint: %s/checkpoint.vtck after %lld steps\n", ckpt_dir,
         (long long)vitc_trainer_global_step(trainer));
  if (write_weights(trainer, workdir) != 0)
    goto done;
  status = 0;

done:
  vitc_trainer_free(trainer);
  return status;
}
