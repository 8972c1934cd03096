//===- TrainerOptions.cpp - what a training run is told to do -------------===//
#include "TrainerOptions.h"

#include <cmath>
#include <cstdio>

namespace vitc::train {

using rt::Status;

namespace {

/// Collects the first value out of range, in the words vitc-run's flag
/// parser uses.
class Checker {
public:
  void integer(const char *flag, int64_t value, int64_t min) {
    if (value < min)
      fail("invalid value '" + std::to_string(value) + "' for " + flag +
           " (expected an integer >= " + std::to_string(min) + ")");
  }
  void real(const char *flag, double value, bool positive) {
    if (!std::isfinite(value) || value < 0 || (positive && value == 0))
      fail("invalid value '" + text(value) + "' for " + flag + " (expected a " +
           (positive ? "positive" : "non-negative") + " number)");
  }
  void require(bool ok, const std::string &message) {
    if (!ok)
      fail(message);
  }
  Status status() const {
    return error_.empty() ? Status::ok() : Status::error(error_);
  }

private:
  static std::string text(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
  }
  void fail(const std::string &message) {
    if (error_.empty())
      error_ = message;
  }
  std::string error_;
};

std::string orEmpty(const char *text) { return text ? text : ""; }

static_assert(static_cast<int>(ScheduleKind::Constant) == VITC_LR_CONSTANT &&
                  static_cast<int>(ScheduleKind::Step) == VITC_LR_STEP &&
                  static_cast<int>(ScheduleKind::Cosine) == VITC_LR_COSINE,
              "vitc_lr_schedule values are ScheduleKind's");

} // namespace

rt::StatusOr<TrainerOptions>
TrainerOptions::fromC(const vitc_train_options &c) {
  Checker check;
  TrainerOptions o;
  check.real("--val-split", c.val_split, false);
  check.require(c.val_split < 1, "invalid value for --val-split (expected a "
                                 "fraction in [0, 1))");
  o.valSplit = c.val_split;
  check.integer("--limit-train", c.limit_train, 0);
  check.integer("--limit-test", c.limit_test, 0);
  o.limitTrain = c.limit_train;
  o.limitTest = c.limit_test;
  o.resize = c.resize != 0;
  o.replicateChannels = c.replicate_channels != 0;
  check.require(c.num_normalize >= 0 && (c.normalize || !c.num_normalize),
                "invalid value for --normalize (num_normalize values at NULL)");
  if (c.normalize && c.num_normalize > 0) {
    o.normalize.assign(c.normalize, c.normalize + c.num_normalize);
    for (float x : o.normalize)
      check.real("--normalize", x, false);
    check.require(o.normalize.size() >= 2 && o.normalize.size() % 2 == 0,
                  "invalid value for --normalize (expected MEAN,STD or C "
                  "means then C stds)");
    for (size_t i = o.normalize.size() / 2; i < o.normalize.size(); ++i)
      check.require(o.normalize[i] != 0,
                    "invalid value for --normalize (a std is 0)");
  }
  check.integer("--augment crop", c.crop_padding, 0);
  o.cropPadding = c.crop_padding;
  o.flip = c.flip != 0;

  check.integer("--epochs", c.epochs, 0);
  check.integer("--batch-size", c.batch_size, 1);
  check.integer("--max-steps", c.max_steps, 0);
  o.epochs = c.epochs;
  o.batchSize = c.batch_size;
  o.maxSteps = c.max_steps;
  o.seed = c.seed;

  check.real("--lr", c.lr, false);
  if (c.lr > 0)
    o.lr = c.lr;
  check.require(c.schedule == VITC_LR_CONSTANT || c.schedule == VITC_LR_STEP ||
                    c.schedule == VITC_LR_COSINE,
                "unknown --schedule (expected constant, step or cosine)");
  o.schedule = static_cast<ScheduleKind>(c.schedule);
  check.real("--min-lr", c.min_lr, false);
  check.integer("--step-size", c.step_size, 1);
  check.real("--gamma", c.gamma, true);
  check.integer("--warmup-steps", c.warmup_steps, 0);
  check.real("--warmup-epochs", c.warmup_epochs, false);
  check.require(!(c.warmup_steps && c.warmup_epochs),
                "give --warmup-steps or --warmup-epochs, not both");
  o.minLr = c.min_lr;
  o.stepSize = c.step_size;
  o.gamma = c.gamma;
  o.warmupSteps = c.warmup_steps;
  o.warmupEpochs = c.warmup_epochs;

  o.metrics = orEmpty(c.metrics_path);
  o.tensorboard = orEmpty(c.tensorboard_dir);
  o.checkpointDir = orEmpty(c.checkpoint_dir);
  check.integer("--checkpoint-every", c.checkpoint_every, 0);
  check.require(!c.checkpoint_every || !o.checkpointDir.empty(),
                "--checkpoint-every needs --checkpoint-dir");
  o.checkpointEvery = c.checkpoint_every;
  check.real("--collective-timeout", c.collective_timeout, false);
  o.collectiveTimeout = c.collective_timeout;
  o.checkCollectives = c.check_collectives != 0;
  if (Status status = check.status(); !status.isOk())
    return status;
  return o;
}

} // namespace vitc::train
