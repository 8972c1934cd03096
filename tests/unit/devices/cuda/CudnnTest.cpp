//===- CudnnTest.cpp - cuDNN, loaded at run time, without a GPU -----------===//
//
// Loading a missing cuDNN is one clear line; statuses are named from our
// table. With the toolkit's libcudnn (skipped, saying why, elsewhere): the
// descriptors of each kind of plan (ConvPlanTest.cpp), staged or not, are
// built and read back, and cuDNN's own output arithmetic agrees with the
// plans'; a failed call says which of cuDNN's checks failed; creating a
// handle without a GPU fails by name. The convolutions on a GPU:
// CudnnConvGpuTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"
#include "CudnnConv.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

using namespace vitc::rt;
using namespace vitc::cuda;
using namespace vitc::testing;

namespace {

std::vector<int64_t> packed(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t d = sizes.size() - 1; d > 0; --d)
    strides[d - 1] = strides[d] * sizes[d];
  return strides;
}

DeviceTensor tensor(std::vector<int64_t> sizes, DType dtype = DType::F32,
                    std::vector<int64_t> strides = {}) {
  if (strides.empty())
    strides = packed(sizes);
  return {0, dtype, std::move(sizes), std::move(strides)};
}

LibraryCall call(const std::string &routine, DeviceTensor input,
                 DeviceTensor filter, DeviceTensor output,
                 std::vector<int64_t> window) {
  window.insert(window.end(), {/*accumulate=*/0, 0, 0});
  return {routine,
          {std::move(input), std::move(filter), std::move(output)},
          std::move(window)};
}

/// Plans of each kind: packed, strided + dilated + padded, grouped,
/// depthwise, bf16, views, a narrowed input.
std::vector<ConvPlan> plans() {
  const DType bf16 = DType::BF16;
  const std::vector<LibraryCall> calls = {
      call("conv2d_f32", tensor({2, 3, 8, 8}), tensor({6, 3, 3, 3}),
           tensor({2, 6, 8, 8}), {1, 1, 1, 1, 1, 1, 1, 1}),
      call("conv2d_f32", tensor({1, 4, 17, 15}), tensor({5, 4, 3, 2}),
           tensor({1, 5, 9, 6}), {2, 3, 2, 1, 2, 1, 2, 1}),
      call("conv2d_grouped_f32", tensor({2, 4, 3, 8, 8}),
           tensor({4, 5, 3, 3, 3}), tensor({2, 4, 5, 8, 8}),
           {1, 1, 1, 1, 1, 1, 1, 1}),
      call("conv2d_grouped_bf16", tensor({2, 8, 1, 9, 9}, bf16),
           tensor({8, 2, 1, 3, 3}, bf16), tensor({2, 8, 2, 5, 5}),
           {2, 2, 1, 1, 1, 1, 1, 1}),
      call("conv2d_bf16", tensor({2, 3, 8, 8}, bf16),
           tensor({6, 3, 1, 1}, bf16), tensor({2, 6, 8, 8}),
           {1, 1, 1, 1, 0, 0, 0, 0}),
      call("conv2d_f32", tensor({2, 3, 8, 8}, DType::F32, {192, 1, 3, 24}),
           tensor({6, 3, 3, 3}),
           tensor({2, 6, 8, 8}, DType::F32, {480, 80, 10, 1}),
           {1, 1, 1, 1, 1, 1, 1, 1}),
      call("conv2d_f32", tensor({1, 2, 12, 9}), tensor({3, 2, 3, 3}),
           tensor({1, 3, 8, 7}), {1, 1, 1, 1, 0, 0, 0, 0}),
  };
  std::vector<ConvPlan> result;
  for (const LibraryCall &c : calls) {
    auto p = planConv(c);
    EXPECT_TRUE(p.isOk()) << c.routine << ": " << p.status().message();
    if (p.isOk())
      result.push_back(*p);
  }
  return result;
}

/// cuDNN's library (the default search), or why there is none.
StatusOr<std::unique_ptr<Cudnn>> realLibrary() { return Cudnn::load(); }

/// What cuDNN stored in a tensor descriptor.
void expectTensor(const Cudnn &dnn, cudnnTensorDescriptor_t desc, int type,
                  const std::array<int, 4> &dims,
                  const std::array<int, 4> &strides, const char *which) {
  SCOPED_TRACE(which);
  ASSERT_NE(desc, nullptr);
  int readType = -1, nbDims = 0;
  std::array<int, 4> readDims{}, readStrides{};
  Status s = dnn.checkCall(
      dnn.api().cudnnGetTensorNdDescriptor(desc, 4, &readType, &nbDims,
                                           readDims.data(), readStrides.data()),
      "cudnnGetTensorNdDescriptor");
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(readType, type);
  EXPECT_EQ(nbDims, 4);
  EXPECT_EQ(readDims, dims);
  EXPECT_EQ(readStrides, strides);
}

void expectDescriptors(const Cudnn &dnn, const ConvDescriptors &d,
                       const ConvPlan &p, Staging staging) {
  const CudnnApi &api = dnn.api();
  expectTensor(dnn, d.x, p.dataType, p.x.dims, p.x.strides, "x");
  expectTensor(dnn, d.y, kCudnnDataFloat, p.y.dims, p.y.strides, "y");
  EXPECT_EQ(d.xScratch != nullptr, staging.input);
  EXPECT_EQ(d.yScratch != nullptr, staging.output);
  if (staging.input)
    expectTensor(dnn, d.xScratch, p.dataType, p.x.dims, packedStrides(p.x.dims),
                 "x's packed copy");
  if (staging.output)
    expectTensor(dnn, d.yScratch, p.dataType, p.y.dims, packedStrides(p.y.dims),
                 "y's packed copy");
  EXPECT_EQ(d.convInput(), staging.input ? d.xScratch : d.x);
  EXPECT_EQ(d.convOutput(), staging.output ? d.yScratch : d.y);

  int type = -1, format = -1, nbDims = 0;
  std::array<int, 4> filter{};
  Status s = dnn.checkCall(api.cudnnGetFilterNdDescriptor(
                               d.w, 4, &type, &format, &nbDims, filter.data()),
                           "cudnnGetFilterNdDescriptor");
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(type, p.dataType);
  EXPECT_EQ(format, kCudnnTensorNchw);
  EXPECT_EQ(filter, p.filter);

  int spatial = 0, mode = -1, compute = -1, groups = 0, math = -1;
  std::array<int, 2> pad{}, stride{}, dilation{};
  s = dnn.checkCall(api.cudnnGetConvolutionNdDescriptor(
                        d.conv, 2, &spatial, pad.data(), stride.data(),
                        dilation.data(), &mode, &compute),
                    "cudnnGetConvolutionNdDescriptor");
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(spatial, 2);
  EXPECT_EQ(pad, p.pad);
  EXPECT_EQ(stride, p.stride);
  EXPECT_EQ(dilation, p.dilation);
  EXPECT_EQ(mode, kCudnnCrossCorrelation);
  EXPECT_EQ(compute, kCudnnDataFloat);
  ASSERT_TRUE(dnn.checkCall(api.cudnnGetConvolutionGroupCount(d.conv, &groups),
                            "cudnnGetConvolutionGroupCount")
                  .isOk());
  EXPECT_EQ(groups, p.groups);
  ASSERT_TRUE(dnn.checkCall(api.cudnnGetConvolutionMathType(d.conv, &math),
                            "cudnnGetConvolutionMathType")
                  .isOk());
  EXPECT_EQ(math, p.mathType);

  // cuDNN's arithmetic gives exactly the plan's output.
  std::array<int, 4> output{};
  s = dnn.checkCall(api.cudnnGetConvolutionNdForwardOutputDim(
                        d.conv, d.convInput(), d.w, 4, output.data()),
                    "cudnnGetConvolutionNdForwardOutputDim");
  ASSERT_TRUE(s.isOk()) << s.message();
  EXPECT_EQ(output, p.y.dims);
}

} // namespace

TEST(Cudnn, AMissingLibraryIsOneClearError) {
  auto dnn = Cudnn::load("/nonexistent/libcudnn.so.9");
  expectOneLine(dnn.status(), "cuDNN is not available: cannot load "
                              "'/nonexistent/libcudnn.so.9'");
  // $VITC_CUDNN is the only library tried when set.
  ScopedEnv env("VITC_CUDNN", "/nonexistent/libcudnn.so");
  expectOneLine(Cudnn::load().status(),
                "cannot load '/nonexistent/libcudnn.so'");
  DriverApi noDriver{};
  expectOneLine(CudnnConv::load(noDriver).status(),
                "cuDNN is not available: cannot load "
                "'/nonexistent/libcudnn.so'");
}

TEST(Cudnn, StatusesAreNamedFromOurTable) {
  const std::pair<int, const char *> names[] = {
      {0, "CUDNN_STATUS_SUCCESS"},
      {1001, "CUDNN_STATUS_NOT_INITIALIZED"},
      {1008, "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED"},
      {2000, "CUDNN_STATUS_BAD_PARAM"},
      {2003, "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER"},
      {3000, "CUDNN_STATUS_NOT_SUPPORTED"},
      {3004, "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT"},
      {4000, "CUDNN_STATUS_INTERNAL_ERROR"},
      {5000, "CUDNN_STATUS_EXECUTION_FAILED"}};
  for (auto [code, name] : names)
    EXPECT_EQ(cudnnStatusName(code), name);
  EXPECT_EQ(cudnnStatusName(42), "cuDNN status 42");
  EXPECT_TRUE(Cudnn::check(0, "cudnnConvolutionForward").isOk());
  EXPECT_EQ(Cudnn::check(3000, "cudnnConvolutionForward").message(),
            "cudnnConvolutionForward: CUDNN_STATUS_NOT_SUPPORTED (3000): the "
            "operation or its configuration is not supported");
  EXPECT_EQ(Cudnn::check(2000, "cudnnSetTensorNdDescriptor", "dimA[i] <= 0")
                .message(),
            "cudnnSetTensorNdDescriptor: CUDNN_STATUS_BAD_PARAM (2000): an "
            "argument or a descriptor is not valid; cuDNN: dimA[i] <= 0");
  EXPECT_EQ(Cudnn::check(42, "cudnnCreate").message(),
            "cudnnCreate: cuDNN status 42 (42)");
}

TEST(Cudnn, FailedCallsSayWhichOfCudnnsChecksFailed) {
  auto dnn = realLibrary();
  if (!dnn.isOk())
    GTEST_SKIP() << "no cuDNN: " << dnn.status().message();
  const CudnnApi &api = (*dnn)->api();
  cudnnTensorDescriptor_t desc = nullptr;
  ASSERT_EQ(api.cudnnCreateTensorDescriptor(&desc), kCudnnSuccess);
  int dims[4] = {2, 3, -4, 5}, strides[4] = {60, 20, 5, 1};
  Status s = (*dnn)->checkCall(
      api.cudnnSetTensorNdDescriptor(desc, kCudnnDataFloat, 4, dims, strides),
      "cudnnSetTensorNdDescriptor");
  expectOneLine(s, "cudnnSetTensorNdDescriptor: CUDNN_STATUS_BAD_PARAM (2000): "
                   "an argument or a descriptor is not valid; cuDNN: ");
  // Read once: it explains no later failure.
  EXPECT_EQ((*dnn)->takeLastError(), "");
  (void)api.cudnnDestroyTensorDescriptor(desc);
}

TEST(Cudnn, DescriptorsHoldThePlansWithoutAGpu) {
  auto dnn = realLibrary();
  if (!dnn.isOk())
    GTEST_SKIP() << "no cuDNN: " << dnn.status().message();
  for (const ConvPlan &p : plans()) {
    SCOPED_TRACE(describe(p));
    for (Staging staging :
         {Staging{false, p.scratchOutput}, Staging{true, true}}) {
      SCOPED_TRACE(std::string("staged x ") + (staging.input ? "1" : "0") +
                   ", y " + (staging.output ? "1" : "0"));
      auto d = ConvDescriptors::create(**dnn, p, staging);
      ASSERT_TRUE(d.isOk()) << d.status().message();
      expectDescriptors(**dnn, **d, p, staging);
    }
  }
}

TEST(Cudnn, CreatingAHandleWithoutAGpuFailsByName) {
  auto dnn = realLibrary();
  if (!dnn.isOk())
    GTEST_SKIP() << "no cuDNN: " << dnn.status().message();
  auto gpu = createCudaDevice();
  if (gpu.isOk()) {
    // cuDNN initialises the GPU's primary context itself.
    auto handle = CudnnHandle::create(**dnn);
    EXPECT_TRUE(handle.isOk()) << handle.status().message();
    return;
  }
  auto handle = CudnnHandle::create(**dnn);
  expectOneLine(handle.status(),
                "cudnnCreate: CUDNN_STATUS_NOT_INITIALIZED (1001): cuDNN "
                "could not initialise (no GPU, no driver, or no current "
                "context)");
  // A convolution reports it with its problem; an empty one needs no
  // handle.
  DriverApi noDriver{};
  auto conv = CudnnConv::load(noDriver);
  ASSERT_TRUE(conv.isOk()) << conv.status().message();
  ConvPlan p = plans().front();
  expectOneLine((*conv)->run(p, nullptr),
                "cuDNN, input 2x3x8x8, filter 6x3x3x3, output 2x6x8x8, stride "
                "1x1, dilation 1x1, pad 1x1: cudnnCreate: "
                "CUDNN_STATUS_NOT_INITIALIZED (1001)");
  EXPECT_TRUE((*conv)->run(ConvPlan{}, nullptr).isOk());
}
