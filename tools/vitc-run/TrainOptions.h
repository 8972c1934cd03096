//===- TrainOptions.h - command line of `vitc-run TRAIN.vtc` --------------===//
#ifndef VITC_RUN_TRAINOPTIONS_H
#define VITC_RUN_TRAINOPTIONS_H

#include "vitc_train.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::run {

struct TrainOptions {
  TrainOptions() { vitc_train_options_init(&trainer); }

  std::string model;
  std::string dataset = "fashion-mnist", dataDir; // vitc_trainer_set_dataset
  std::string resume; // vitc_trainer_load_checkpoint
  // What the tool itself does with the run.
  int64_t logEvery = 100;
  std::string plot;
  std::string exportOnnx, onnxModel;

  /// The trainer's options; its pointers are set by trainerOptions().
  vitc_train_options trainer;
  std::vector<float> normalize;
  std::string metrics, tensorboard, checkpointDir;

  /// `trainer` pointing at the fields above: valid while this object lives.
  vitc_train_options trainerOptions() const;
};

/// Parses argv (argv[1] is the artifact); exits with a one-line error on a
/// bad flag or value, and prints the usage for --help.
TrainOptions parseTrainOptions(int argc, char **argv);

} // namespace vitc::run

#endif // VITC_RUN_TRAINOPTIONS_H
