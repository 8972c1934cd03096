//===- TrainCommand.cpp - `vitc-run TRAIN.vtc` from the command line ------===//
#include "TrainCommand.h"

#include "Diagnostics.h"
#include "OnnxExport.h"
#include "Plot.h"
#include "Progress.h"
#include "TrainOptions.h"

#include "vitc_train.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

namespace vitc::run {

namespace {

/// What the callbacks print to, and the last epoch length they saw. Of
/// several ranks, rank 0 prints the run's lines (every rank sees the same
/// global values).
struct Console {
  vitc_trainer *trainer = nullptr;
  int64_t epochs = 0;
  train::Progress progress;
  int64_t batchesPerEpoch = 0;
  bool quiet = false; // a rank other than 0
};

void epochBegin(int64_t epoch, int64_t batchesDone, int64_t numBatches,
                void *data) {
  auto *console = static_cast<Console *>(data);
  console->progress.startEpoch(epoch - 1, numBatches, batchesDone);
  console->batchesPerEpoch = numBatches;
}

void stepDone(const vitc_step_info *step, void *data) {
  auto *console = static_cast<Console *>(data);
  if (!console->quiet)
    console->progress.batchDone(step->batch, step->loss);
}

void epochEnd(const vitc_epoch_info *r, void *data) {
  auto *console = static_cast<Console *>(data);
  if (console->quiet)
    return;
  console->progress.clear();
  char valText[64] = "";
  if (std::isfinite(r->val_acc))
    std::snprintf(valText, sizeof valText, " | val loss %.4f | val acc %.2f%%",
                  r->val_loss, 100 * r->val_acc);
  std::printf("Epoch: %04lld/%04lld | train loss %.4f | train acc %.2f%%%s | "
              "lr %.3g | time %.1f s | elapsed %.1f s | %.0f img/s | "
              "peak RSS %.0f MB\n",
              static_cast<long long>(r->epoch),
              static_cast<long long>(console->epochs), r->train_loss,
              100 * r->train_acc, valText, r->lr, r->epoch_seconds,
              vitc_trainer_run_seconds(console->trainer), r->images_per_second,
              r->peak_rss_mb);
  std::fflush(stdout);
}

void warning(const char *message, void *data) {
  if (!static_cast<Console *>(data)->quiet)
    warn(message);
}

double megabytes(int64_t bytes) { return bytes / (1024.0 * 1024.0); }

/// Each rank's line at the start; rank 0 adds the data-parallel setup.
void printRank(const vitc_rank_info &r, int64_t batchSize) {
  if (r.size == 1)
    return;
  if (r.rank == 0)
    std::printf("Data parallel: %d ranks (%s), batch %lld per rank, global "
                "batch %lld\n",
                r.size, r.backend, static_cast<long long>(batchSize),
                static_cast<long long>(batchSize * r.size));
  int64_t state = r.params_bytes + r.grads_bytes + r.optimizer_bytes;
  std::printf("rank %d/%d: model state %.1f MB (params %.1f, grads %.1f, "
              "optimizer %.1f), gathered buffers %.1f MB\n",
              r.rank, r.size, megabytes(state), megabytes(r.params_bytes),
              megabytes(r.grads_bytes), megabytes(r.optimizer_bytes),
              megabytes(r.gathered_bytes));
  std::fflush(stdout);
}

/// The run's finished epochs, as the plot takes them.
std::vector<train::EpochRecord> history(const vitc_trainer *trainer) {
  std::vector<train::EpochRecord> records;
  for (int32_t i = 0; i < vitc_trainer_num_epochs(trainer); ++i) {
    vitc_epoch_info e;
    vitc_trainer_epoch_info(trainer, i, &e);
    records.push_back(train::EpochRecord::fromArray(
        {static_cast<double>(e.epoch), static_cast<double>(e.step),
         e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.lr,
         e.epoch_seconds, e.images_per_second, e.peak_rss_mb}));
  }
  return records;
}

void writePlot(const std::string &path, const vitc_trainer *trainer,
               int64_t batchesPerEpoch) {
  int64_t count = 0;
  const float *losses = vitc_trainer_step_losses(trainer, &count);
  train::StepLosses steps{std::vector<float>(losses, losses + count),
                          batchesPerEpoch};
  std::string error;
  if (!train::writePng(path, train::drawTrainingPlot(history(trainer), steps),
                       error))
    fatal("--plot: " + error);
}

void exportWeights(const TrainOptions &o, const vitc_trainer *trainer) {
  std::vector<train::TrainedTensor> tensors;
  for (int32_t i = 0; i < vitc_trainer_num_weights(trainer); ++i) {
    vitc_weight w;
    vitc_trainer_weight(trainer, i, &w);
    tensors.push_back({w.name, static_cast<int32_t>(w.dtype),
                       std::vector<int64_t>(w.shape, w.shape + w.rank),
                       w.data});
  }
  std::string error;
  if (!train::exportOnnx(o.onnxModel, o.exportOnnx, tensors, error))
    fatal(error);
  std::printf("Exported the trained weights to %s\n", o.exportOnnx.c_str());
}

/// The epochs from the start (or resumed) position to --epochs or
/// --max-steps, then the test evaluation.
void trainAndTest(const TrainOptions &o, Console &console) {
  vitc_trainer *trainer = console.trainer;
  int64_t steps = vitc_trainer_train_steps(trainer, 0);
  console.progress.clear();
  if (steps < 0)
    fatal(vitc_last_error());
  int64_t maxSteps = o.trainer.max_steps;
  if (maxSteps && vitc_trainer_global_step(trainer) >= maxSteps &&
      !console.quiet)
    std::printf("Stopped after step %lld (--max-steps)\n",
                static_cast<long long>(vitc_trainer_global_step(trainer)));
  vitc_eval_result test;
  if (vitc_trainer_evaluate(trainer, VITC_SPLIT_TEST, &test) != 0)
    fatal(vitc_last_error());
  vitc_rank_info rank;
  vitc_trainer_rank_info(trainer, &rank);
  if (rank.size > 1 && !console.quiet)
    std::printf("Collectives: %.2f MB (%lld bytes) sent per rank in the last "
                "step (ring cost); rank 0 waited %.2f s of %.2f s in steps "
                "(%.1f%%)\n",
                rank.step_collective_bytes / (1024.0 * 1024.0),
                static_cast<long long>(rank.step_collective_bytes),
                rank.step_wait_seconds, rank.step_seconds,
                rank.step_seconds > 0
                    ? 100 * rank.step_wait_seconds / rank.step_seconds
                    : 0.0);
  if (test.samples > 0 && !console.quiet)
    std::printf("Test: loss %.4f | acc %.2f%% (%lld images)\n", test.loss,
                100 * test.accuracy, static_cast<long long>(test.samples));
}

} // namespace

int runTrainer(vitc_model *model, int argc, char **argv) {
  TrainOptions o = parseTrainOptions(argc, argv);
  // Past a file-size limit, writes fail with EFBIG instead of killing the
  // process: a checkpoint that does not fit is then reported like a full
  // disk, and the last good one stays.
  std::signal(SIGXFSZ, SIG_IGN);
  Console console{nullptr, o.trainer.epochs,
                  train::Progress(o.trainer.epochs, o.logEvery)};
  vitc_train_options options = o.trainerOptions();
  options.on_epoch_begin = epochBegin;
  options.on_step = stepDone;
  options.on_epoch_end = epochEnd;
  options.on_warning = warning;
  options.user_data = &console;
  console.trainer = vitc_trainer_create(model, o.model.c_str(), &options);
  if (!console.trainer)
    fatal(vitc_last_error());
  vitc_trainer *trainer = console.trainer;
  vitc_rank_info rank;
  vitc_trainer_rank_info(trainer, &rank);
  console.quiet = rank.rank != 0;
  if (rank.size > 1)
    console.progress.noBar();
  printRank(rank, o.trainer.batch_size);

  // The graph to export into: --onnx-model, else the model vitc compiled.
  if (!o.exportOnnx.empty() && o.onnxModel.empty())
    o.onnxModel = vitc_model_source(model);
  if (!o.exportOnnx.empty() &&
      (o.onnxModel.empty() || !std::filesystem::exists(o.onnxModel)))
    fatal("--export-onnx: cannot find the source model '" + o.onnxModel +
          "' the artifact was compiled from; pass --onnx-model PATH");
  if (vitc_trainer_set_dataset(trainer, o.dataset.c_str(), o.dataDir.c_str()) !=
          0 ||
      (!o.resume.empty() &&
       vitc_trainer_load_checkpoint(trainer, o.resume.c_str()) != 0))
    fatal(vitc_last_error());

  if (o.trainer.epochs > 0) {
    trainAndTest(o, console);
  } else if (vitc_trainer_train_steps(trainer, 0) < 0) {
    // No steps: opens the metrics (a resumed run's epochs) and checks the
    // resumed settings.
    fatal(vitc_last_error());
  }
  // Every rank holds the same weights and history: rank 0 writes them.
  if (!o.plot.empty() && !console.quiet)
    writePlot(o.plot, trainer, console.batchesPerEpoch);
  if (!o.exportOnnx.empty()) {
    // Sharded weights (FSDP) are gathered by every rank.
    if (vitc_trainer_gather_weights(trainer) != 0)
      fatal(vitc_last_error());
    if (!console.quiet)
      exportWeights(o, trainer);
  }
  vitc_trainer_free(trainer);
  vitc_model_free(model);
  return 0;
}

} // namespace vitc::run
