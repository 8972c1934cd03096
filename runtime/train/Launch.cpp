//===- Launch.cpp - how the trainer's process was started -----------------===//
#include "Launch.h"

#include <cstdlib>
#include <string>

namespace vitc::train {

namespace {

/// The value of environment variable `name` as a number, or -1.
long envNumber(const char *name) {
  const char *text = std::getenv(name);
  if (!text || !*text)
    return -1;
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  return *end ? -1 : value;
}

} // namespace

rt::Status checkSingleProcessLaunch() {
  // What Open MPI's mpirun, MPICH's Hydra and Slurm's srun (PMIx) set.
  struct Launcher {
    const char *size, *rank;
  };
  for (Launcher l : {Launcher{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
                     Launcher{"PMI_SIZE", "PMI_RANK"},
                     Launcher{"SLURM_STEP_NUM_TASKS", "SLURM_PROCID"}}) {
    long size = envNumber(l.size), rank = envNumber(l.rank);
    if (size > 1)
      return rt::Status::error(
          "rank " + std::to_string(rank) + " of " + std::to_string(size) +
          " (" + l.size + "): training across ranks is not available yet: "
          "run one process (an artifact compiled with --shard ddp trains "
          "there as a world of one)");
  }
  return rt::Status::ok();
}

} // namespace vitc::train
