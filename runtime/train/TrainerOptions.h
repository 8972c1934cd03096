//===- TrainerOptions.h - what a training run is told to do ---------------===//
//
// The C++ side of vitc_train_options (vitc_train.h): the same fields with
// owned strings. Comments give the vitc-run flag of each; errors name it.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_TRAINEROPTIONS_H
#define VITC_TRAIN_TRAINEROPTIONS_H

#include "Schedule.h"

#include "vitc/runtime/Status.h"
#include "vitc_train.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc::train {

struct TrainerOptions {
  // Data (the dataset itself: Trainer::setDataset).
  double valSplit = 0.1;                  // --val-split
  int64_t limitTrain = 0, limitTest = 0;  // --limit-train/-test; 0: all
  bool resize = false;                    // --resize
  bool replicateChannels = false;         // --replicate-channels
  /// --normalize; empty: the dataset's default.
  std::vector<float> normalize;
  int64_t cropPadding = 0; // --augment crop=P
  bool flip = false;       // --augment flip
  // Loop.
  int64_t epochs = 1;     // --epochs
  int64_t batchSize = 64; // --batch-size
  int64_t maxSteps = 0;   // --max-steps; 0: no limit
  uint64_t seed = 0;      // --seed
  // Learning rate.
  std::optional<double> lr; // --lr; default: the artifact's
  ScheduleKind schedule = ScheduleKind::Constant;
  double minLr = 0;         // --min-lr
  int64_t stepSize = 1;     // --step-size
  double gamma = 0.1;       // --gamma
  int64_t warmupSteps = 0;  // --warmup-steps
  double warmupEpochs = 0;  // --warmup-epochs
  // Outputs; empty: none.
  std::string metrics;       // --metrics
  std::string tensorboard;   // --tensorboard
  std::string checkpointDir; // --checkpoint-dir
  int64_t checkpointEvery = 0; // --checkpoint-every; 0: at epoch ends only
  // Ranks.
  double collectiveTimeout = 300; // --collective-timeout; 0: never
  bool checkCollectives = false;  // --check-collectives

  /// The options of `c`, or an error naming the flag of a value out of
  /// range (vitc-run checks its flags first, with the same limits).
  static rt::StatusOr<TrainerOptions> fromC(const vitc_train_options &c);
};

/// Where the samples come from (Trainer::setDataset).
struct DatasetChoice {
  std::string kind = "fashion-mnist"; // --dataset
  std::string dir;                    // --data-dir; empty: the default
};

} // namespace vitc::train

#endif // VITC_TRAIN_TRAINEROPTIONS_H
