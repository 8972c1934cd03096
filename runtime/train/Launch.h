//===- Launch.h - how the trainer's process was started ----------*- C++ -*-===//
#ifndef VITC_RUNTIME_TRAIN_LAUNCH_H
#define VITC_RUNTIME_TRAIN_LAUNCH_H

namespace vitc::train {

/// What the launcher that started this process says of it, before MPI is
/// asked: Open MPI's mpirun, MPICH's Hydra (mpiexec) and Slurm's srun set
/// the job's size and this process's rank in the environment. Without a
/// launcher: rank 0 of 1, variable null.
struct Launch {
  int rank = 0, size = 1;
  const char *variable = nullptr; // where the size came from
};
Launch detectLaunch();

} // namespace vitc::train

#endif // VITC_RUNTIME_TRAIN_LAUNCH_H
