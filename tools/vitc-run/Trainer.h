//===- Trainer.h - `vitc-run TRAIN.vtc`: the training loop ----------------===//
//
// vitc-run hands an artifact of mode "train" to runTrainer. The trainer feeds
// train_step by role: params and buffers start from the artifact's initial
// values, optimizer state from zeros, data and labels come from the data
// pipeline (Data.h), the learning rate from the schedule (Schedule.h); each
// output that `updates` an input replaces it for the next step. eval_step
// measures validation and test accuracy. Checkpoints (Checkpoint.h) make a
// resumed run continue bit for bit where the interrupted one stopped.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TOOLS_TRAINER_H
#define VITC_TOOLS_TRAINER_H

#include "vitc_runtime.h"

#include <string>

namespace vitc::train {

/// Trains `model`, the artifact named on the command line (`argv` are
/// vitc-run's arguments); takes ownership of the model. Returns the exit
/// status; errors exit with status 1.
int runTrainer(vitc_model *model, int argc, char **argv);

/// Prints "vitc-run: error: <message>" and exits with status 1.
[[noreturn]] void fatal(const std::string &message);
/// Prints "vitc-run: warning: <message>" to stderr.
void warn(const std::string &message);

} // namespace vitc::train

#endif // VITC_TOOLS_TRAINER_H
