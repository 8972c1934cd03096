//===- TrainOptions.h - command line of `vitc-run TRAIN.vtc` --------------===//
#ifndef VITC_TOOLS_TRAINOPTIONS_H
#define VITC_TOOLS_TRAINOPTIONS_H

#include "Schedule.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc::train {

struct TrainOptions {
  std::string model;
  // Data.
  std::string dataset = "fashion-mnist";
  std::string dataDir;
  double valSplit = 0.1;
  int64_t limitTrain = 0, limitTest = 0; // 0: all samples
  bool resize = false, replicateChannels = false;
  /// Empty: the dataset's default (see the usage text).
  std::vector<float> normalize;
  int64_t cropPadding = 0;
  bool flip = false;
  // Loop.
  int64_t epochs = 1;
  int64_t batchSize = 64;
  int64_t maxSteps = 0; // 0: no limit
  uint64_t seed = 0;
  int threads = 0;
  // Learning rate.
  std::optional<double> lr; // default: the artifact's
  ScheduleKind schedule = ScheduleKind::Constant;
  double minLr = 0;
  int64_t stepSize = 1;
  double gamma = 0.1;
  int64_t warmupSteps = 0;
  double warmupEpochs = 0;
  // Output.
  int64_t logEvery = 100;
  std::string metrics, plot;
  std::string checkpointDir, resume;
  int64_t checkpointEvery = 0; // steps; 0: only at the end of epochs
  std::string exportOnnx, onnxModel;
};

/// Parses argv (argv[1] is the artifact); exits with a one-line error on a
/// bad flag or value, and prints the usage for --help.
TrainOptions parseTrainOptions(int argc, char **argv);

} // namespace vitc::train

#endif // VITC_TOOLS_TRAINOPTIONS_H
