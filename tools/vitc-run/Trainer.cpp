//===- Trainer.cpp - `vitc-run TRAIN.vtc`: the training loop --------------===//
#include "Trainer.h"

#include "Checkpoint.h"
#include "Data.h"
#include "Metrics.h"
#include "OnnxExport.h"
#include "Plot.h"
#include "Progress.h"
#include "Schedule.h"
#include "TrainOptions.h"
#include "TrainState.h"

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace vitc::train {

void fatal(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "vitc-run: error: %s\n", message.c_str());
  std::exit(1);
}

void warn(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "vitc-run: warning: %s\n", message.c_str());
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// The shortest decimal that reads back as `value`: the artifact stores the
/// rate as f32, and 1e-3 should stay 1e-3 in logs and schedules rather than
/// become 0.00100000005.
double shortestDecimal(float value) {
  char text[32];
  for (int digits = 1; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    if (std::strtof(text, nullptr) == value)
      break;
  }
  return std::strtod(text, nullptr);
}

/// The first `n` samples of `split`.
data::Split head(const data::Split &split, int64_t n) {
  if (n <= 0 || n >= split.count)
    return split;
  data::Split part = split;
  int64_t sample = split.channels * split.height * split.width;
  part.count = n;
  if (!part.u8.empty())
    part.u8.resize(n * sample);
  if (!part.f32.empty())
    part.f32.resize(n * sample);
  part.labels.resize(n);
  return part;
}

/// Every label must be a class of the model, or the loss reads garbage.
void checkLabels(const data::Split &split, const char *what,
                 int64_t numClasses) {
  if (numClasses <= 0)
    return;
  for (int64_t i = 0; i < split.count; ++i) {
    int64_t label = split.labels[i];
    if (label < 0 || label >= numClasses)
      fatal(std::string(what) + " sample " + std::to_string(i) + " has label " +
            std::to_string(label) + ", but the model has " +
            std::to_string(numClasses) + " classes (labels 0.." +
            std::to_string(numClasses - 1) + ")");
  }
}

/// The data a run trains and evaluates on, and how images are converted.
struct RunData {
  data::Dataset dataset;
  data::Split train, val;
  data::Transform transform;
};

std::unique_ptr<RunData> loadRunData(const TrainOptions &o,
                                     const TrainState &state) {
  auto run = std::make_unique<RunData>();
  data::Transform &t = run->transform;
  t.channels = state.channels();
  t.height = state.height();
  t.width = state.width();
  t.resize = o.resize;
  t.replicateChannels = o.replicateChannels;
  t.cropPadding = o.cropPadding;
  t.flip = o.flip;
  std::vector<float> normalize = o.normalize;
  if (normalize.empty() && o.dataset == "mnist")
    normalize = {0.1307f, 0.3081f};
  if (normalize.empty() && o.dataset == "fashion-mnist")
    normalize = {0.2860f, 0.3530f};
  if (!normalize.empty()) {
    size_t half = normalize.size() / 2;
    t.mean.assign(normalize.begin(), normalize.begin() + half);
    t.std.assign(normalize.begin() + half, normalize.end());
  }
  try {
    std::string dir = o.dataDir;
    if (dir.empty() && o.dataset == "fashion-mnist")
      dir = "/usr/share/datasets/fashion-mnist";
    if (dir.empty())
      fatal("--dataset " + o.dataset + " needs --data-dir");
    run->dataset = data::loadDataset({o.dataset, dir});
    data::Split train = head(run->dataset.train, o.limitTrain);
    run->dataset.train = {}; // keep one copy of the images
    if (o.valSplit > 0) {
      std::tie(run->train, run->val) =
          data::splitValidation(train, o.valSplit, o.seed);
    } else {
      run->train = std::move(train);
    }
    run->dataset.test = head(run->dataset.test, o.limitTest);
    if (run->train.count == 0)
      fatal("the training split is empty");
    for (const data::Split *split : {&run->train, &run->val, &run->dataset.test})
      if (split->count > 0)
        data::checkFits(*split, t);
  } catch (const data::DataError &e) {
    fatal(e.what());
  }
  int64_t classes = state.info().num_classes;
  checkLabels(run->train, "training", classes);
  checkLabels(run->val, "validation", classes);
  checkLabels(run->dataset.test, "test", classes);
  return run;
}

BatchView view(const data::Batch &batch) {
  return {batch.size, batch.images.data(), batch.labels.data()};
}

struct Evaluation {
  double loss = NAN, accuracy = NAN;
  int64_t samples = 0;
};

/// Mean loss and accuracy of the current weights on `split` (eval_step).
Evaluation evaluate(TrainState &state, const data::Split &split,
                    const data::Transform &transform, int64_t batchSize) {
  Evaluation result;
  if (split.count == 0)
    return result;
  data::Loader loader(split, transform, batchSize, /*shuffle=*/false,
                      /*augment=*/false, /*dropLast=*/false, /*seed=*/0);
  loader.startEpoch(0);
  double lossSum = 0;
  int64_t correct = 0;
  data::Batch batch;
  while (loader.next(batch)) {
    StepResult r = state.eval(view(batch));
    lossSum += r.loss * batch.size;
    correct += r.correct;
    result.samples += batch.size;
  }
  result.loss = lossSum / result.samples;
  result.accuracy = static_cast<double>(correct) / result.samples;
  return result;
}

/// The settings that fix the data order and the schedule, as stored in a
/// checkpoint (key: the flag).
std::vector<std::pair<std::string, std::string>>
runSettings(const TrainOptions &o, const Schedule &s) {
  auto real = [](double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return std::string(text);
  };
  std::string normalize;
  for (float x : o.normalize)
    normalize += (normalize.empty() ? "" : ",") + real(x);
  return {{"--dataset", o.dataset},
          {"--data-dir", o.dataDir},
          {"--seed", std::to_string(o.seed)},
          {"--batch-size", std::to_string(o.batchSize)},
          {"--val-split", real(o.valSplit)},
          {"--limit-train", std::to_string(o.limitTrain)},
          {"--epochs", std::to_string(o.epochs)},
          {"--lr", real(s.baseLr)},
          {"--schedule", scheduleKindName(s.kind)},
          {"--min-lr", real(s.minLr)},
          {"--step-size", std::to_string(s.stepSizeEpochs)},
          {"--gamma", real(s.gamma)},
          {"--warmup-steps", std::to_string(s.warmupSteps)},
          {"--normalize", normalize},
          {"--resize", o.resize ? "1" : "0"},
          {"--replicate-channels", o.replicateChannels ? "1" : "0"},
          {"--augment", "crop=" + std::to_string(o.cropPadding) +
                            (o.flip ? ",flip" : "")}};
}

/// Warns about each setting that differs from the interrupted run's: the
/// resumed run then cannot match an uninterrupted one.
void compareSettings(const Checkpoint &c, const std::string &path,
                     const std::vector<std::pair<std::string, std::string>> &now) {
  for (const auto &[flag, value] : now) {
    std::string stored = c.setting(flag);
    if (stored != value)
      warn(flag + " is '" + value + "' but was '" + stored + "' in '" + path +
           "': the resumed run will not match an uninterrupted one");
  }
}

/// Dropout's seed for a step: a hash (splitmix64's finalizer) of the run's
/// seed and the step.
int64_t stepSeed(uint64_t seed, int64_t step) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(step);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<int64_t>((z ^ (z >> 31)) >> 1);
}

/// The whole run: options, state, data and what the loop accumulates.
class Trainer {
public:
  Trainer(vitc_model *model, const TrainOptions &options);
  int run();

private:
  void prepareSchedule(int64_t stepsPerEpoch);
  void saveCheckpoint(int64_t epoch, int64_t batch);
  /// The epochs from the start (or resumed) position to --epochs or
  /// --max-steps.
  void trainEpochs();
  void finishEpoch(int64_t epoch, double lr);
  void appendMetrics(const std::string &json);
  /// Test evaluation, plot and ONNX export.
  void finish(bool training);

  TrainOptions o_;
  TrainState state_;
  Schedule schedule_;
  std::unique_ptr<RunData> data_;
  std::unique_ptr<data::Loader> loader_;
  MetricsFile metrics_;
  // Position and sums (restored from a checkpoint on --resume).
  Checkpoint resumed_;
  int64_t step_ = 0;
  EpochProgress progress_;
  std::vector<EpochRecord> history_;
  Clock::time_point runStart_ = Clock::now();
  double runSecondsBefore_ = 0;
};

Trainer::Trainer(vitc_model *model, const TrainOptions &options)
    : o_(options), state_(model, options.model) {
  // The graph to export into: --onnx-model, else the model vitc compiled.
  if (!o_.exportOnnx.empty() && o_.onnxModel.empty())
    o_.onnxModel = vitc_model_source(model);
  if (!o_.exportOnnx.empty() &&
      (o_.onnxModel.empty() || !fs::exists(o_.onnxModel)))
    fatal("--export-onnx: cannot find the source model '" + o_.onnxModel +
          "' the artifact was compiled from; pass --onnx-model PATH");
  if (!o_.resume.empty()) {
    std::string path = (fs::path(o_.resume) / kCheckpointFile).string();
    std::string error;
    if (!readCheckpoint(path, resumed_, error))
      fatal(error);
    state_.restore(resumed_, path);
    step_ = resumed_.step;
    progress_ = resumed_.progress;
    history_ = resumed_.history;
    runSecondsBefore_ = progress_.runSeconds;
    resumed_.tensors.clear();
    resumed_.storage = {}; // copied into the state
  }
  if (!o_.checkpointDir.empty()) {
    std::error_code ec;
    fs::create_directories(o_.checkpointDir, ec);
    if (ec)
      fatal("--checkpoint-dir: cannot create '" + o_.checkpointDir +
            "': " + ec.message());
  }
}

void Trainer::prepareSchedule(int64_t stepsPerEpoch) {
  schedule_.kind = o_.schedule;
  schedule_.baseLr = o_.lr ? *o_.lr : shortestDecimal(state_.info().lr);
  schedule_.minLr = o_.minLr;
  schedule_.stepSizeEpochs = o_.stepSize;
  schedule_.gamma = o_.gamma;
  schedule_.stepsPerEpoch = stepsPerEpoch;
  schedule_.totalSteps = stepsPerEpoch * o_.epochs;
  schedule_.warmupSteps =
      o_.warmupEpochs > 0
          ? static_cast<int64_t>(std::llround(o_.warmupEpochs * stepsPerEpoch))
          : o_.warmupSteps;
  if (!(schedule_.baseLr > 0))
    fatal("the learning rate is " + std::to_string(schedule_.baseLr) +
          "; give --lr");
}

void Trainer::saveCheckpoint(int64_t epoch, int64_t batch) {
  if (o_.checkpointDir.empty())
    return;
  Checkpoint c;
  c.identity = state_.identity();
  c.step = step_;
  c.epoch = epoch;
  c.batch = batch;
  c.settings = runSettings(o_, schedule_);
  c.progress = progress_;
  c.progress.runSeconds = runSecondsBefore_ + secondsSince(runStart_);
  c.history = history_;
  c.tensors = state_.checkpointTensors();
  std::string error;
  if (!writeCheckpoint(o_.checkpointDir, c, error))
    fatal(error);
}

void Trainer::appendMetrics(const std::string &json) {
  std::string error;
  if (metrics_.isOpen() && !metrics_.append(json, error))
    fatal(error);
}

void Trainer::finishEpoch(int64_t epoch, double lr) {
  auto evalStart = Clock::now();
  Evaluation val = evaluate(state_, data_->val, data_->transform, o_.batchSize);
  EpochRecord r;
  r.epoch = epoch + 1;
  r.step = step_;
  r.trainLoss = progress_.lossSum / progress_.samples;
  r.trainAcc = static_cast<double>(progress_.correct) / progress_.samples;
  r.valLoss = val.loss;
  r.valAcc = val.accuracy;
  r.lr = lr;
  r.epochSeconds = progress_.seconds + secondsSince(evalStart);
  r.imagesPerSecond = progress_.samples / progress_.seconds;
  r.peakRssMb = peakRssMb();
  history_.push_back(r);
  appendMetrics(epochJson(r));

  char valText[64] = "";
  if (std::isfinite(r.valAcc))
    std::snprintf(valText, sizeof valText, " | val loss %.4f | val acc %.2f%%",
                  r.valLoss, 100 * r.valAcc);
  std::printf("Epoch: %04lld/%04lld | train loss %.4f | train acc %.2f%%%s | "
              "lr %.3g | time %.1f s | elapsed %.1f s | %.0f img/s | "
              "peak RSS %.0f MB\n",
              static_cast<long long>(epoch + 1),
              static_cast<long long>(o_.epochs), r.trainLoss, 100 * r.trainAcc,
              valText, r.lr, r.epochSeconds,
              runSecondsBefore_ + secondsSince(runStart_), r.imagesPerSecond,
              r.peakRssMb);
  std::fflush(stdout);
  progress_ = EpochProgress{};
  saveCheckpoint(epoch + 1, 0);
}

int Trainer::run() {
  bool training = o_.epochs > 0;
  if (training) {
    data_ = loadRunData(o_, state_);
    loader_ = std::make_unique<data::Loader>(
        data_->train, data_->transform, o_.batchSize, /*shuffle=*/true,
        /*augment=*/o_.cropPadding > 0 || o_.flip, /*dropLast=*/false, o_.seed);
    prepareSchedule(loader_->numBatches());
  } else {
    prepareSchedule(1);
  }
  if (!o_.resume.empty())
    compareSettings(resumed_, (fs::path(o_.resume) / kCheckpointFile).string(),
                    runSettings(o_, schedule_));
  if (!o_.metrics.empty()) {
    std::string error;
    if (!metrics_.open(o_.metrics, error))
      fatal(error);
    // A resumed run's file holds the whole run.
    for (const EpochRecord &r : history_)
      appendMetrics(epochJson(r));
  }

  if (training)
    trainEpochs();
  finish(training);
  return 0;
}

void Trainer::trainEpochs() {
  int64_t batches = loader_->numBatches();
  int64_t firstEpoch = resumed_.epoch, firstBatch = resumed_.batch;
  if (firstBatch >= batches) // the batch size changed: next epoch
    ++firstEpoch, firstBatch = 0;
  Progress progress(o_.epochs, o_.logEvery);
  bool stopped = o_.maxSteps && step_ >= o_.maxSteps;
  for (int64_t epoch = firstEpoch; epoch < o_.epochs && !stopped; ++epoch) {
    int64_t batch = epoch == firstEpoch ? firstBatch : 0;
    loader_->startEpoch(epoch, batch);
    progress.startEpoch(epoch, batches, batch);
    data::Batch next;
    double lr = 0;
    auto start = Clock::now();
    try {
      while (!stopped && loader_->next(next)) {
        lr = learningRate(schedule_, step_ + 1);
        StepResult r = state_.train(view(next), static_cast<float>(lr),
                                    step_ + 1, stepSeed(o_.seed, step_ + 1));
        ++step_, ++batch;
        progress_.lossSum += r.loss * next.size;
        progress_.correct += r.correct;
        progress_.samples += next.size;
        progress.batchDone(batch, r.loss);
        stopped = o_.maxSteps && step_ >= o_.maxSteps;
        bool periodic = o_.checkpointEvery && step_ % o_.checkpointEvery == 0;
        // At the end of the epoch, finishEpoch() saves.
        if (batch < batches && (periodic || stopped)) {
          progress_.seconds += secondsSince(start);
          start = Clock::now();
          saveCheckpoint(epoch, batch);
        }
      }
    } catch (const data::DataError &e) {
      fatal(e.what());
    }
    progress.clear();
    progress_.seconds += secondsSince(start);
    if (batch == batches)
      finishEpoch(epoch, lr);
  }
  if (stopped)
    std::printf("Stopped after step %lld (--max-steps)\n",
                static_cast<long long>(step_));
}

void Trainer::finish(bool training) {
  if (training && data_->dataset.test.count > 0) {
    Evaluation test = evaluate(state_, data_->dataset.test, data_->transform,
                               o_.batchSize);
    std::printf("Test: loss %.4f | acc %.2f%% (%lld images)\n", test.loss,
                100 * test.accuracy, static_cast<long long>(test.samples));
    appendMetrics(testJson(test.loss, test.accuracy, step_));
  }
  std::string error;
  if (!o_.plot.empty() &&
      !writePng(o_.plot, drawTrainingPlot(history_), error))
    fatal("--plot: " + error);
  if (!o_.exportOnnx.empty()) {
    if (!exportOnnx(o_.onnxModel, o_.exportOnnx, state_.trainedTensors(), error))
      fatal(error);
    std::printf("Exported the trained weights to %s\n", o_.exportOnnx.c_str());
  }
}

} // namespace

int runTrainer(vitc_model *model, int argc, char **argv) {
  TrainOptions options = parseTrainOptions(argc, argv);
  // Past a file-size limit, writes fail with EFBIG instead of killing the
  // process: a checkpoint that does not fit is then reported like a full
  // disk, and the last good one stays.
  std::signal(SIGXFSZ, SIG_IGN);
  if (options.threads > 0)
    vitc_set_num_threads(options.threads);
  int status;
  {
    Trainer trainer(model, options);
    status = trainer.run();
  }
  vitc_model_free(model);
  return status;
}

} // namespace vitc::train
