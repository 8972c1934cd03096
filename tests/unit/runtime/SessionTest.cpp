//===- SessionTest.cpp - sessions, loading from memory, versions ----------===//
//
//   vitc-session-tests VITC MNIST.onnx SESSION_MLP.onnxtext
//
// Compiles the two models with the given vitc once, then checks sessions
// against vitc_model_run: reuse across batch sizes, no allocation once a
// shape is warm (counted: AllocationCounter.h), results in caller memory,
// loading from memory, a wrong format version refused, and every error with
// its message. session_mlp has no library kernels, so a warm run must
// allocate nothing at all in the process; mnist_cnn's oneDNN kernels keep
// some bookkeeping allocations of their own, counted separately.
//
//===----------------------------------------------------------------------===//
#include "AllocationCounter.h"

#include "vitc/runtime/ArtifactFormat.h"
#include "vitc/runtime/BoundSession.h"
#include "vitc_runtime.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

using namespace vitc;

namespace {

std::string vitcTool, mnistModel, mlpModel;
std::string mnistPath, mlpPath; // the compiled artifacts

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string compile(const std::string &model, const std::string &name) {
  std::string out = (std::filesystem::temp_directory_path() /
                     ("vitc-session-test-" + std::to_string(::getpid()) + "-" +
                      name))
                        .string();
  std::string command = "'" + vitcTool + "' '" + model + "' -o '" + out + "'";
  if (std::system(command.c_str()) != 0)
    return "";
  return out;
}

struct ModelDeleter {
  void operator()(vitc_model *model) const { vitc_model_free(model); }
};
struct SessionDeleter {
  void operator()(vitc_session *session) const { vitc_session_free(session); }
};
using ModelPtr = std::unique_ptr<vitc_model, ModelDeleter>;
using SessionPtr = std::unique_ptr<vitc_session, SessionDeleter>;

/// Memory from aligned_alloc(64), freed with the object.
struct Aligned {
  explicit Aligned(size_t bytes)
      : data(static_cast<float *>(
            std::aligned_alloc(64, (bytes + 63) / 64 * 64))) {}
  ~Aligned() { std::free(data); }
  float *data;
};

vitc_tensor tensor(vitc_dtype dtype, std::vector<int64_t> shape, void *data) {
  vitc_tensor t{};
  t.dtype = dtype;
  t.rank = static_cast<int32_t>(shape.size());
  for (size_t d = 0; d < shape.size(); ++d)
    t.shape[d] = shape[d];
  t.data = data;
  return t;
}

std::vector<float> pattern(size_t n, float phase) {
  std::vector<float> values(n);
  for (size_t i = 0; i < n; ++i)
    values[i] = std::sin(0.37f * static_cast<float>(i) + phase);
  return values;
}

/// Output `index` of vitc_model_run on one input: the reference.
std::vector<float> reference(vitc_model *model, const vitc_tensor &input,
                             int32_t index) {
  int32_t count = vitc_model_num_outputs(model);
  std::vector<vitc_tensor> outputs(count);
  EXPECT_EQ(vitc_model_run(model, &input, 1, outputs.data(), count), 0)
      << vitc_last_error();
  const vitc_tensor &out = outputs[index];
  int64_t n = 1;
  for (int32_t d = 0; d < out.rank; ++d)
    n *= out.shape[d];
  auto *data = static_cast<const float *>(out.data);
  std::vector<float> values(data, data + n);
  for (vitc_tensor &t : outputs)
    vitc_tensor_free(&t);
  return values;
}

std::vector<float> sessionOutput(vitc_session *session, int32_t index) {
  vitc_tensor out{};
  EXPECT_EQ(vitc_session_output(session, index, &out), 0) << vitc_last_error();
  int64_t n = 1;
  for (int32_t d = 0; d < out.rank; ++d)
    n *= out.shape[d];
  auto *data = static_cast<const float *>(out.data);
  return std::vector<float>(data, data + n);
}

/// vitc_last_error() contains `text`.
::testing::AssertionResult errorHas(const std::string &text) {
  std::string error = vitc_last_error();
  if (error.find(text) != std::string::npos)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "error '" << error << "' lacks '" << text << "'";
}

class SessionTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (mnistPath.empty())
      mnistPath = compile(mnistModel, "mnist.vtc");
    if (mlpPath.empty())
      mlpPath = compile(mlpModel, "mlp.vtc");
  }
  void SetUp() override {
    ASSERT_FALSE(mnistPath.empty()) << "cannot compile " << mnistModel;
    ASSERT_FALSE(mlpPath.empty()) << "cannot compile " << mlpModel;
  }
  static ModelPtr load(const std::string &path) {
    ModelPtr model(vitc_model_load(path.c_str()));
    EXPECT_TRUE(model) << vitc_last_error();
    return model;
  }
};

//===----------------------------------------------------------------------===//
// Versions
//===----------------------------------------------------------------------===//

TEST(Version, HeaderLibraryAndProjectAgree) {
  EXPECT_EQ(vitc_runtime_version(), VITC_RUNTIME_VERSION);
  EXPECT_STREQ(vitc_runtime_version_string(), VITC_RUNTIME_VERSION_STRING);
  // The CMake project's version (passed in by tests/unit/runtime).
  EXPECT_STREQ(VITC_RUNTIME_VERSION_STRING, VITC_PROJECT_VERSION);
  std::string parts = std::to_string(VITC_RUNTIME_VERSION_MAJOR) + "." +
                      std::to_string(VITC_RUNTIME_VERSION_MINOR) + "." +
                      std::to_string(VITC_RUNTIME_VERSION_PATCH);
  EXPECT_EQ(parts, VITC_PROJECT_VERSION);
  EXPECT_EQ(VITC_RUNTIME_VERSION,
            VITC_RUNTIME_VERSION_MAJOR * 1000000 +
                VITC_RUNTIME_VERSION_MINOR * 1000 + VITC_RUNTIME_VERSION_PATCH);
  EXPECT_EQ(vitc_runtime_artifact_format(),
            static_cast<int32_t>(artifact::kFormatVersion));
}

TEST_F(SessionTest, RefusesAnotherFormatVersion) {
  std::string bytes = readFile(mlpPath);
  uint32_t other = artifact::kFormatVersion + 1;
  std::memcpy(&bytes[offsetof(artifact::FileHeader, formatVersion)], &other,
              sizeof(other));
  std::string path = mlpPath + ".v" + std::to_string(other);
  std::ofstream(path, std::ios::binary) << bytes;
  std::string expected = "has artifact format version " +
                         std::to_string(other) +
                         ", but this runtime reads version " +
                         std::to_string(artifact::kFormatVersion) +
                         " (recompile the model with a matching vitc); "
                         "this is vitc runtime " VITC_RUNTIME_VERSION_STRING;
  EXPECT_EQ(vitc_model_load(path.c_str()), nullptr);
  EXPECT_TRUE(errorHas("'" + path + "' " + expected));
  std::filesystem::remove(path);
  EXPECT_EQ(vitc_model_load_from_memory(bytes.data(), bytes.size(), nullptr),
            nullptr);
  EXPECT_TRUE(errorHas("'<memory>' " + expected));
}

//===----------------------------------------------------------------------===//
// Loading from memory
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, LoadsFromMemoryAlignedOrNot) {
  std::string bytes = readFile(mnistPath);
  ModelPtr fromFile = load(mnistPath);
  std::vector<float> x = pattern(2 * 28 * 28, 0.5f);
  vitc_tensor input = tensor(VITC_DTYPE_F32, {2, 1, 28, 28}, x.data());
  std::vector<float> expected = reference(fromFile.get(), input, 0);
  // In place (64-byte aligned), and copied (one byte off).
  Aligned aligned(bytes.size() + 64);
  for (size_t shift : {size_t(0), size_t(1)}) {
    char *data = reinterpret_cast<char *>(aligned.data) + shift;
    std::memcpy(data, bytes.data(), bytes.size());
    ModelPtr model(vitc_model_load_from_memory(data, bytes.size(), nullptr));
    ASSERT_TRUE(model) << vitc_last_error();
    EXPECT_EQ(reference(model.get(), input, 0), expected) << "shift " << shift;
    SessionPtr session(vitc_session_create(model.get(), 0, "cpu", 0));
    ASSERT_TRUE(session) << vitc_last_error();
    ASSERT_EQ(vitc_session_bind_input(session.get(), "input", &input), 0);
    ASSERT_EQ(vitc_session_run(session.get()), 0) << vitc_last_error();
    EXPECT_EQ(sessionOutput(session.get(), 0), expected);
  }
}

TEST_F(SessionTest, LoadFromMemoryErrors) {
  EXPECT_EQ(vitc_model_load_from_memory(nullptr, 10, nullptr), nullptr);
  EXPECT_TRUE(errorHas("vitc_model_load_from_memory: data is NULL"));
  std::string junk(100, 'x');
  EXPECT_EQ(vitc_model_load_from_memory(junk.data(), junk.size(), nullptr),
            nullptr);
  EXPECT_TRUE(errorHas("'<memory>' is not a vitc artifact (bad magic number)"));
  std::string bytes = readFile(mlpPath);
  EXPECT_EQ(vitc_model_load_from_memory(bytes.data(), 20, nullptr), nullptr);
  EXPECT_TRUE(errorHas("'<memory>' is truncated (incomplete header)"));
  EXPECT_EQ(vitc_model_load_from_memory(bytes.data(), bytes.size() - 1, nullptr),
            nullptr);
  EXPECT_TRUE(errorHas("'<memory>' is truncated"));
}

//===----------------------------------------------------------------------===//
// Runs
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, ReusedAcrossBatchSizesMatchesModelRun) {
  for (const std::string *path : {&mnistPath, &mlpPath}) {
    bool mnist = path == &mnistPath;
    ModelPtr model = load(*path);
    SessionPtr session(vitc_session_create(model.get(), 0, "cpu", 0));
    ASSERT_TRUE(session) << vitc_last_error();
    int64_t arena = 0;
    for (int64_t batch : {1, 4, 2, 4, 1, 2}) {
      std::vector<int64_t> shape =
          mnist ? std::vector<int64_t>{batch, 1, 28, 28}
                : std::vector<int64_t>{batch, 8};
      std::vector<float> x = pattern(product(shape), float(batch));
      vitc_tensor input = tensor(VITC_DTYPE_F32, shape, x.data());
      ASSERT_EQ(vitc_session_bind_input_at(session.get(), 0, &input), 0)
          << vitc_last_error();
      ASSERT_EQ(vitc_session_run(session.get()), 0) << vitc_last_error();
      for (int32_t j = 0; j < vitc_model_num_outputs(model.get()); ++j)
        EXPECT_EQ(sessionOutput(session.get(), j),
                  reference(model.get(), input, j))
            << *path << " batch " << batch << " output " << j;
      // The arena grows to the largest batch and stays.
      EXPECT_GE(vitc_session_arena_bytes(session.get()), arena);
      arena = vitc_session_arena_bytes(session.get());
    }
    EXPECT_GT(arena, 0);
  }
}

/// Runs `session` at each batch once (warm-up), then `rounds` times over all
/// of them, counting allocations in the second part.
test::Allocations countWarmRuns(vitc_session *session,
                                const std::vector<int64_t> &batches,
                                bool mnist, int rounds) {
  std::vector<std::vector<float>> inputs;
  std::vector<vitc_tensor> tensors;
  for (int64_t batch : batches) {
    std::vector<int64_t> shape = mnist ? std::vector<int64_t>{batch, 1, 28, 28}
                                       : std::vector<int64_t>{batch, 8};
    inputs.push_back(pattern(product(shape), float(batch)));
    tensors.push_back(tensor(VITC_DTYPE_F32, shape, inputs.back().data()));
  }
  for (const vitc_tensor &input : tensors) {
    EXPECT_EQ(vitc_session_bind_input_at(session, 0, &input), 0);
    EXPECT_EQ(vitc_session_run(session), 0) << vitc_last_error();
  }
  test::startCounting();
  for (int round = 0; round < rounds; ++round)
    for (const vitc_tensor &input : tensors) {
      vitc_session_bind_input_at(session, 0, &input);
      vitc_session_run(session);
    }
  return test::stopCounting();
}

TEST_F(SessionTest, WarmRunsAllocateNothing) {
  if (!test::countingAvailable())
    GTEST_SKIP() << "allocations are not counted under a sanitizer";
  ModelPtr model = load(mlpPath);
  SessionPtr session(vitc_session_create(model.get(), 0, "cpu", 1));
  ASSERT_TRUE(session) << vitc_last_error();
  test::Allocations counted =
      countWarmRuns(session.get(), {4, 2, 16}, /*mnist=*/false, 20);
  EXPECT_EQ(counted.count, 0) << counted.bytes << " bytes in " << counted.count
                              << " allocations (largest " << counted.largest
                              << ")";
  // vitc_model_run allocates each call (what sessions replace).
  std::vector<float> x = pattern(4 * 8, 1);
  vitc_tensor input = tensor(VITC_DTYPE_F32, {4, 8}, x.data());
  vitc_tensor outputs[2] = {};
  vitc_model_run(model.get(), &input, 1, outputs, 2);
  vitc_tensor_free(&outputs[0]);
  vitc_tensor_free(&outputs[1]);
  test::startCounting();
  vitc_model_run(model.get(), &input, 1, outputs, 2);
  test::Allocations modelRun = test::stopCounting();
  vitc_tensor_free(&outputs[0]);
  vitc_tensor_free(&outputs[1]);
  EXPECT_GT(modelRun.count, 0);
}

TEST_F(SessionTest, WarmRunsOfOneDnnModelAllocateOnlyKernelBookkeeping) {
  if (!test::countingAvailable())
    GTEST_SKIP() << "allocations are not counted under a sanitizer";
  // The compiled code's allocations all come from the arena: the call
  // followed its plan to the end.
  auto artifact = rt::Artifact::open(mnistPath);
  ASSERT_TRUE(artifact.isOk()) << artifact.status().message();
  auto device = rt::deviceForTarget("cpu");
  ASSERT_TRUE(device.isOk());
  auto loaded = rt::Session::create(*artifact, *device);
  ASSERT_TRUE(loaded.isOk()) << loaded.status().message();
  auto session = rt::BoundSession::create(std::move(*loaded), 0, "cpu", 0);
  ASSERT_TRUE(session.isOk()) << session.status().message();
  rt::BoundSession &bound = **session;
  std::vector<float> x = pattern(8 * 28 * 28, 2);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(bound.bindInput(0, rt::DType::F32, {8, 1, 28, 28}, x.data())
                    .isOk());
    ASSERT_TRUE(bound.run().isOk());
    EXPECT_EQ(bound.lastRunReplayed(), i > 0) << "run " << i;
  }
  EXPECT_EQ(bound.numPlans(), 1u);
  // oneDNN's kernels (runtime/devices/cpu) build small objects per call
  // (primitive cache keys, memory objects, argument maps): counted apart,
  // and none the size of an activation, which the arena holds.
  test::startCounting();
  ASSERT_TRUE(bound.run().isOk());
  test::Allocations counted = test::stopCounting();
  std::printf("mnist_cnn batch 8, a warm session run: %lld allocations, %lld "
              "bytes, largest %lld (oneDNN kernels' bookkeeping); arena %llu "
              "bytes\n",
              static_cast<long long>(counted.count),
              static_cast<long long>(counted.bytes),
              static_cast<long long>(counted.largest),
              static_cast<unsigned long long>(bound.arenaBytes()));
  EXPECT_LT(counted.largest, 4096);
  EXPECT_TRUE(bound.lastRunReplayed());
}

TEST_F(SessionTest, BoundOutputsReceiveResultsInPlace) {
  auto artifact = rt::Artifact::open(mlpPath);
  ASSERT_TRUE(artifact.isOk());
  auto loaded = rt::Session::create(*artifact, *rt::deviceForTarget("cpu"));
  ASSERT_TRUE(loaded.isOk());
  ModelPtr model = load(mlpPath);
  auto created = rt::BoundSession::create(std::move(*loaded), 0, "cpu", 0);
  ASSERT_TRUE(created.isOk()) << created.status().message();
  rt::BoundSession &session = **created;
  std::vector<float> x = pattern(4 * 8, 3);
  vitc_tensor input = tensor(VITC_DTYPE_F32, {4, 8}, x.data());
  ASSERT_TRUE(session.bindInput(0, rt::DType::F32, {4, 8}, x.data()).isOk());
  Aligned y(4 * 8 * sizeof(float)), s(4 * sizeof(float) + 64);
  ASSERT_TRUE(session.bindOutput(0, rt::DType::F32, {4, 8}, y.data).isOk());
  ASSERT_TRUE(session.bindOutput(1, rt::DType::F32, {4}, s.data).isOk());
  std::vector<float> refY = reference(model.get(), input, 0),
                     refS = reference(model.get(), input, 1);
  for (int run = 0; run < 3; ++run) {
    std::memset(y.data, 0, 4 * 8 * sizeof(float));
    std::memset(s.data, 0, 4 * sizeof(float));
    ASSERT_TRUE(session.run().isOk());
    EXPECT_EQ(std::vector<float>(y.data, y.data + 32), refY) << "run " << run;
    EXPECT_EQ(std::vector<float>(s.data, s.data + 4), refS) << "run " << run;
    EXPECT_EQ(session.output(0).data, y.data);
    EXPECT_EQ(session.output(1).data, s.data);
    // The first run records (copies in); later ones write in place.
    EXPECT_EQ(session.lastRunOutputsInPlace(), run == 0 ? 0u : 2u);
  }
  // Memory that is not 64-byte aligned: the result is copied in.
  float *unaligned = s.data + 1;
  ASSERT_TRUE(session.bindOutput(1, rt::DType::F32, {4}, unaligned).isOk());
  ASSERT_TRUE(session.run().isOk());
  EXPECT_EQ(std::vector<float>(unaligned, unaligned + 4), refS);
  EXPECT_EQ(session.lastRunOutputsInPlace(), 1u);
  // Unbound again: the result is in the session's memory.
  ASSERT_TRUE(session.bindOutput(1, rt::DType::F32, {}, nullptr).isOk());
  ASSERT_TRUE(session.run().isOk());
  const float *own = static_cast<const float *>(session.output(1).data);
  EXPECT_NE(own, unaligned);
  EXPECT_EQ(std::vector<float>(own, own + 4), refS);
}

TEST_F(SessionTest, BoundOutputsThroughTheCApi) {
  ModelPtr model = load(mnistPath);
  SessionPtr session(vitc_session_create(model.get(), 0, nullptr, 2));
  ASSERT_TRUE(session) << vitc_last_error();
  for (int64_t batch : {3, 5, 3}) {
    std::vector<float> x = pattern(batch * 28 * 28, 4);
    vitc_tensor input = tensor(VITC_DTYPE_F32, {batch, 1, 28, 28}, x.data());
    Aligned logits(batch * 10 * sizeof(float));
    vitc_tensor output = tensor(VITC_DTYPE_F32, {batch, 10}, logits.data);
    ASSERT_EQ(vitc_session_bind_input(session.get(), "input", &input), 0);
    ASSERT_EQ(vitc_session_bind_output(session.get(), "logits", &output), 0)
        << vitc_last_error();
    ASSERT_EQ(vitc_session_run(session.get()), 0) << vitc_last_error();
    EXPECT_EQ(std::vector<float>(logits.data, logits.data + batch * 10),
              reference(model.get(), input, 0));
    vitc_tensor view{};
    ASSERT_EQ(vitc_session_output(session.get(), 0, &view), 0);
    EXPECT_EQ(view.data, logits.data);
    EXPECT_EQ(view.rank, 2);
    EXPECT_EQ(view.shape[0], batch);
  }
}

TEST_F(SessionTest, OutlivesItsModel) {
  ModelPtr model = load(mlpPath);
  SessionPtr session(vitc_session_create(model.get(), 0, "cpu", 0));
  ASSERT_TRUE(session);
  std::vector<float> x = pattern(2 * 8, 5);
  vitc_tensor input = tensor(VITC_DTYPE_F32, {2, 8}, x.data());
  std::vector<float> expected = reference(model.get(), input, 1);
  model.reset();
  ASSERT_EQ(vitc_session_bind_input(session.get(), "x", &input), 0);
  ASSERT_EQ(vitc_session_run(session.get()), 0) << vitc_last_error();
  EXPECT_EQ(sessionOutput(session.get(), 1), expected);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_F(SessionTest, CreateErrors) {
  ModelPtr model = load(mlpPath);
  vitc_model *m = model.get();
  EXPECT_EQ(vitc_session_create(nullptr, 0, "cpu", 0), nullptr);
  EXPECT_TRUE(errorHas("vitc_session_create: model is NULL"));
  EXPECT_EQ(vitc_session_create(m, 0, "tpu", 0), nullptr);
  EXPECT_TRUE(errorHas("unknown device 'tpu' (devices: cpu, cuda:N)"));
  EXPECT_EQ(vitc_session_create(m, 0, "cuda:x", 0), nullptr);
  EXPECT_TRUE(errorHas("unknown device 'cuda:x'"));
  EXPECT_EQ(vitc_session_create(m, 0, "cuda:1", 0), nullptr);
  EXPECT_TRUE(errorHas("device 'cuda:1': sessions run on 'cpu' only so far"));
  EXPECT_EQ(vitc_session_create(m, 0, "cpu", -1), nullptr);
  EXPECT_TRUE(errorHas("invalid thread count -1 (0: the default, or 1 to 4096)"));
  EXPECT_EQ(vitc_session_create(m, 0, "cpu", 100000), nullptr);
  EXPECT_TRUE(errorHas("invalid thread count 100000"));
  EXPECT_EQ(vitc_session_create(m, 1, "cpu", 0), nullptr);
  EXPECT_TRUE(errorHas("no function #1 (the model has 1)"));
  EXPECT_EQ(vitc_session_create(m, -1, "cpu", 0), nullptr);
  EXPECT_TRUE(errorHas("no function #-1"));
  vitc_session_free(nullptr); // a no-op, as free(NULL)
}

TEST_F(SessionTest, BindErrors) {
  ModelPtr model = load(mlpPath);
  SessionPtr owned(vitc_session_create(model.get(), 0, "cpu", 0));
  vitc_session *s = owned.get();
  float data[64] = {};
  vitc_tensor good = tensor(VITC_DTYPE_F32, {4, 8}, data);

  EXPECT_EQ(vitc_session_bind_input(nullptr, "x", &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input: session or name is NULL"));
  EXPECT_EQ(vitc_session_bind_input(s, nullptr, &good), -1);
  EXPECT_TRUE(errorHas("session or name is NULL"));
  EXPECT_EQ(vitc_session_bind_input(s, "x", nullptr), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input: session or tensor is NULL"));
  EXPECT_EQ(vitc_session_bind_input(s, "z", &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input: no input 'z' (inputs: x)"));
  EXPECT_EQ(vitc_session_bind_input_at(s, 1, &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input_at: no input #1 (1 inputs)"));
  EXPECT_EQ(vitc_session_bind_input_at(s, -2, &good), -1);
  EXPECT_TRUE(errorHas("no input #-2"));

  vitc_tensor wrong = tensor(VITC_DTYPE_I64, {4, 8}, data);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("input 'x': expected dtype f32, got i64"));
  wrong = tensor(VITC_DTYPE_F32, {4, 9}, data);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas(
      "input 'x': expected shape [-1, 8] (-1 = any size), got [4, 9]"));
  wrong = tensor(VITC_DTYPE_F32, {32}, data);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("expected shape [-1, 8] (-1 = any size), got [32]"));
  wrong = tensor(VITC_DTYPE_F32, {-4, 8}, data);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("got [-4, 8]"));
  wrong = good;
  wrong.rank = VITC_MAX_RANK + 1;
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input: invalid rank 9 (0 to 8)"));
  wrong = good;
  wrong.dtype = static_cast<vitc_dtype>(99);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_input: invalid dtype 99"));
  wrong = tensor(VITC_DTYPE_F32, {4, 8}, nullptr);
  EXPECT_EQ(vitc_session_bind_input(s, "x", &wrong), -1);
  EXPECT_TRUE(errorHas("input 'x': data is NULL"));

  EXPECT_EQ(vitc_session_bind_output(nullptr, "y", &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_output: session or name is NULL"));
  EXPECT_EQ(vitc_session_bind_output(s, "logits", &good), -1);
  EXPECT_TRUE(errorHas("no output 'logits' (outputs: y, s)"));
  EXPECT_EQ(vitc_session_bind_output_at(s, 2, &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_output_at: no output #2 (2 outputs)"));
  EXPECT_EQ(vitc_session_bind_output_at(nullptr, 0, &good), -1);
  EXPECT_TRUE(errorHas("vitc_session_bind_output_at: session is NULL"));
  wrong = tensor(VITC_DTYPE_F32, {4, 8}, data);
  EXPECT_EQ(vitc_session_bind_output(s, "s", &wrong), -1);
  EXPECT_TRUE(errorHas("output 's': expected shape [-1] (-1 = any size), got "
                       "[4, 8]"));
  wrong = tensor(VITC_DTYPE_BF16, {4, 8}, data);
  EXPECT_EQ(vitc_session_bind_output(s, "y", &wrong), -1);
  EXPECT_TRUE(errorHas("output 'y': expected dtype f32, got bf16"));
  // Unbinding is not an error.
  EXPECT_EQ(vitc_session_bind_output(s, "y", nullptr), 0);
}

TEST_F(SessionTest, RunAndOutputErrors) {
  ModelPtr model = load(mlpPath);
  SessionPtr owned(vitc_session_create(model.get(), 0, "cpu", 0));
  vitc_session *s = owned.get();
  EXPECT_EQ(vitc_session_run(nullptr), -1);
  EXPECT_TRUE(errorHas("vitc_session_run: session is NULL"));
  EXPECT_EQ(vitc_session_run(s), -1);
  EXPECT_TRUE(errorHas(
      "vitc_session_run: input 'x' is not bound (vitc_session_bind_input)"));
  vitc_tensor view{};
  EXPECT_EQ(vitc_session_output(s, 0, &view), -1);
  EXPECT_TRUE(errorHas("the session has no results (run it first)"));
  EXPECT_EQ(vitc_session_output(nullptr, 0, &view), -1);
  EXPECT_TRUE(errorHas("vitc_session_output: session or output is NULL"));
  EXPECT_EQ(vitc_session_output(s, 0, nullptr), -1);
  EXPECT_EQ(vitc_session_output(s, 5, &view), -1);
  EXPECT_TRUE(errorHas("vitc_session_output: no output #5 (2 outputs)"));
  EXPECT_EQ(vitc_session_arena_bytes(nullptr), -1);
  EXPECT_EQ(vitc_session_arena_bytes(s), 0);

  // A bound output whose dynamic dim disagrees with the call: refused after
  // the recording run, and before the call once the shapes are planned.
  float x[32] = {}, y[24] = {};
  vitc_tensor input = tensor(VITC_DTYPE_F32, {4, 8}, x);
  vitc_tensor output = tensor(VITC_DTYPE_F32, {3, 8}, y);
  ASSERT_EQ(vitc_session_bind_input(s, "x", &input), 0);
  ASSERT_EQ(vitc_session_bind_output(s, "y", &output), 0);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(vitc_session_run(s), -1);
    EXPECT_TRUE(errorHas("vitc_session_run: output 'y' is bound with shape "
                         "[3, 8], but the call returns [4, 8]"));
    EXPECT_EQ(vitc_session_output(s, 0, &view), -1);
  }
  output = tensor(VITC_DTYPE_F32, {4, 8}, y);
  float bigger[32];
  output.data = bigger;
  ASSERT_EQ(vitc_session_bind_output(s, "y", &output), 0);
  EXPECT_EQ(vitc_session_run(s), 0) << vitc_last_error();
  EXPECT_EQ(vitc_session_output(s, 0, &view), 0);
  EXPECT_EQ(view.data, bigger);
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s VITC MNIST.onnx SESSION_MLP.onnxtext\n",
                 argv[0]);
    return 2;
  }
  vitcTool = argv[1];
  mnistModel = argv[2];
  mlpModel = argv[3];
  int status = RUN_ALL_TESTS();
  std::filesystem::remove(mnistPath);
  std::filesystem::remove(mlpPath);
  return status;
}
