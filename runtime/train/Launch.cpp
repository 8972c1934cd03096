//===- Launch.cpp - how the trainer's process was started -----------------===//
#include "Launch.h"

#include <cstdlib>
#include <initializer_list>

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

Launch detectLaunch() {
  struct Variables {
    const char *size, *rank;
  };
  for (Variables v :
       {Variables{"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK"},
        Variables{"PMI_SIZE", "PMI_RANK"},
        Variables{"SLURM_STEP_NUM_TASKS", "SLURM_PROCID"}}) {
    long size = envNumber(v.size), rank = envNumber(v.rank);
    if (size >= 1 && rank >= 0 && rank < size)
      return {static_cast<int>(rank), static_cast<int>(size), v.size};
  }
  return {};
}

} // namespace vitc::train
