/*===- TrainCApiTest.c - the training C API, from C ----------------------===*\
 *
 * usage: vitc-train-capi-test TRAIN.vtc WORKDIR
 *
 * Compiled as C99 (not C++), so vitc_train.h stays a C header. On a training
 * artifact of a 28x28, 10-class model (tests/lit/train/capi-c.test compiles
 * models/mnist_cnn.onnx) and a small idx dataset written here, it trains a
 * few steps with callbacks, evaluates, saves a checkpoint, resumes it in a
 * second trainer that must then take the same steps bit for bit, reads the
 * weights back, and checks errors. Prints one line per check for FileCheck;
 * a failed check prints "FAIL ..." and exits 1.
 *
\*===----------------------------------------------------------------------===*/
#define _POSIX_C_SOURCE 200809L

#include "vitc_train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHECK(condition)                                                       \
  do {                                                                         \
    if (!(condition)) {                                                        \
      printf("FAIL line %d: %s (last error: %s)\n", __LINE__, #condition,      \
             vitc_last_error());                                               \
      exit(1);                                                                 \
    }                                                                          \
  } while (0)

enum { kTrain = 96, kTest = 32, kSide = 28, kBatch = 16, kMaxSteps = 64 };

/* What the callbacks saw. */
typedef struct Seen {
  int64_t steps, epochBegins, epochEnds, warnings;
  int64_t lastStep, lastBatch, numBatches;
  double lastLr;
  float losses[kMaxSteps];
  vitc_epoch_info lastEpoch;
} Seen;

static void onEpochBegin(int64_t epoch, int64_t batchesDone,
                         int64_t numBatches, void *data) {
  Seen *seen = (Seen *)data;
  (void)epoch;
  (void)batchesDone;
  seen->epochBegins++;
  seen->numBatches = numBatches;
}

static void onStep(const vitc_step_info *step, void *data) {
  Seen *seen = (Seen *)data;
  CHECK(step->step == seen->lastStep + 1 || seen->lastStep == 0);
  CHECK(step->step <= kMaxSteps);
  CHECK(step->images_per_second > 0 && step->correct <= step->batch_size);
  seen->losses[step->step - 1] = (float)step->loss;
  seen->steps++;
  seen->lastStep = step->step;
  seen->lastBatch = step->batch;
  seen->lastLr = step->lr;
}

static void onEpochEnd(const vitc_epoch_info *epoch, void *data) {
  Seen *seen = (Seen *)data;
  seen->epochEnds++;
  seen->lastEpoch = *epoch;
}

static void onWarning(const char *message, void *data) {
  (void)message;
  ((Seen *)data)->warnings++;
}

static void writeBigEndian32(FILE *file, uint32_t value) {
  unsigned char bytes[4];
  bytes[0] = (unsigned char)(value >> 24);
  bytes[1] = (unsigned char)(value >> 16);
  bytes[2] = (unsigned char)(value >> 8);
  bytes[3] = (unsigned char)value;
  fwrite(bytes, 1, 4, file);
}

/* An idx pair `<dir>/<prefix>-{images-idx3,labels-idx1}-ubyte` of `count`
 * images: class c is a bright square at a place of its own, over noise. */
static void writeIdxSplit(const char *dir, const char *prefix, int count) {
  char path[1024];
  FILE *images, *labels;
  int i, y, x;
  unsigned seed = 12345u + (unsigned)count;
  snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
  images = fopen(path, "wb");
  snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
  labels = fopen(path, "wb");
  CHECK(images && labels);
  writeBigEndian32(images, 0x803);
  writeBigEndian32(images, (uint32_t)count);
  writeBigEndian32(images, kSide);
  writeBigEndian32(images, kSide);
  writeBigEndian32(labels, 0x801);
  writeBigEndian32(labels, (uint32_t)count);
  for (i = 0; i < count; ++i) {
    int label = i % 10;
    unsigned char pixels[kSide * kSide];
    for (y = 0; y < kSide; ++y)
      for (x = 0; x < kSide; ++x) {
        int inSquare = y / 7 == label / 4 && x / 7 == label % 4;
        seed = seed * 1103515245u + 12345u;
        pixels[y * kSide + x] =
            (unsigned char)(inSquare ? 200 + (seed >> 28) : (seed >> 26));
      }
    fwrite(pixels, 1, sizeof pixels, images);
    fputc(label, labels);
  }
  CHECK(fclose(images) == 0 && fclose(labels) == 0);
}

static void initOptions(vitc_train_options *options, Seen *seen,
                        const char *work) {
  static char metrics[1024], tensorboard[1024], checkpoints[1024];
  vitc_train_options_init(options);
  CHECK(options->epochs == 1 && options->batch_size == 64);
  snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", work);
  snprintf(tensorboard, sizeof tensorboard, "%s/tb", work);
  snprintf(checkpoints, sizeof checkpoints, "%s/ckpt", work);
  options->val_split = 0.25; /* 72 training images: 5 batches */
  options->epochs = 2;
  options->batch_size = kBatch;
  options->lr = 0.01;
  options->threads = 1; /* bit for bit the same steps in both trainers */
  options->seed = 3;
  options->metrics_path = metrics;
  options->tensorboard_dir = tensorboard;
  options->checkpoint_dir = checkpoints;
  options->on_epoch_begin = onEpochBegin;
  options->on_step = onStep;
  options->on_epoch_end = onEpochEnd;
  options->on_warning = onWarning;
  options->user_data = seen;
}

static vitc_trainer *openTrainer(const char *artifact, const char *data,
                                 const vitc_train_options *options) {
  vitc_trainer *trainer = vitc_trainer_open(artifact, options);
  CHECK(trainer != NULL);
  CHECK(vitc_trainer_set_dataset(trainer, "mnist", data) == 0);
  return trainer;
}

/* Every weight of `a` equals `b`'s, byte for byte. */
static int sameWeights(const vitc_trainer *a, const vitc_trainer *b) {
  int32_t i, n = vitc_trainer_num_weights(a);
  CHECK(n > 0 && n == vitc_trainer_num_weights(b));
  for (i = 0; i < n; ++i) {
    vitc_weight wa, wb;
    CHECK(vitc_trainer_weight(a, i, &wa) == 0);
    CHECK(vitc_trainer_weight(b, i, &wb) == 0);
    CHECK(strcmp(wa.name, wb.name) == 0 && wa.bytes == wb.bytes);
    if (memcmp(wa.data, wb.data, wa.bytes) != 0)
      return 0;
  }
  return 1;
}

static void checkWeights(const vitc_trainer *trainer) {
  int32_t i, n = vitc_trainer_num_weights(trainer), params = 0;
  vitc_weight w;
  for (i = 0; i < n; ++i) {
    size_t count = 1;
    int32_t d;
    CHECK(vitc_trainer_weight(trainer, i, &w) == 0);
    CHECK(w.name[0] != '\0' && w.data != NULL);
    CHECK(strcmp(w.role, "param") == 0 || strcmp(w.role, "buffer") == 0);
    params += strcmp(w.role, "param") == 0;
    for (d = 0; d < w.rank; ++d)
      count *= (size_t)w.shape[d];
    CHECK(w.bytes == count * vitc_dtype_size(w.dtype));
  }
  CHECK(vitc_trainer_weight(trainer, 0, &w) == 0);
  printf("weights: %d, %d params, first %s\n", (int)n, (int)params, w.name);
  CHECK(vitc_trainer_weight(trainer, n, &w) == -1);
  printf("no weight #%d: %s\n", (int)n, vitc_last_error());
}

int main(int argc, char **argv) {
  char data[1024], mid[1024];
  Seen seenA, seenB;
  vitc_train_options options;
  vitc_trainer *a, *b;
  vitc_eval_result result;
  vitc_epoch_info epoch;
  int64_t count, i;
  const float *losses;
  if (argc != 3) {
    fprintf(stderr, "usage: %s TRAIN.vtc WORKDIR\n", argv[0]);
    return 2;
  }
  snprintf(data, sizeof data, "%s/data", argv[2]);
  snprintf(mid, sizeof mid, "%s/mid", argv[2]);
  CHECK(mkdir(data, 0777) == 0 && mkdir(mid, 0777) == 0);
  writeIdxSplit(data, "train", kTrain);
  writeIdxSplit(data, "t10k", kTest);

  /* Bad options: an error naming the flag, no trainer. */
  memset(&seenA, 0, sizeof seenA);
  initOptions(&options, &seenA, argv[2]);
  options.batch_size = 0;
  CHECK(vitc_trainer_open(argv[1], &options) == NULL);
  printf("batch size 0: %s\n", vitc_last_error());
  initOptions(&options, &seenA, argv[2]);

  /* Three steps, then the rest of the first epoch. */
  a = openTrainer(argv[1], data, &options);
  CHECK(vitc_trainer_set_dataset(a, "bogus", NULL) == -1);
  printf("bogus dataset: %s\n", vitc_last_error());
  CHECK(vitc_trainer_train_steps(a, 3) == 3);
  printf("3 steps: %lld callbacks, batch %lld of %lld, lr %g, %lld epoch "
         "begin(s)\n",
         (long long)seenA.steps, (long long)seenA.lastBatch,
         (long long)seenA.numBatches, seenA.lastLr,
         (long long)seenA.epochBegins);
  CHECK(vitc_trainer_save_checkpoint(a, mid) == 0);
  CHECK(vitc_trainer_train_epochs(a, 1) == 2);
  printf("epoch 1: step %lld, ended %lld time(s), val acc %s\n",
         (long long)seenA.lastEpoch.step, (long long)seenA.epochEnds,
         isnan(seenA.lastEpoch.val_acc) ? "NaN" : "set");
  CHECK(vitc_trainer_num_epochs(a) == 1);
  CHECK(vitc_trainer_epoch_info(a, 0, &epoch) == 0);
  CHECK(epoch.step == 5 && epoch.train_loss == seenA.lastEpoch.train_loss);
  CHECK(vitc_trainer_epoch_info(a, 1, &epoch) == -1);
  printf("no epoch #1: %s\n", vitc_last_error());
  losses = vitc_trainer_step_losses(a, &count);
  CHECK(count == 5 && losses != NULL);
  for (i = 0; i < count; ++i)
    CHECK(losses[i] == seenA.losses[i] && isfinite(losses[i]));

  /* Evaluation. */
  CHECK(vitc_trainer_evaluate(a, VITC_SPLIT_VALIDATION, &result) == 0);
  printf("validation: %lld samples\n", (long long)result.samples);
  CHECK(vitc_trainer_evaluate(a, VITC_SPLIT_TEST, &result) == 0);
  CHECK(isfinite(result.loss) && result.accuracy >= 0 && result.accuracy <= 1);
  printf("test: %lld samples\n", (long long)result.samples);
  checkWeights(a);

  /* A second trainer resumed at step 3 takes steps 4 and 5 exactly as the
   * first did. */
  memset(&seenB, 0, sizeof seenB);
  initOptions(&options, &seenB, argv[2]);
  b = openTrainer(argv[1], data, &options);
  CHECK(vitc_trainer_load_checkpoint(b, "/nonexistent-dir") == -1);
  printf("missing checkpoint: %s\n", vitc_last_error());
  CHECK(vitc_trainer_load_checkpoint(b, mid) == 0);
  CHECK(vitc_trainer_global_step(b) == 3);
  CHECK(!sameWeights(a, b));
  CHECK(vitc_trainer_train_steps(b, 2) == 2);
  CHECK(seenB.steps == 2 && seenB.epochEnds == 1 && seenB.warnings == 0);
  CHECK(seenB.losses[3] == seenA.losses[3] && seenB.losses[4] == seenA.losses[4]);
  CHECK(seenB.lastEpoch.train_loss == seenA.lastEpoch.train_loss);
  printf("resumed: steps 4-5 and weights %s\n",
         sameWeights(a, b) ? "identical" : "DIFFER");
  CHECK(vitc_trainer_load_checkpoint(b, mid) == -1);
  printf("late load: %s\n", vitc_last_error());

  /* To the end of the run: epoch 2. */
  CHECK(vitc_trainer_train_steps(b, 0) == 5);
  CHECK(vitc_trainer_train_steps(b, 0) == 0);
  printf("run over at step %lld, %d epochs\n",
         (long long)vitc_trainer_global_step(b), (int)vitc_trainer_num_epochs(b));
  vitc_trainer_free(a);
  vitc_trainer_free(b);
  CHECK(vitc_trainer_global_step(NULL) == -1);
  printf("NULL trainer: %s\n", vitc_last_error());
  return 0;
}
