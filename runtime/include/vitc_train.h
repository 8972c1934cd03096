/*===- vitc_train.h - C API of the vitc trainer (libvitc_train) ----------===*\
 *
 * Trains a training artifact (`vitc MODEL.onnx --mode train -o TRAIN.vtc`)
 * on an image-classification dataset: feeds train_step batch by batch with
 * the learning rate of a schedule, carries params, buffers and optimizer
 * state from step to step, evaluates with eval_step, logs metrics (JSON
 * lines, TensorBoard event files), writes and resumes checkpoints, and hands
 * out the trained weights. `vitc-run TRAIN.vtc` trains through exactly this
 * API.
 *
 * Conventions are those of vitc_runtime.h: functions returning int return 0
 * on success and -1 on error, functions returning pointers return NULL on
 * error, and vitc_last_error() then describes the error. Messages name an
 * option by its vitc-run flag (batch_size: --batch-size), and the file or
 * tensor at fault. The library never prints and never exits: warnings go to
 * the on_warning callback, progress to on_step / on_epoch_end.
 *
 * A trainer is not thread safe: call it from one thread at a time.
 *
 * Ranks: started by a launcher with several ranks (mpirun, srun: MPI's
 * world), every rank creates a trainer of the same data-parallel artifact
 * (`vitc --shard ddp`) with the same options and calls the same functions in
 * the same order. batch_size is per rank: each step takes one global batch
 * of batch_size x ranks images in the order one process would (--seed), and
 * each rank computes on its slice of it; the step's loss, hits and
 * gradients are reduced over the ranks, so every rank sees the global
 * values (step info, evaluations) and keeps identical weights. Only rank 0
 * writes the metrics, TensorBoard events and checkpoints; every rank reads
 * a checkpoint to resume. Messages name the rank ("rank 1/4: ..."). Started
 * without a launcher, or with one rank, the trainer is a world of one.
 *
\*===----------------------------------------------------------------------===*/
#ifndef VITC_TRAIN_H
#define VITC_TRAIN_H

#include "vitc_runtime.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vitc_trainer vitc_trainer;

/* Learning-rate schedules, computed per optimizer step (1-based). Warm-up
 * (any schedule) rises linearly from lr/W to lr over the first W steps. */
typedef enum vitc_lr_schedule {
  VITC_LR_CONSTANT = 0,
  VITC_LR_STEP = 1,   /* lr * gamma ^ floor(epoch / step_size) */
  VITC_LR_COSINE = 2, /* from lr to min_lr over the run (PyTorch's
                         CosineAnnealingLR) */
} vitc_lr_schedule;

/* What on_step receives after each optimizer step. */
typedef struct vitc_step_info {
  int64_t step;        /* global optimizer step, 1-based */
  int64_t epoch;       /* 1-based */
  int64_t batch;       /* batches done in this epoch, this one included */
  int64_t num_batches; /* batches per epoch */
  int64_t batch_size;  /* images in this batch */
  double loss;         /* mean loss over the batch */
  int64_t correct;     /* images of the batch classified right */
  double lr;           /* the rate this step used */
  double images_per_second; /* this step: images / seconds since the
                               previous step ended (waiting for data
                               included) */
} vitc_step_info;

/* A finished epoch. The validation fields are NaN without a validation
 * split. */
typedef struct vitc_epoch_info {
  int64_t epoch; /* 1-based */
  int64_t step;  /* global step at the end of the epoch */
  double train_loss, train_acc;
  double val_loss, val_acc;
  double lr;                /* the rate of the epoch's last step */
  double epoch_seconds;     /* training and validation time */
  double images_per_second; /* training images / training time */
  double peak_rss_mb;       /* peak resident memory of the process */
} vitc_epoch_info;

typedef struct vitc_train_options {
  /* --- Data (the dataset itself: vitc_trainer_set_dataset) ------------- */
  double val_split;        /* --val-split: fraction of the training split
                              held out for validation (0.1; 0: none) */
  int64_t limit_train;     /* --limit-train: first N samples (0: all) */
  int64_t limit_test;      /* --limit-test (0: all) */
  int resize;              /* --resize: bilinear resize to the model's H, W */
  int replicate_channels;  /* --replicate-channels: grey to 3 channels */
  /* --normalize: x = (pixel/255 - mean) / std; 2 values (one mean, one
   * std) or C means then C stds. NULL: the dataset's default (mnist,
   * fashion-mnist: their training-set statistics; npy: none). Copied. */
  const float *normalize;
  int32_t num_normalize;
  int64_t crop_padding;    /* --augment crop=P: random crop after P pixels
                              of zero padding (0: off) */
  int flip;                /* --augment flip: random horizontal flip */
  /* --- Loop ------------------------------------------------------------ */
  int64_t epochs;          /* --epochs: length of the run (1) */
  int64_t batch_size;      /* --batch-size (64) */
  int64_t max_steps;       /* --max-steps: stop after this global step, as
                              if interrupted (0: no limit) */
  uint64_t seed;           /* --seed: data order, augmentation, dropout */
  int32_t threads;         /* --threads: > 0 calls vitc_set_num_threads
                              when the trainer is created (0: leave as is) */
  /* --- Learning rate --------------------------------------------------- */
  double lr;               /* --lr: base rate (0: the artifact's) */
  vitc_lr_schedule schedule; /* --schedule (VITC_LR_CONSTANT) */
  double min_lr;           /* --min-lr: cosine's final rate (0) */
  int64_t step_size;       /* --step-size: step's period in epochs (1) */
  double gamma;            /* --gamma: step's decay factor (0.1) */
  int64_t warmup_steps;    /* --warmup-steps (0) */
  double warmup_epochs;    /* --warmup-epochs (0; not with warmup_steps) */
  /* --- Outputs (NULL: none; strings are copied) ------------------------ */
  const char *metrics_path;    /* --metrics: one JSON line per epoch, and
                                  one per test evaluation */
  const char *tensorboard_dir; /* --tensorboard: an event file
                                  events.out.tfevents.<time>.<host> there */
  const char *checkpoint_dir;  /* --checkpoint-dir: DIR/checkpoint.vtck
                                  after every epoch */
  int64_t checkpoint_every;    /* --checkpoint-every: also every N steps */
  /* --- Ranks (see above) ----------------------------------------------- */
  double collective_timeout;   /* --collective-timeout: seconds a collective
                                  may run before every rank of the job ends
                                  with a message naming it (300; 0: never) */
  int check_collectives;       /* --check-collectives: ranks agree on each
                                  collective before running it, and report
                                  a mismatch instead of hanging */
  /* --- Callbacks (each may be NULL), called on the caller's thread ------ */
  /* An epoch starts (or resumes) with `batches_done` of its `num_batches`
   * batches already done. */
  void (*on_epoch_begin)(int64_t epoch, int64_t batches_done,
                         int64_t num_batches, void *user_data);
  void (*on_step)(const vitc_step_info *step, void *user_data);
  /* After the epoch's validation and metrics, before its checkpoint. */
  void (*on_epoch_end)(const vitc_epoch_info *epoch, void *user_data);
  /* Something the caller should know, e.g. a resumed run's setting that
   * differs from the checkpoint's. Without it warnings are dropped. */
  void (*on_warning)(const char *message, void *user_data);
  void *user_data;
} vitc_train_options;

/* Fills `options` with the defaults above (vitc-run's). */
void vitc_train_options_init(vitc_train_options *options);

/* --- Trainers ------------------------------------------------------------ */

/* A trainer of the training artifact `model` (see vitc_model_training_info),
 * which must outlive it; `name` names it in messages (its path; NULL: "the
 * artifact"). Params and buffers start from the artifact's initial values,
 * optimizer state from zeros. NULL if the artifact cannot be trained (a
 * missing function or role, an unsupported input) or an option is invalid. */
vitc_trainer *vitc_trainer_create(vitc_model *model, const char *name,
                                  const vitc_train_options *options);
/* The same for the artifact at `path`, which the trainer loads and owns. */
vitc_trainer *vitc_trainer_open(const char *path,
                                const vitc_train_options *options);
void vitc_trainer_free(vitc_trainer *trainer);

/* Trains and evaluates on dataset `kind` in `dir`: "fashion-mnist" (the
 * default without this call; dir NULL: /usr/share/datasets/fashion-mnist)
 * or "mnist", idx files {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
 * or "npy", shards {train,test}_{images,labels}*.npy. The files are read
 * when training or evaluation first needs them, and errors are reported
 * there; call before that. */
int vitc_trainer_set_dataset(vitc_trainer *trainer, const char *kind,
                             const char *dir);

/* Continues the run saved in DIR/checkpoint.vtck (--resume DIR): weights,
 * optimizer state, position, the interrupted epoch's sums and the finished
 * epochs' metrics and step losses. Only before the run starts (see below).
 * A checkpoint of another artifact, or a corrupt one, is an error naming
 * the file (and the tensor); settings that differ from the checkpoint's
 * (seed, batch size, schedule, ...) are warnings when the run starts. */
int vitc_trainer_load_checkpoint(vitc_trainer *trainer, const char *dir);

/* Writes DIR/checkpoint.vtck (DIR must exist) at the current position.
 * Atomic: a failed write (disk full, unwritable directory) is an error and
 * leaves the previous file intact. (Under a file-size limit, ignore SIGXFSZ
 * so that the write fails instead of the process.) */
int vitc_trainer_save_checkpoint(vitc_trainer *trainer, const char *dir);

/* --- Training and evaluation ---------------------------------------------
 * The first call that trains, evaluates or saves a checkpoint starts the
 * run: it creates options.checkpoint_dir, reads the dataset (if
 * options.epochs > 0; evaluation reads it when needed), opens the metrics
 * and TensorBoard files and compares a resumed run's settings. */

/* Trains up to `steps` more optimizer steps (<= 0: to the end of the run:
 * options.epochs, or options.max_steps). Each epoch that ends on the way
 * is evaluated on the validation split, logged and checkpointed. Returns
 * the steps done (0 once the run is over), -1 on error (after which the
 * trainer can only be freed). */
int64_t vitc_trainer_train_steps(vitc_trainer *trainer, int64_t steps);
/* The same until `epochs` (> 0) more epochs have ended (a resumed run's
 * interrupted epoch counts as one) or the run is over. */
int64_t vitc_trainer_train_epochs(vitc_trainer *trainer, int64_t epochs);

typedef enum vitc_split {
  VITC_SPLIT_TRAIN = 0, /* the training images (less the validation ones) */
  VITC_SPLIT_VALIDATION = 1,
  VITC_SPLIT_TEST = 2,
} vitc_split;

typedef struct vitc_eval_result {
  double loss;     /* mean over the split; NaN for an empty split */
  double accuracy; /* fraction classified right; NaN for an empty split */
  int64_t samples;
} vitc_eval_result;

/* Evaluates the current weights on `split` (eval_step, no augmentation).
 * A test evaluation is also logged (a JSON line {"test_loss", "test_acc",
 * "step"}, TensorBoard test/loss and test/accuracy). */
int vitc_trainer_evaluate(vitc_trainer *trainer, vitc_split split,
                          vitc_eval_result *result);

/* --- State ------------------------------------------------------------- */

/* This process's place in the job and the model state it holds. */
typedef struct vitc_rank_info {
  int32_t rank, size;  /* rank of size (0 of 1 without a launcher) */
  const char *backend; /* the collectives': "single" or "mpi" */
  /* Bytes this rank holds from step to step: params (and buffers), the
   * gradients the step computes (one per trainable param), the optimizer
   * state; and the full copies of sharded params gathered for compute (0
   * unless the artifact shards params). */
  int64_t params_bytes, grads_bytes, optimizer_bytes, gathered_bytes;
  /* Bytes this rank sent in the last training step's collectives, by the
   * ring algorithms' cost (an all-reduce of B bytes: 2 B (N-1)/N; an
   * all-gather or reduce-scatter of a whole B bytes: B (N-1)/N); 0 alone. */
  int64_t step_collective_bytes;
  /* This process's training steps so far: seconds in train_step, and of
   * them seconds spent waiting for collectives (what compute did not hide;
   * 0 alone). */
  double step_seconds, step_wait_seconds;
} vitc_rank_info;
int vitc_trainer_rank_info(const vitc_trainer *trainer, vitc_rank_info *info);

/* Optimizer steps done (a resumed run's included); -1 if trainer is NULL. */
int64_t vitc_trainer_global_step(const vitc_trainer *trainer);
/* Training time of the whole run so far, in seconds (a resumed run's
 * earlier time included); NaN if trainer is NULL. */
double vitc_trainer_run_seconds(const vitc_trainer *trainer);

/* Finished epochs (a resumed run's included); -1 if trainer is NULL. */
int32_t vitc_trainer_num_epochs(const vitc_trainer *trainer);
int vitc_trainer_epoch_info(const vitc_trainer *trainer, int32_t index,
                            vitc_epoch_info *info);
/* The loss of every step so far, step s at index s - 1 (a resumed run's
 * included); `*count` receives the count. Valid until the next call that
 * trains or loads a checkpoint. NULL (and *count 0) if none. */
const float *vitc_trainer_step_losses(const vitc_trainer *trainer,
                                      int64_t *count);

/* --- Weights --------------------------------------------------------------
 * The trained params and buffers (not the optimizer state), in train_step's
 * input order, named like the model's initializers: what an exporter writes
 * back into the source model. */

typedef struct vitc_weight {
  const char *name;
  const char *role; /* "param" or "buffer" */
  vitc_dtype dtype;
  int32_t rank;
  int64_t shape[VITC_MAX_RANK];
  const void *data; /* dense, C order; read only */
  size_t bytes;
} vitc_weight;

/* Of a sharded run (an FSDP artifact on several ranks), each rank holds a
 * block of each weight: this gathers the whole weights, after which
 * vitc_trainer_weight describes them until the next call that trains or
 * loads a checkpoint. Collective: every rank must call it. 0 (nothing to
 * do) when the weights are not sharded. */
int vitc_trainer_gather_weights(vitc_trainer *trainer);

/* Number of weights; -1 if trainer is NULL. */
int32_t vitc_trainer_num_weights(const vitc_trainer *trainer);
/* Describes weight `index`. The strings are valid while the trainer lives,
 * the data until the next call that trains or loads a checkpoint. */
int vitc_trainer_weight(const vitc_trainer *trainer, int32_t index,
                        vitc_weight *weight);

#ifdef __cplusplus
}
#endif

#endif /* VITC_TRAIN_H */
