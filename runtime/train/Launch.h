//===- Launch.h - how the trainer's process was started ----------*- C++ -*-===//
#ifndef VITC_RUNTIME_TRAIN_LAUNCH_H
#define VITC_RUNTIME_TRAIN_LAUNCH_H

#include "vitc/runtime/Status.h"

namespace vitc::train {

/// An error when a job launcher (mpirun or mpiexec, srun with PMI or PMIx)
/// started this process as one of several ranks: the trainer runs one
/// process only so far, and several copies would each train alone and
/// write the same checkpoints and metrics. The message names the rank.
rt::Status checkSingleProcessLaunch();

} // namespace vitc::train

#endif // VITC_RUNTIME_TRAIN_LAUNCH_H
