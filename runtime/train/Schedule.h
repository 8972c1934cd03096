//===- Schedule.h - learning-rate schedules for the trainer ---------------===//
//
// The learning rate is an input of every train_step call, so schedules are
// computed on the host, one value per optimizer step. Steps are 1-based (the
// same count the step function receives): step 1 is the first update.
//
// Warm-up (any schedule): for the first W steps lr = base * s / W, reaching
// the base rate at step W (PyTorch's LinearLR with start_factor 1/W). After
// warm-up, with t = s - 1 the number of updates already done:
//   constant  lr = base
//   step      lr = base * gamma ^ floor(epoch / stepSize), epoch = t / stepsPerEpoch
//   cosine    lr = min + (base - min) * (1 + cos(pi * (t - W) / (T - W))) / 2
//             (PyTorch's CosineAnnealingLR over the T - W post-warm-up steps,
//             T = total steps of the run)
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_SCHEDULE_H
#define VITC_TRAIN_SCHEDULE_H

#include <cstdint>
#include <string>

namespace vitc::train {

enum class ScheduleKind { Constant, Step, Cosine };

struct Schedule {
  ScheduleKind kind = ScheduleKind::Constant;
  double baseLr = 1e-3;
  /// cosine: the rate at the end of the run.
  double minLr = 0;
  /// step: decay every `stepSizeEpochs` epochs by `gamma`.
  int64_t stepSizeEpochs = 1;
  double gamma = 0.1;
  int64_t warmupSteps = 0;
  int64_t stepsPerEpoch = 1;
  /// cosine: steps of the whole run (all epochs, or --max-steps).
  int64_t totalSteps = 1;
};

/// Parses "constant", "step" or "cosine"; false for anything else.
bool parseScheduleKind(const std::string &text, ScheduleKind &kind);
const char *scheduleKindName(ScheduleKind kind);

/// The learning rate of 1-based optimizer step `step`.
double learningRate(const Schedule &schedule, int64_t step);

} // namespace vitc::train

#endif // VITC_TRAIN_SCHEDULE_H
