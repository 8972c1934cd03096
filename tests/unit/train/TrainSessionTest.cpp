//===- TrainSessionTest.cpp - training steps in sessions, allocations -===//
//
//   vitc-train-session-tests VITC ELEMENTWISE.onnxtext CNN_BN.onnx
//
// Compiles both models for training with the given vitc, then checks that
// TrainState runs its steps in sessions: bit for bit what
// vitc_model_run_function gives (the steps' previous path, kept for the
// artifacts no session serves), at several batch sizes and back, with the
// carried tensors moving between their two buffers; a failed step and a
// restore leave a state that goes on correctly; and a warm step allocates
// nothing (counted: tests/unit/runtime/AllocationCounter.h, off under
// sanitizers). The elementwise model has no library kernels, so its warm
// steps must allocate nothing at all in the process; cnn_bn's oneDNN
// kernels (convolutions) keep some small bookkeeping allocations of their
// own, counted apart and bounded.
//
//===----------------------------------------------------------------------===//
#include "AllocationCounter.h"

#include "TrainState.h"
#include "vitc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace vitc;
using train::BatchView;
using train::StepResult;
using train::TrainState;

namespace {

std::string vitcTool, elementwiseModel, cnnModel;
std::string elementwisePath, cnnPath; // the compiled artifacts

std::string compile(const std::string &model, const std::string &name) {
  std::string out = (std::filesystem::temp_directory_path() /
                     ("vitc-train-session-test-" + std::to_string(::getpid()) +
                      "-" + name))
                        .string();
  std::string command = "'" + vitcTool + "' '" + model +
                        "' --mode train --optimizer adamw -o '" + out + "'";
  if (std::system(command.c_str()) != 0)
    return "";
  return out;
}

struct ModelDeleter {
  void operator()(vitc_model *model) const { vitc_model_free(model); }
};
using ModelPtr = std::unique_ptr<vitc_model, ModelDeleter>;

/// A batch of `size` images of `chw` elements and labels below `classes`,
/// different for each `phase`.
struct Batch {
  Batch(int64_t size, int64_t chw, int64_t classes, int phase)
      : images(size * chw), labels(size) {
    for (size_t i = 0; i < images.size(); ++i)
      images[i] = std::sin(0.37f * static_cast<float>(i) + phase);
    for (int64_t i = 0; i < size; ++i)
      labels[i] = (i * 7 + phase) % classes;
  }
  BatchView view() const {
    return {static_cast<int64_t>(labels.size()), images.data(), labels.data()};
  }
  std::vector<float> images;
  std::vector<int64_t> labels;
};

/// Every carried tensor's bytes, by name.
std::map<std::string, std::vector<char>> carried(const TrainState &state) {
  std::map<std::string, std::vector<char>> bytes;
  for (const train::CheckpointTensor &t : state.checkpointTensors())
    bytes[t.name].assign(t.data, t.data + t.bytes);
  return bytes;
}

/// The steps as TrainState ran them before sessions: vitc_model_run_function
/// on the carried tensors, each output that updates one replacing it.
class Reference {
public:
  explicit Reference(vitc_model *model) : model_(model) {
    trainStep_ = vitc_model_find_function(model, "train_step");
    evalStep_ = vitc_model_find_function(model, "eval_step");
    for (int32_t i = 0; i < vitc_model_function_num_inputs(model, trainStep_);
         ++i) {
      vitc_tensor_info in{};
      vitc_model_function_input_info(model, trainStep_, i, &in);
      std::string role = in.role;
      if (role != "param" && role != "buffer" && role != "opt_state")
        continue;
      Tensor &t = state_[in.name];
      t.dtype = in.dtype;
      t.shape.assign(in.shape, in.shape + in.rank);
      size_t bytes = vitc_dtype_size(in.dtype);
      for (int64_t d : t.shape)
        bytes *= d;
      t.bytes.assign(bytes, 0);
      vitc_tensor view{};
      if (role != "opt_state" &&
          vitc_model_initial_value(model, in.name, &view) == 0)
        std::memcpy(t.bytes.data(), view.data, bytes);
    }
  }

  StepResult run(bool train, const BatchView &batch, float lr, float step) {
    int32_t fn = train ? trainStep_ : evalStep_;
    std::vector<vitc_tensor> inputs(vitc_model_function_num_inputs(model_, fn));
    for (size_t i = 0; i < inputs.size(); ++i) {
      vitc_tensor_info in{};
      vitc_model_function_input_info(model_, fn, static_cast<int32_t>(i), &in);
      std::string role = in.role;
      vitc_tensor &t = inputs[i];
      t.dtype = in.dtype;
      if (role == "data") {
        t.rank = 4;
        t.shape[0] = batch.size;
        std::copy(in.shape + 1, in.shape + 4, t.shape + 1);
        t.data = const_cast<float *>(batch.images);
      } else if (role == "label") {
        t.rank = 1;
        t.shape[0] = batch.size;
        t.data = const_cast<int64_t *>(batch.labels);
      } else if (role == "lr") {
        t.data = &lr;
      } else if (role == "step") {
        t.data = &step;
      } else {
        Tensor &c = state_.at(in.name);
        t.rank = static_cast<int32_t>(c.shape.size());
        std::copy(c.shape.begin(), c.shape.end(), t.shape);
        t.data = c.bytes.data();
      }
    }
    std::vector<vitc_tensor> outputs(
        vitc_model_function_num_outputs(model_, fn));
    EXPECT_EQ(vitc_model_run_function(model_, fn, inputs.data(),
                                      static_cast<int32_t>(inputs.size()),
                                      outputs.data(),
                                      static_cast<int32_t>(outputs.size())),
              0)
        << vitc_last_error();
    StepResult result;
    for (size_t j = 0; j < outputs.size(); ++j) {
      vitc_tensor_info out{};
      vitc_model_function_output_info(model_, fn, static_cast<int32_t>(j),
                                      &out);
      std::string role = out.role;
      if (role == "loss")
        result.loss = *static_cast<const float *>(outputs[j].data);
      else if (role == "correct")
        result.correct = *static_cast<const int64_t *>(outputs[j].data);
      if (*out.updates) {
        std::vector<char> &bytes = state_.at(out.updates).bytes;
        std::memcpy(bytes.data(), outputs[j].data, bytes.size());
      }
      vitc_tensor_free(&outputs[j]);
    }
    return result;
  }

  std::map<std::string, std::vector<char>> carried() const {
    std::map<std::string, std::vector<char>> bytes;
    for (const auto &[name, t] : state_)
      bytes[name] = t.bytes;
    return bytes;
  }

private:
  struct Tensor {
    vitc_dtype dtype{};
    std::vector<int64_t> shape;
    std::vector<char> bytes;
  };
  vitc_model *model_;
  int32_t trainStep_ = -1, evalStep_ = -1;
  std::map<std::string, Tensor> state_;
};

class TrainSessionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // One thread: results bit for bit comparable between the two paths.
    vitc_set_num_threads(1);
    if (elementwisePath.empty())
      elementwisePath = compile(elementwiseModel, "elementwise.vtc");
    if (cnnPath.empty())
      cnnPath = compile(cnnModel, "cnn_bn.vtc");
  }
  void SetUp() override {
    ASSERT_FALSE(elementwisePath.empty()) << "cannot compile "
                                          << elementwiseModel;
    ASSERT_FALSE(cnnPath.empty()) << "cannot compile " << cnnModel;
  }
  static ModelPtr load(const std::string &path) {
    ModelPtr model(vitc_model_load(path.c_str()));
    EXPECT_TRUE(model) << vitc_last_error();
    return model;
  }
  static std::unique_ptr<TrainState> start(vitc_model *model,
                                           const std::string &path) {
    auto state = TrainState::create(model, path);
    EXPECT_TRUE(state.isOk()) << state.status().message();
    if (!state.isOk())
      return nullptr;
    EXPECT_TRUE((*state)->runsInSessions());
    return std::move(*state);
  }
  static int64_t chw(const TrainState &state) {
    return state.channels() * state.height() * state.width();
  }
};

/// Train and eval steps at batch sizes 8 and 3 (an epoch's smaller last
/// batch) and back, against the reference, bit for bit.
void expectStepsMatchReference(vitc_model *model, TrainState &state,
                               int rounds) {
  Reference reference(model);
  int64_t classes = state.info().num_classes;
  int64_t step = 0;
  for (int round = 0; round < rounds; ++round)
    for (int64_t size : {8, 8, 3}) {
      Batch batch(size, state.height() * state.width() * state.channels(),
                  classes, static_cast<int>(step));
      ++step;
      auto got = state.train(batch.view(), 1e-2f, step, 0);
      ASSERT_TRUE(got.isOk()) << got.status().message();
      StepResult want =
          reference.run(true, batch.view(), 1e-2f, static_cast<float>(step));
      EXPECT_EQ(got->loss, want.loss) << "step " << step;
      EXPECT_EQ(got->correct, want.correct) << "step " << step;
      EXPECT_TRUE(carried(state) == reference.carried()) << "step " << step;
      auto evaluated = state.eval(batch.view());
      ASSERT_TRUE(evaluated.isOk()) << evaluated.status().message();
      StepResult wantEval = reference.run(false, batch.view(), 0, 0);
      EXPECT_EQ(evaluated->loss, wantEval.loss) << "eval after " << step;
      EXPECT_EQ(evaluated->correct, wantEval.correct) << "eval after " << step;
    }
}

TEST_F(TrainSessionTest, StepsMatchVitcModelRunFunction) {
  for (const std::string *path : {&elementwisePath, &cnnPath}) {
    SCOPED_TRACE(*path);
    ModelPtr model = load(*path);
    std::unique_ptr<TrainState> state = start(model.get(), *path);
    ASSERT_TRUE(state);
    expectStepsMatchReference(model.get(), *state, 2);
  }
}

TEST_F(TrainSessionTest, FailedStepLeavesTheStateIntact) {
  ModelPtr model = load(cnnPath);
  std::unique_ptr<TrainState> state = start(model.get(), cnnPath);
  ASSERT_TRUE(state);
  Reference reference(model.get());
  Batch batch(4, chw(*state), 10, 1);
  for (int64_t step = 1; step <= 3; ++step) {
    if (step == 2) { // a batch without images: refused, nothing written
      BatchView bad = batch.view();
      bad.images = nullptr;
      auto failed = state->train(bad, 1e-2f, step, 0);
      ASSERT_FALSE(failed.isOk());
      EXPECT_EQ(failed.status().message(),
                "train_step: input 'input': data is NULL");
      EXPECT_TRUE(carried(*state) == reference.carried());
    }
    ASSERT_TRUE(state->train(batch.view(), 1e-2f, step, 0).isOk());
    reference.run(true, batch.view(), 1e-2f, static_cast<float>(step));
    EXPECT_TRUE(carried(*state) == reference.carried()) << "step " << step;
  }
}

TEST_F(TrainSessionTest, RestoredStateGoesOnInSessions) {
  ModelPtr model = load(cnnPath);
  std::unique_ptr<TrainState> trained = start(model.get(), cnnPath);
  std::unique_ptr<TrainState> fresh = start(model.get(), cnnPath);
  ASSERT_TRUE(trained && fresh);
  Batch batch(6, chw(*trained), 10, 2);
  for (int64_t step = 1; step <= 3; ++step)
    ASSERT_TRUE(trained->train(batch.view(), 1e-2f, step, 0).isOk());
  // A checkpoint of the state in its step buffers, restored into a fresh
  // state (its initial values) and into itself (mid-way through the
  // buffers' turns): both go on as one.
  train::Checkpoint checkpoint;
  checkpoint.identity = trained->identity();
  checkpoint.tensors = trained->checkpointTensors();
  std::map<std::string, std::vector<char>> saved = carried(*trained);
  std::vector<std::vector<char>> copies;
  for (train::CheckpointTensor &t : checkpoint.tensors) {
    copies.emplace_back(t.data, t.data + t.bytes);
    t.data = copies.back().data();
  }
  ASSERT_TRUE(fresh->restore(checkpoint, "memory").isOk());
  ASSERT_TRUE(trained->restore(checkpoint, "memory").isOk());
  EXPECT_TRUE(carried(*fresh) == saved);
  EXPECT_TRUE(carried(*trained) == saved);
  for (int64_t step = 4; step <= 6; ++step) {
    auto a = trained->train(batch.view(), 1e-2f, step, 0);
    auto b = fresh->train(batch.view(), 1e-2f, step, 0);
    ASSERT_TRUE(a.isOk() && b.isOk());
    EXPECT_EQ(a->loss, b->loss) << "step " << step;
    EXPECT_TRUE(carried(*trained) == carried(*fresh)) << "step " << step;
  }
  EXPECT_FALSE(carried(*trained) == saved);
}

/// Warms `state` up at batch sizes 16 and 5 (train and eval), then counts
/// the allocations of `rounds` rounds of those steps.
test::Allocations countWarmSteps(TrainState &state, int rounds,
                                 int64_t &steps) {
  int64_t classes = state.info().num_classes,
          chw = state.channels() * state.height() * state.width();
  Batch full(16, chw, classes, 1), last(5, chw, classes, 2);
  int64_t step = 0;
  auto round = [&] {
    for (const Batch *batch : {&full, &last}) {
      auto trained = state.train(batch->view(), 1e-3f, ++step, 0);
      auto evaluated = state.eval(batch->view());
      if (!trained.isOk() || !evaluated.isOk())
        return false;
    }
    return true;
  };
  // Two rounds: the first records each shape, the second the first replays
  // (and the step buffers' second turn).
  for (int warm = 0; warm < 2; ++warm)
    EXPECT_TRUE(round());
  test::startCounting();
  bool ok = true;
  for (int r = 0; r < rounds; ++r)
    ok &= round();
  test::Allocations counted = test::stopCounting();
  EXPECT_TRUE(ok);
  steps = 4 * rounds;
  return counted;
}

TEST_F(TrainSessionTest, WarmStepsAllocateNothing) {
  if (!test::countingAvailable())
    GTEST_SKIP() << "allocations are not counted under a sanitizer";
  ModelPtr model = load(elementwisePath);
  std::unique_ptr<TrainState> state = start(model.get(), elementwisePath);
  ASSERT_TRUE(state);
  int64_t steps = 0;
  test::Allocations counted = countWarmSteps(*state, 10, steps);
  EXPECT_EQ(counted.count, 0) << counted.bytes << " bytes in " << counted.count
                              << " allocations (largest " << counted.largest
                              << ") in " << steps << " steps";
  // What sessions replace: the same step by vitc_model_run_function
  // allocates every time.
  Reference reference(model.get());
  Batch batch(16, chw(*state), state->info().num_classes, 3);
  reference.run(true, batch.view(), 1e-3f, 1);
  test::startCounting();
  reference.run(true, batch.view(), 1e-3f, 2);
  test::Allocations modelRun = test::stopCounting();
  EXPECT_GT(modelRun.count, 0);
  std::printf("elementwise model, batches 16 and 5: %lld allocations in %lld "
              "warm steps in sessions; one step by vitc_model_run_function "
              "(and the test's bookkeeping): %lld allocations, %lld bytes\n",
              static_cast<long long>(counted.count),
              static_cast<long long>(steps),
              static_cast<long long>(modelRun.count),
              static_cast<long long>(modelRun.bytes));
}

TEST_F(TrainSessionTest, WarmStepsOfOneDnnModelAllocateOnlyKernelBookkeeping) {
  if (!test::countingAvailable())
    GTEST_SKIP() << "allocations are not counted under a sanitizer";
  ModelPtr model = load(cnnPath);
  std::unique_ptr<TrainState> state = start(model.get(), cnnPath);
  ASSERT_TRUE(state);
  int64_t steps = 0;
  test::Allocations counted = countWarmSteps(*state, 5, steps);
  // oneDNN's kernels (runtime/devices/cpu) build small objects per call
  // (primitive cache keys, memory objects, argument maps): none the size of
  // an activation or a weight, which the arena and the step buffers hold.
  std::printf("cnn_bn, batches 16 and 5: %lld allocations, %lld bytes, "
              "largest %lld in %lld warm steps (oneDNN kernels' "
              "bookkeeping)\n",
              static_cast<long long>(counted.count),
              static_cast<long long>(counted.bytes),
              static_cast<long long>(counted.largest),
              static_cast<long long>(steps));
  EXPECT_LT(counted.largest, 4096);
  EXPECT_LT(counted.bytes / steps, 64 * 1024);
}

TEST_F(TrainSessionTest, RecordingKeepsLargeBlocksOutOfMallocsHeap) {
  if (!test::countingAvailable())
    GTEST_SKIP() << "allocations are not counted under a sanitizer";
  // A first step at a shape records: the code's allocations are served off
  // plan. The large ones must be mapped (and unmapped), not malloc'ed, and
  // so must the arena: glibc would keep them as a hole in its heap that
  // later steps' small allocations make resident again, growing the process
  // each step. The elementwise model (no library kernels with caches of
  // their own) at batch 8192: its activations are 256 KiB each.
  ModelPtr model = load(elementwisePath);
  std::unique_ptr<TrainState> state = start(model.get(), elementwisePath);
  ASSERT_TRUE(state);
  Batch batch(8192, chw(*state), state->info().num_classes, 4);
  test::startCounting();
  auto recorded = state->train(batch.view(), 1e-3f, 1, 0);
  test::Allocations counted = test::stopCounting();
  ASSERT_TRUE(recorded.isOk()) << recorded.status().message();
  std::printf("elementwise model batch 8192, the recording step: %lld "
              "mallocs, largest %lld bytes\n",
              static_cast<long long>(counted.count),
              static_cast<long long>(counted.largest));
  EXPECT_LT(counted.largest, 128 * 1024);
  EXPECT_GT(counted.count, 0); // the small ones, and the plan's bookkeeping
  ASSERT_TRUE(state->train(batch.view(), 1e-3f, 2, 0).isOk());
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s VITC ELEMENTWISE.onnxtext CNN_BN.onnx\n",
                 argv[0]);
    return 2;
  }
  vitcTool = argv[1];
  elementwiseModel = argv[2];
  cnnModel = argv[3];
  int status = RUN_ALL_TESTS();
  std::filesystem::remove(elementwisePath);
  std::filesystem::remove(cnnPath);
  return status;
}
