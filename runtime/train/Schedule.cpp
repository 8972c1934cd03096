//===- Schedule.cpp - learning-rate schedules for the trainer -------------===//
#include "Schedule.h"

#include <algorithm>
#include <cmath>

namespace vitc::train {

bool parseScheduleKind(const std::string &text, ScheduleKind &kind) {
  if (text == "constant")
    kind = ScheduleKind::Constant;
  else if (text == "step")
    kind = ScheduleKind::Step;
  else if (text == "cosine")
    kind = ScheduleKind::Cosine;
  else
    return false;
  return true;
}

const char *scheduleKindName(ScheduleKind kind) {
  switch (kind) {
  case ScheduleKind::Constant:
    return "constant";
  case ScheduleKind::Step:
    return "step";
  case ScheduleKind::Cosine:
    return "cosine";
  }
  return "?";
}

double learningRate(const Schedule &s, int64_t step) {
  int64_t done = std::max<int64_t>(step, 1) - 1;
  if (done < s.warmupSteps)
    return s.baseLr * static_cast<double>(done + 1) / s.warmupSteps;
  switch (s.kind) {
  case ScheduleKind::Constant:
    return s.baseLr;
  case ScheduleKind::Step: {
    int64_t epoch = done / std::max<int64_t>(s.stepsPerEpoch, 1);
    return s.baseLr *
           std::pow(s.gamma, epoch / std::max<int64_t>(s.stepSizeEpochs, 1));
  }
  case ScheduleKind::Cosine: {
    int64_t span = std::max<int64_t>(s.totalSteps - s.warmupSteps, 1);
    double progress =
        std::min(1.0, static_cast<double>(done - s.warmupSteps) / span);
    return s.minLr +
           (s.baseLr - s.minLr) * (1 + std::cos(M_PI * progress)) / 2;
  }
  }
  return s.baseLr;
}

} // namespace vitc::train
