//===- TrainData.cpp - the splits a run trains and evaluates on -----------===//
#include "TrainData.h"

#include <tuple>

namespace vitc::train {

using rt::Status;
using rt::StatusOr;

namespace {

constexpr const char *kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

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
Status checkLabels(const data::Split &split, const char *what,
                   int64_t numClasses) {
  if (numClasses <= 0)
    return Status::ok();
  for (int64_t i = 0; i < split.count; ++i) {
    int64_t label = split.labels[i];
    if (label < 0 || label >= numClasses)
      return Status::error(std::string(what) + " sample " + std::to_string(i) +
                           " has label " + std::to_string(label) +
                           ", but the model has " + std::to_string(numClasses) +
                           " classes (labels 0.." +
                           std::to_string(numClasses - 1) + ")");
  }
  return Status::ok();
}

data::Transform makeTransform(const TrainerOptions &o,
                              const DatasetChoice &dataset,
                              const TrainState &state) {
  data::Transform t;
  t.channels = state.channels();
  t.height = state.height();
  t.width = state.width();
  t.resize = o.resize;
  t.replicateChannels = o.replicateChannels;
  t.cropPadding = o.cropPadding;
  t.flip = o.flip;
  std::vector<float> normalize = o.normalize;
  if (normalize.empty() && dataset.kind == "mnist")
    normalize = {0.1307f, 0.3081f};
  if (normalize.empty() && dataset.kind == "fashion-mnist")
    normalize = {0.2860f, 0.3530f};
  if (!normalize.empty()) {
    size_t half = normalize.size() / 2;
    t.mean.assign(normalize.begin(), normalize.begin() + half);
    t.std.assign(normalize.begin() + half, normalize.end());
  }
  return t;
}

/// The splits of `run`, less the checks of labels.
Status readSplits(const TrainerOptions &o, const DatasetChoice &dataset,
                  RunData &run) {
  std::string dir = dataset.dir;
  if (dir.empty() && dataset.kind == "fashion-mnist")
    dir = kFashionMnistDir;
  if (dir.empty())
    return Status::error("--dataset " + dataset.kind + " needs --data-dir");
  StatusOr<data::Dataset> loaded = data::loadDataset({dataset.kind, dir});
  if (!loaded.isOk())
    return loaded.status();
  run.dataset = std::move(*loaded);
  data::Split train = head(run.dataset.train, o.limitTrain);
  run.dataset.train = {}; // keep one copy of the images
  if (o.valSplit > 0) {
    StatusOr<std::pair<data::Split, data::Split>> parts =
        data::splitValidation(train, o.valSplit, o.seed);
    if (!parts.isOk())
      return parts.status();
    std::tie(run.train, run.val) = std::move(*parts);
  } else {
    run.train = std::move(train);
  }
  run.dataset.test = head(run.dataset.test, o.limitTest);
  if (run.train.count == 0)
    return Status::error("the training split is empty");
  for (const data::Split *split : {&run.train, &run.val, &run.dataset.test})
    if (split->count > 0)
      if (Status status = data::checkFits(*split, run.transform);
          !status.isOk())
        return status;
  return Status::ok();
}

} // namespace

StatusOr<std::unique_ptr<RunData>> loadRunData(const TrainerOptions &o,
                                               const DatasetChoice &dataset,
                                               const TrainState &state) {
  auto run = std::make_unique<RunData>();
  run->transform = makeTransform(o, dataset, state);
  if (Status status = readSplits(o, dataset, *run); !status.isOk())
    return status;
  int64_t classes = state.info().num_classes;
  for (auto [split, what] :
       {std::pair{&run->train, "training"}, std::pair{&run->val, "validation"},
        std::pair{&run->dataset.test, "test"}})
    if (Status status = checkLabels(*split, what, classes); !status.isOk())
      return status;
  return run;
}

StatusOr<Evaluation> evaluate(TrainState &state, const data::Split &split,
                              const data::Transform &transform,
                              int64_t batchSize, DataParallel &dp) {
  Evaluation result;
  if (split.count == 0)
    return result;
  double lossSum = 0;
  int64_t correct = 0;
  StatusOr<std::unique_ptr<data::Loader>> loader = data::Loader::create(
      split, transform, batchSize * dp.size(), /*shuffle=*/false,
      /*augment=*/false, /*dropLast=*/false, /*seed=*/0, dp.slice());
  if (!loader.isOk())
    return loader.status();
  if (Status status = (*loader)->startEpoch(0); !status.isOk())
    return status;
  data::Batch batch;
  while (true) {
    StatusOr<bool> more = (*loader)->next(batch);
    if (!more.isOk())
      return more.status();
    if (!*more)
      break;
    dp.beforeStep(batch);
    StatusOr<StepResult> r = state.eval(view(batch));
    if (!r.isOk())
      return r.status();
    // eval_step's loss and hits are the global batch's.
    lossSum += r->loss * batch.globalSize;
    correct += r->correct;
    result.samples += batch.globalSize;
  }
  result.loss = lossSum / result.samples;
  result.accuracy = static_cast<double>(correct) / result.samples;
  return result;
}

} // namespace vitc::train
