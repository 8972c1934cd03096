//===- Trainer.cpp - a training run: the step loop and what it keeps ------===//
#include "Trainer.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace vitc::train {

using rt::Status;
using rt::StatusOr;

namespace {

namespace fs = std::filesystem;

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

/// Dropout's seed for a step: a hash (splitmix64's finalizer) of the run's
/// seed and the step.
int64_t stepSeed(uint64_t seed, int64_t step) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(step);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<int64_t>((z ^ (z >> 31)) >> 1);
}

double secondsBetween(std::chrono::steady_clock::time_point start,
                      std::chrono::steady_clock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

std::string checkpointPath(const std::string &dir) {
  return (fs::path(dir) / kCheckpointFile).string();
}

} // namespace

vitc_epoch_info toEpochInfo(const EpochRecord &r) {
  return {r.epoch,  r.step, r.trainLoss,    r.trainAcc,        r.valLoss,
          r.valAcc, r.lr,   r.epochSeconds, r.imagesPerSecond, r.peakRssMb};
}

StatusOr<std::unique_ptr<Trainer>> Trainer::create(vitc_model *model,
                                                   const std::string &name,
                                                   TrainerOptions options,
                                                   Callbacks callbacks) {
  // The job first: a sharded state holds this rank's blocks. Not a training
  // artifact: TrainState says why.
  vitc_training_info info{};
  if (vitc_model_training_info(model, &info) != 0)
    return TrainState::create(model, name).status();
  StatusOr<std::unique_ptr<DataParallel>> dp =
      DataParallel::create(info, name, options);
  if (!dp.isOk())
    return dp.status();
  StatusOr<std::unique_ptr<TrainState>> state =
      TrainState::create(model, name, (*dp)->slice());
  if (!state.isOk())
    return state.status();
  return std::unique_ptr<Trainer>(new Trainer(
      std::move(options), callbacks, std::move(*state), std::move(*dp)));
}

double Trainer::runSeconds() const {
  return runSecondsBefore_ + secondsBetween(runStart_, Clock::now());
}

void Trainer::warn(const std::string &message) const {
  if (callbacks_.warning)
    callbacks_.warning(message.c_str(), callbacks_.userData);
}

Status Trainer::setDataset(DatasetChoice dataset) {
  if (dataset.kind != "fashion-mnist" && dataset.kind != "mnist" &&
      dataset.kind != "npy")
    return Status::error("unknown --dataset '" + dataset.kind +
                         "' (expected fashion-mnist, mnist or npy)");
  if (data_)
    return Status::error("the dataset is already read: set it before "
                         "training or evaluating");
  dataset_ = std::move(dataset);
  return Status::ok();
}

Status Trainer::loadCheckpoint(const std::string &dir) {
  if (begun_)
    return Status::error("--resume: load the checkpoint before training, "
                         "evaluating or saving");
  std::string path = checkpointPath(dir);
  Checkpoint c;
  std::string error;
  if (!readCheckpoint(path, c, error) || !readShards(dir, c, error))
    return Status::error(error);
  if (Status status = state_->restore(c, path); !status.isOk())
    return status;
  gathered_.clear();
  step_ = c.step;
  epoch_ = c.epoch;
  batchInEpoch_ = c.batch;
  progress_ = c.progress;
  history_ = c.history;
  // Version 1 checkpoints have no step losses: unknown (NaN) steps keep
  // the others at their index.
  stepLosses_.assign(c.step - std::min<int64_t>(c.step, c.stepLosses.size()),
                     NAN);
  stepLosses_.insert(stepLosses_.end(), c.stepLosses.begin(),
                     c.stepLosses.end());
  runSecondsBefore_ = progress_.runSeconds;
  c.tensors.clear();
  c.storage = {}; // copied into the state
  c.wholes = {};
  resumed_.emplace(path, std::move(c));
  return Status::ok();
}

Status Trainer::ensureData() {
  if (data_)
    return Status::ok();
  StatusOr<std::unique_ptr<RunData>> data = loadRunData(o_, dataset_, *state_);
  if (!data.isOk())
    return data.status();
  data_ = std::move(*data);
  return Status::ok();
}

Status Trainer::prepareSchedule(int64_t stepsPerEpoch) {
  schedule_.kind = o_.schedule;
  schedule_.baseLr = o_.lr ? *o_.lr : shortestDecimal(state_->info().lr);
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
    return Status::error("the learning rate is " +
                         std::to_string(schedule_.baseLr) + "; give --lr");
  return Status::ok();
}

std::vector<std::pair<std::string, std::string>> Trainer::settings() const {
  auto real = [](double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", x);
    return std::string(text);
  };
  std::string normalize;
  for (float x : o_.normalize)
    normalize += (normalize.empty() ? "" : ",") + real(x);
  const Schedule &s = schedule_;
  return {{"--dataset", dataset_.kind},
          {"--data-dir", dataset_.dir},
          {"--seed", std::to_string(o_.seed)},
          {"--batch-size", std::to_string(o_.batchSize)},
          {"--val-split", real(o_.valSplit)},
          {"--limit-train", std::to_string(o_.limitTrain)},
          {"--epochs", std::to_string(o_.epochs)},
          {"--lr", real(s.baseLr)},
          {"--schedule", scheduleKindName(s.kind)},
          {"--min-lr", real(s.minLr)},
          {"--step-size", std::to_string(s.stepSizeEpochs)},
          {"--gamma", real(s.gamma)},
          {"--warmup-steps", std::to_string(s.warmupSteps)},
          {"--normalize", normalize},
          {"--resize", o_.resize ? "1" : "0"},
          {"--replicate-channels", o_.replicateChannels ? "1" : "0"},
          {"--augment", "crop=" + std::to_string(o_.cropPadding) +
                            (o_.flip ? ",flip" : "")}};
}

Status Trainer::begin() {
  if (begun_)
    return Status::ok();
  begun_ = true;
  if (!o_.checkpointDir.empty() && dp_->isRoot()) {
    std::error_code ec;
    fs::create_directories(o_.checkpointDir, ec);
    if (ec)
      return Status::error("--checkpoint-dir: cannot create '" +
                           o_.checkpointDir + "': " + ec.message());
  }
  if (o_.epochs > 0) {
    if (Status status = ensureData(); !status.isOk())
      return status;
    // --batch-size is per rank: the ranks split global batches.
    StatusOr<std::unique_ptr<data::Loader>> loader = data::Loader::create(
        data_->train, data_->transform, o_.batchSize * dp_->size(),
        /*shuffle=*/true, /*augment=*/o_.cropPadding > 0 || o_.flip,
        /*dropLast=*/false, o_.seed, dp_->slice());
    if (!loader.isOk())
      return loader.status();
    loader_ = std::move(*loader);
    if (batchInEpoch_ >= loader_->numBatches()) // the batch size changed
      ++epoch_, batchInEpoch_ = 0;
  }
  if (Status status = prepareSchedule(loader_ ? loader_->numBatches() : 1);
      !status.isOk())
    return status;
  // A resumed run matches an uninterrupted one only with the same
  // settings.
  if (resumed_)
    for (const auto &[flag, value] : settings()) {
      std::string stored = resumed_->second.setting(flag);
      if (stored != value)
        warn(flag + " is '" + value + "' but was '" + stored + "' in '" +
             resumed_->first +
             "': the resumed run will not match an uninterrupted one");
    }
  // Rank 0 writes what the job writes once; the others' log stays closed.
  return dp_->isRoot() ? log_.open(o_, history_) : Status::ok();
}

bool Trainer::runOver() const {
  return epoch_ >= o_.epochs || (o_.maxSteps && step_ >= o_.maxSteps);
}

void Trainer::stopClock() {
  progress_.seconds += secondsBetween(stretchStart_, Clock::now());
}

Status Trainer::startEpoch() {
  if (Status status = loader_->startEpoch(epoch_, batchInEpoch_);
      !status.isOk())
    return status;
  epochStarted_ = true;
  epochLr_ = 0;
  if (callbacks_.epochBegin)
    callbacks_.epochBegin(epoch_ + 1, batchInEpoch_, loader_->numBatches(),
                          callbacks_.userData);
  stretchStart_ = lastStepEnd_ = Clock::now();
  return Status::ok();
}

Status Trainer::step(bool &epochEnded) {
  StatusOr<bool> next = loader_->next(batch_);
  if (!next.isOk())
    return next.status();
  bool haveBatch = *next;
  int64_t batches = loader_->numBatches();
  epochEnded = !haveBatch || batchInEpoch_ + 1 == batches;
  if (!haveBatch)
    return Status::ok();
  double lr = learningRate(schedule_, step_ + 1);
  dp_->beforeStep(batch_);
  int64_t bytesBefore = dp_->collectiveBytes();
  double waitBefore = dp_->collectiveWaitSeconds();
  Clock::time_point stepStart = Clock::now();
  StatusOr<StepResult> r =
      state_->train(view(batch_), static_cast<float>(lr), step_ + 1,
                    stepSeed(o_.seed, step_ + 1));
  if (!r.isOk())
    return r.status();
  stepSeconds_ += secondsBetween(stepStart, Clock::now());
  stepWaitSeconds_ += dp_->collectiveWaitSeconds() - waitBefore;
  lastStepBytes_ = dp_->collectiveBytes() - bytesBefore;
  ++step_, ++batchInEpoch_;
  epochLr_ = lr;
  // The step's loss and hits are the global batch's.
  progress_.lossSum += r->loss * batch_.globalSize;
  progress_.correct += r->correct;
  progress_.samples += batch_.globalSize;
  stepLosses_.push_back(static_cast<float>(r->loss));
  if (Status status = log_.step(step_, r->loss, lr); !status.isOk())
    return status;
  Clock::time_point now = Clock::now();
  if (callbacks_.step) {
    vitc_step_info info{};
    info.step = step_;
    info.epoch = epoch_ + 1;
    info.batch = batchInEpoch_;
    info.num_batches = batches;
    info.batch_size = batch_.globalSize;
    info.loss = r->loss;
    info.correct = r->correct;
    info.lr = lr;
    info.images_per_second =
        batch_.globalSize / secondsBetween(lastStepEnd_, now);
    callbacks_.step(&info, callbacks_.userData);
  }
  lastStepEnd_ = now;
  bool stopped = o_.maxSteps && step_ >= o_.maxSteps;
  bool periodic = o_.checkpointEvery && step_ % o_.checkpointEvery == 0;
  // At the end of the epoch, finishEpoch() saves.
  if (!epochEnded && (periodic || stopped) && !o_.checkpointDir.empty()) {
    stopClock();
    stretchStart_ = Clock::now();
    return writeCheckpoint(o_.checkpointDir, epoch_, batchInEpoch_);
  }
  return Status::ok();
}

Status Trainer::finishEpoch() {
  stopClock();
  epochStarted_ = false;
  bool complete = batchInEpoch_ == loader_->numBatches();
  int64_t epoch = epoch_++;
  batchInEpoch_ = 0;
  if (!complete)
    return Status::ok();
  auto evalStart = Clock::now();
  StatusOr<Evaluation> val = train::evaluate(*state_, data_->val,
                                             data_->transform, o_.batchSize, *dp_);
  if (!val.isOk())
    return val.status();
  EpochRecord r;
  r.epoch = epoch + 1;
  r.step = step_;
  r.trainLoss = progress_.lossSum / progress_.samples;
  r.trainAcc = static_cast<double>(progress_.correct) / progress_.samples;
  r.valLoss = val->loss;
  r.valAcc = val->accuracy;
  r.lr = epochLr_;
  r.epochSeconds = progress_.seconds + secondsBetween(evalStart, Clock::now());
  r.imagesPerSecond = progress_.samples / progress_.seconds;
  r.peakRssMb = peakRssMb();
  history_.push_back(r);
  if (Status status = log_.epoch(r); !status.isOk())
    return status;
  if (callbacks_.epochEnd) {
    vitc_epoch_info info = toEpochInfo(r);
    callbacks_.epochEnd(&info, callbacks_.userData);
  }
  progress_ = EpochProgress{};
  if (o_.checkpointDir.empty())
    return Status::ok();
  return writeCheckpoint(o_.checkpointDir, epoch + 1, 0);
}

StatusOr<int64_t> Trainer::train(int64_t maxSteps, int64_t maxEpochEnds) {
  if (Status status = begin(); !status.isOk())
    return status;
  gathered_.clear();
  // An epoch left open by an earlier call: the time between calls is not
  // training time.
  if (epochStarted_)
    stretchStart_ = lastStepEnd_ = Clock::now();
  int64_t firstStep = step_, epochEnds = 0;
  while (!runOver() && (!maxSteps || step_ - firstStep < maxSteps) &&
         (!maxEpochEnds || epochEnds < maxEpochEnds)) {
    if (!epochStarted_)
      if (Status status = startEpoch(); !status.isOk())
        return status;
    bool epochEnded = false;
    if (Status status = step(epochEnded); !status.isOk())
      return status;
    if (epochEnded) {
      if (Status status = finishEpoch(); !status.isOk())
        return status;
      ++epochEnds;
    }
  }
  if (epochStarted_)
    stopClock();
  return step_ - firstStep;
}

StatusOr<Evaluation> Trainer::evaluate(vitc_split split) {
  if (split != VITC_SPLIT_TRAIN && split != VITC_SPLIT_VALIDATION &&
      split != VITC_SPLIT_TEST)
    return Status::error("no split #" + std::to_string(split) +
                         " (expected VITC_SPLIT_TRAIN, _VALIDATION or _TEST)");
  if (Status status = begin(); !status.isOk())
    return status;
  if (Status status = ensureData(); !status.isOk())
    return status;
  const data::Split &data = split == VITC_SPLIT_TRAIN ? data_->train
                            : split == VITC_SPLIT_VALIDATION
                                ? data_->val
                                : data_->dataset.test;
  StatusOr<Evaluation> result =
      train::evaluate(*state_, data, data_->transform, o_.batchSize, *dp_);
  if (result.isOk() && split == VITC_SPLIT_TEST && result->samples > 0)
    if (Status status = log_.test(result->loss, result->accuracy, step_);
        !status.isOk())
      return status;
  return result;
}

Status Trainer::writeCheckpoint(const std::string &dir, int64_t epoch,
                                int64_t batch) {
  // Sharded across ranks (FSDP): each rank writes its blocks to its shard
  // file, then rank 0 the index (Checkpoint.h). Otherwise every rank holds
  // the same state, and rank 0 writes it.
  std::vector<CheckpointTensor> tensors = state_->checkpointTensors(),
                                sharded;
  if (state_->isSharded()) {
    std::vector<CheckpointTensor> whole;
    for (CheckpointTensor &t : tensors)
      (state_->fullShape(t.name).empty() ? whole : sharded)
          .push_back(std::move(t));
    tensors = std::move(whole);
  }
  if (!sharded.empty()) {
    Checkpoint shard;
    shard.identity = state_->identity();
    shard.step = step_;
    shard.tensors = sharded;
    std::string error, path = (fs::path(dir) / shardFileName(step_, dp_->rank(),
                                                             dp_->size()))
                                  .string();
    bool ok = writeCheckpointFile(path, shard, error);
    StatusOr<bool> all = dp_->allRanksOk(ok);
    if (!ok)
      return Status::error(error);
    if (!all.isOk())
      return all.status();
    if (!*all)
      return Status::error("checkpoint not saved: another rank could not "
                           "write its shard");
    for (CheckpointTensor &t : sharded) {
      t.shape = state_->fullShape(t.name);
      t.data = nullptr;
      t.bytes = 0;
    }
  }
  if (!dp_->isRoot())
    return Status::ok();
  Checkpoint c;
  c.identity = state_->identity();
  c.step = step_;
  c.epoch = epoch;
  c.batch = batch;
  c.settings = settings();
  c.progress = progress_;
  c.progress.runSeconds = runSeconds();
  c.history = history_;
  c.stepLosses = stepLosses_;
  c.tensors = std::move(tensors);
  c.shardWorld = sharded.empty() ? 0 : dp_->size();
  c.sharded = std::move(sharded);
  std::string error;
  if (!train::writeCheckpoint(dir, c, error))
    return Status::error(error);
  // The new index is in place: the shard files of older ones can go.
  removeStaleShards(dir, c.shardWorld ? step_ : -1);
  return Status::ok();
}

Status Trainer::saveCheckpoint(const std::string &dir) {
  if (Status status = begin(); !status.isOk())
    return status;
  return writeCheckpoint(dir, epoch_, batchInEpoch_);
}

Status Trainer::gatherWeights() {
  gathered_.clear();
  for (int32_t i = 0; i < state_->numWeights(); ++i) {
    Weight w = state_->weight(i);
    const std::vector<int64_t> &shape = state_->fullShape(w.name);
    if (shape.empty())
      continue;
    StatusOr<std::vector<char>> whole = dp_->gatherWhole(w.tensor, shape);
    if (!whole.isOk())
      return whole.status();
    gathered_[w.name] = std::move(*whole);
  }
  return Status::ok();
}

StatusOr<Weight> Trainer::weight(int32_t index) const {
  Weight w = state_->weight(index);
  const std::vector<int64_t> &shape = state_->fullShape(w.name);
  if (shape.empty())
    return w;
  auto it = gathered_.find(w.name);
  if (it == gathered_.end())
    return Status::error(std::string("weight '") + w.name +
                         "' is sharded over the ranks: gather the weights "
                         "first (vitc_trainer_gather_weights, on every rank)");
  w.tensor.rank = static_cast<int32_t>(shape.size());
  std::copy(shape.begin(), shape.end(), w.tensor.shape);
  w.tensor.data = const_cast<char *>(it->second.data());
  w.bytes = it->second.size();
  return w;
}

} // namespace vitc::train
