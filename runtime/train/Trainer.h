//===- Trainer.h - a training run: the step loop and what it keeps --------===//
//
// The trainer feeds train_step by role (TrainState.h): data and labels from
// the data pipeline (Data.h), the learning rate from the schedule
// (Schedule.h). Each epoch ends with eval_step on the validation split, a
// metrics record (RunLog.h) and a checkpoint (Checkpoint.h), so that a run
// resumed from it continues bit for bit where the interrupted one stopped.
// Started as one rank of several (DataParallel.h), it takes its slice of
// each global batch and leaves the writing to rank 0.
// Nothing here prints or exits: errors are returned, progress and warnings
// go to the callbacks of vitc_train_options. vitc_train.h is the C API over
// this class.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_TRAINER_H
#define VITC_TRAIN_TRAINER_H

#include "Checkpoint.h"
#include "DataParallel.h"
#include "RunLog.h"
#include "Schedule.h"
#include "TrainData.h"
#include "TrainState.h"
#include "TrainerOptions.h"

#include "vitc/runtime/Status.h"
#include "vitc_train.h"

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vitc::train {

/// The callbacks of vitc_train_options; each may be null.
struct Callbacks {
  void (*epochBegin)(int64_t, int64_t, int64_t, void *) = nullptr;
  void (*step)(const vitc_step_info *, void *) = nullptr;
  void (*epochEnd)(const vitc_epoch_info *, void *) = nullptr;
  void (*warning)(const char *, void *) = nullptr;
  void *userData = nullptr;
};

vitc_epoch_info toEpochInfo(const EpochRecord &record);

class Trainer {
public:
  /// A trainer of `model` (borrowed), named `name` in messages.
  static rt::StatusOr<std::unique_ptr<Trainer>> create(vitc_model *model,
                                                       const std::string &name,
                                                       TrainerOptions options,
                                                       Callbacks callbacks);

  /// See the functions of the same names in vitc_train.h.
  rt::Status setDataset(DatasetChoice dataset);
  rt::Status loadCheckpoint(const std::string &dir);
  rt::Status saveCheckpoint(const std::string &dir);
  /// Trains until `maxSteps` more steps are done or `maxEpochEnds` more
  /// epochs have ended (0: no such limit), or the run is over. Returns the
  /// steps done.
  rt::StatusOr<int64_t> train(int64_t maxSteps, int64_t maxEpochEnds);
  rt::StatusOr<Evaluation> evaluate(vitc_split split);

  int64_t globalStep() const { return step_; }
  /// Bytes this rank sent in the last training step's collectives (ring
  /// cost); 0 alone or before a step.
  int64_t lastStepCollectiveBytes() const { return lastStepBytes_; }
  /// This process's training steps so far: seconds in train_step, and of
  /// them seconds waiting for collectives (0 alone).
  double stepSeconds() const { return stepSeconds_; }
  double stepWaitSeconds() const { return stepWaitSeconds_; }
  double runSeconds() const;
  const std::vector<EpochRecord> &history() const { return history_; }
  const std::vector<float> &stepLosses() const { return stepLosses_; }
  const TrainState &state() const { return *state_; }
  const DataParallel &dataParallel() const { return *dp_; }

  /// Makes weight() give whole tensors of a sharded state (FSDP) until the
  /// next call that trains or loads a checkpoint. Collective: every rank
  /// calls it. Nothing to do for a state that is not sharded.
  rt::Status gatherWeights();
  /// Weight `index` (TrainState::weight), whole; an error for a sharded one
  /// before gatherWeights().
  rt::StatusOr<Weight> weight(int32_t index) const;

private:
  Trainer(TrainerOptions options, Callbacks callbacks,
          std::unique_ptr<TrainState> state, std::unique_ptr<DataParallel> dp)
      : o_(std::move(options)), callbacks_(callbacks),
        state_(std::move(state)), dp_(std::move(dp)) {}

  /// Prepares the run at the first call that trains, evaluates or saves:
  /// creates the checkpoint directory, reads the data (when training), sets
  /// the schedule, compares a resumed run's settings, opens the metrics.
  rt::Status begin();
  rt::Status ensureData();
  rt::Status prepareSchedule(int64_t stepsPerEpoch);
  /// The settings that fix the data order and the schedule, as stored in a
  /// checkpoint (key: the flag).
  std::vector<std::pair<std::string, std::string>> settings() const;
  void warn(const std::string &message) const;

  bool runOver() const;
  rt::Status startEpoch();
  /// One optimizer step on the next batch; sets `epochEnded`.
  rt::Status step(bool &epochEnded);
  rt::Status finishEpoch();
  rt::Status writeCheckpoint(const std::string &dir, int64_t epoch,
                             int64_t batch);
  /// Adds the time since the current stretch of training began to the
  /// epoch's training time.
  void stopClock();

  TrainerOptions o_;
  Callbacks callbacks_;
  std::unique_ptr<TrainState> state_;
  std::unique_ptr<DataParallel> dp_;
  DatasetChoice dataset_;
  Schedule schedule_;
  std::unique_ptr<RunData> data_;
  std::unique_ptr<data::Loader> loader_;
  data::Batch batch_;
  RunLog log_;
  bool begun_ = false;
  /// A loaded checkpoint's file and settings, compared when training
  /// begins (the schedule's settings depend on the data).
  std::optional<std::pair<std::string, Checkpoint>> resumed_;

  // Position: the next batch is `batchInEpoch_` of 0-based `epoch_`.
  int64_t step_ = 0, epoch_ = 0, batchInEpoch_ = 0;
  bool epochStarted_ = false;
  double epochLr_ = 0; // the rate of the epoch's last step
  EpochProgress progress_;
  std::vector<EpochRecord> history_;
  std::vector<float> stepLosses_;
  int64_t lastStepBytes_ = 0;
  double stepSeconds_ = 0, stepWaitSeconds_ = 0;
  /// gatherWeights()'s whole tensors, by name.
  std::map<std::string, std::vector<char>> gathered_;

  using Clock = std::chrono::steady_clock;
  Clock::time_point runStart_ = Clock::now();
  double runSecondsBefore_ = 0; // a resumed run's earlier time
  Clock::time_point stretchStart_, lastStepEnd_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_TRAINER_H
