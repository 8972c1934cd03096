//===- TrainCommand.h - `vitc-run TRAIN.vtc` from the command line --------===//
//
// Parses the training flags (TrainOptions.h), trains through libvitc_train's
// C API (vitc_train.h) and does what only a command line does: the log
// lines and progress bar (Progress.h), the PNG plot (Plot.h), the ONNX
// export (OnnxExport.h), and error messages with exit status 1.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUN_TRAINCOMMAND_H
#define VITC_RUN_TRAINCOMMAND_H

#include "vitc_runtime.h"

namespace vitc::run {

/// Trains `model`, the artifact named on the command line (`argv` are
/// vitc-run's arguments); takes ownership of the model. Returns the exit
/// status; errors exit with status 1.
int runTrainer(vitc_model *model, int argc, char **argv);

} // namespace vitc::run

#endif // VITC_RUN_TRAINCOMMAND_H
