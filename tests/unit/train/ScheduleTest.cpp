//===- ScheduleTest.cpp - learning-rate schedules against their formulas --===//
//
// Each expected value is written out from the schedule's definition
// (PyTorch's LinearLR warm-up, StepLR, CosineAnnealingLR), independently of
// Schedule.cpp's code.
//
//===----------------------------------------------------------------------===//
#include "Schedule.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace vitc::train;

TEST(Schedule, ParsesKinds) {
  ScheduleKind kind;
  EXPECT_TRUE(parseScheduleKind("cosine", kind));
  EXPECT_EQ(kind, ScheduleKind::Cosine);
  EXPECT_TRUE(parseScheduleKind("step", kind));
  EXPECT_EQ(kind, ScheduleKind::Step);
  EXPECT_TRUE(parseScheduleKind("constant", kind));
  EXPECT_EQ(kind, ScheduleKind::Constant);
  EXPECT_FALSE(parseScheduleKind("linear", kind));
}

TEST(Schedule, Constant) {
  Schedule s;
  s.baseLr = 0.05;
  for (int64_t step : {1, 2, 1000})
    EXPECT_DOUBLE_EQ(learningRate(s, step), 0.05);
}

TEST(Schedule, StepDecaysEveryStepSizeEpochs) {
  Schedule s;
  s.kind = ScheduleKind::Step;
  s.baseLr = 0.1;
  s.gamma = 0.5;
  s.stepSizeEpochs = 2;
  s.stepsPerEpoch = 10;
  // Steps 1..20 are epochs 0-1, 21..40 epochs 2-3, 41.. epoch 4.
  EXPECT_DOUBLE_EQ(learningRate(s, 1), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(s, 20), 0.1);
  EXPECT_DOUBLE_EQ(learningRate(s, 21), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(s, 40), 0.05);
  EXPECT_DOUBLE_EQ(learningRate(s, 41), 0.025);
}

TEST(Schedule, CosineWithoutWarmup) {
  Schedule s;
  s.kind = ScheduleKind::Cosine;
  s.baseLr = 1e-3;
  s.minLr = 1e-5;
  s.totalSteps = 100;
  for (int64_t step = 1; step <= 100; ++step) {
    double t = step - 1; // CosineAnnealingLR's epoch counter
    double expected = 1e-5 + (1e-3 - 1e-5) * (1 + std::cos(M_PI * t / 100)) / 2;
    EXPECT_NEAR(learningRate(s, step), expected, 1e-15) << "step " << step;
  }
  EXPECT_DOUBLE_EQ(learningRate(s, 1), 1e-3);
}

TEST(Schedule, CosineWithWarmup) {
  Schedule s;
  s.kind = ScheduleKind::Cosine;
  s.baseLr = 0.2;
  s.warmupSteps = 5;
  s.totalSteps = 25;
  // Warm-up: 0.2 * k / 5 for steps k = 1..5.
  EXPECT_DOUBLE_EQ(learningRate(s, 1), 0.04);
  EXPECT_DOUBLE_EQ(learningRate(s, 3), 0.12);
  EXPECT_DOUBLE_EQ(learningRate(s, 5), 0.2);
  // Then cosine over the remaining 20 steps, from the full rate.
  EXPECT_DOUBLE_EQ(learningRate(s, 6), 0.2);
  EXPECT_NEAR(learningRate(s, 16), 0.1, 1e-15);
  EXPECT_NEAR(learningRate(s, 25), 0.2 * (1 + std::cos(M_PI * 19 / 20)) / 2, 1e-15);
  // Past the end (--epochs grew on resume): stays at the minimum.
  EXPECT_NEAR(learningRate(s, 40), 0.0, 1e-15);
}

TEST(Schedule, WarmupAppliesToStep) {
  Schedule s;
  s.kind = ScheduleKind::Step;
  s.baseLr = 1.0;
  s.gamma = 0.1;
  s.stepsPerEpoch = 4;
  s.warmupSteps = 2;
  EXPECT_DOUBLE_EQ(learningRate(s, 1), 0.5);
  EXPECT_DOUBLE_EQ(learningRate(s, 2), 1.0);
  EXPECT_DOUBLE_EQ(learningRate(s, 4), 1.0);
  EXPECT_NEAR(learningRate(s, 5), 0.1, 1e-15);
}
