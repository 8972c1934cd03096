//===- CudnnConvGpuTest.cpp - the CUDA device's convolutions on a GPU -----===//
//
// f32 and bf16 convolutions through the CUDA backend's callLibrary (cuDNN)
// against a naive reference on the host: strided, dilated, padded, grouped
// and depthwise, accumulating or not, on packed tensors and on views (a
// transposed input, an output inside wider rows). Without a GPU each test
// says why it is skipped.
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"

#include "GpuTestSupport.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace vitc::rt;

using namespace vitc::testing;

namespace {

struct ConvCase {
  std::string routine;
  /// input, filter, output: NCHW, FCHW, NFHW or, grouped, NGCHW, GFCHW,
  /// NGFHW.
  HostTensor x, w, y;
  int64_t stride[2] = {1, 1}, dilation[2] = {1, 1}, pad[2] = {0, 0};
  bool accumulate = false;
};

/// Runs `cs` on the GPU and checks every element of the output against a
/// naive cross-correlation on the host, within `tolerance` of the sum of
/// the products' magnitudes (the rounding error's scale); the output's
/// storage outside its view must be untouched.
void expectConv(GpuBackend &gpu, const ConvCase &cs, double tolerance) {
  DeviceCopy x(gpu, cs.x), w(gpu, cs.w), y(gpu, cs.y);
  LibraryCall call{cs.routine,
                   {x.tensor(), w.tensor(), y.tensor()},
                   {cs.stride[0], cs.stride[1], cs.dilation[0], cs.dilation[1],
                    cs.pad[0], cs.pad[1], cs.pad[0], cs.pad[1], cs.accumulate,
                    /*constantFilter=*/1, /*reorderHints=*/0}};
  Status called = gpu.callLibrary(call);
  ASSERT_TRUE(called.isOk()) << called.message();
  Status synced = gpu.synchronize();
  ASSERT_TRUE(synced.isOk()) << synced.message();
  std::vector<float> got = y.storage();

  // Rank 4 as rank 5 with one group.
  bool grouped = cs.x.sizes.size() == 5;
  auto dim = [&](const HostTensor &t, int d) {
    return grouped ? t.sizes[d] : d == 1 ? 1 : t.sizes[d - (d > 1)];
  };
  auto index = [&](int64_t a, int64_t g, int64_t b, int64_t i, int64_t j) {
    return grouped ? std::vector<int64_t>{a, g, b, i, j}
                   : std::vector<int64_t>{a, b, i, j};
  };
  auto filterIndex = [&](int64_t g, int64_t f, int64_t c, int64_t i,
                         int64_t j) {
    return grouped ? std::vector<int64_t>{g, f, c, i, j}
                   : std::vector<int64_t>{f, c, i, j};
  };
  int64_t n = dim(cs.x, 0), groups = dim(cs.x, 1), c = dim(cs.x, 2),
          h = dim(cs.x, 3), wd = dim(cs.x, 4), f = dim(cs.y, 2),
          oh = dim(cs.y, 3), ow = dim(cs.y, 4), kh = dim(cs.w, 3),
          kw = dim(cs.w, 4);
  std::vector<bool> inView(got.size(), false);
  for (int64_t b = 0; b < n; ++b)
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t o = 0; o < f; ++o)
        for (int64_t i = 0; i < oh; ++i)
          for (int64_t j = 0; j < ow; ++j) {
            double sum = 0, magnitude = 0;
            for (int64_t ci = 0; ci < c; ++ci)
              for (int64_t ki = 0; ki < kh; ++ki)
                for (int64_t kj = 0; kj < kw; ++kj) {
                  int64_t r =
                      i * cs.stride[0] - cs.pad[0] + ki * cs.dilation[0];
                  int64_t s =
                      j * cs.stride[1] - cs.pad[1] + kj * cs.dilation[1];
                  if (r < 0 || r >= h || s < 0 || s >= wd)
                    continue;
                  double p =
                      double(
                          cs.x.storage[cs.x.position(index(b, g, ci, r, s))]) *
                      cs.w.storage[cs.w.position(
                          filterIndex(g, o, ci, ki, kj))];
                  sum += p;
                  magnitude += std::fabs(p);
                }
            int64_t at = cs.y.position(index(b, g, o, i, j));
            inView[at] = true;
            double initial = cs.y.storage[at];
            double expected = cs.accumulate ? initial + sum : sum;
            double bound =
                tolerance *
                    (magnitude + (cs.accumulate ? std::fabs(initial) : 0)) +
                1e-6;
            ASSERT_NEAR(got[at], expected, bound)
                << cs.routine << " output[" << b << ", " << g << ", " << o
                << ", " << i << ", " << j << "]";
          }
  for (size_t at = 0; at < got.size(); ++at) {
    if (!inView[at]) {
      ASSERT_EQ(got[at], cs.y.storage[at])
          << "the output's storage at " << at << ", outside its view, changed";
    }
  }
}

ConvCase make(std::string routine, HostTensor x, HostTensor w, HostTensor y,
              std::array<int64_t, 2> stride = {1, 1},
              std::array<int64_t, 2> dilation = {1, 1},
              std::array<int64_t, 2> pad = {0, 0}) {
  ConvCase cs{std::move(routine), std::move(x), std::move(w), std::move(y)};
  for (int i = 0; i < 2; ++i) {
    cs.stride[i] = stride[i];
    cs.dilation[i] = dilation[i];
    cs.pad[i] = pad[i];
  }
  return cs;
}

/// Both ways: overwriting the output and adding to it.
void expectBoth(GpuBackend &gpu, ConvCase cs, double tolerance) {
  for (bool accumulate : {false, true}) {
    SCOPED_TRACE(accumulate ? "accumulating" : "overwriting");
    cs.accumulate = accumulate;
    expectConv(gpu, cs, tolerance);
  }
}

} // namespace

TEST(CudnnConvGpu, F32ConvolutionsAreExactFp32) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(7);
  const DType f32 = DType::F32;
  // 3x3, padded to keep the size.
  expectBoth(**gpu,
             make("conv2d_f32", dense({2, 3, 9, 11}, f32, rng),
                  dense({8, 3, 3, 3}, f32, rng), dense({2, 8, 9, 11}, f32, rng),
                  {1, 1}, {1, 1}, {1, 1}),
             1e-4);
  // Strided, dilated and padded, differently per dim: (17 + 4 - 5) / 2 + 1
  // = 9 rows, (13 + 2 - 2) / 3 + 1 = 5 columns.
  expectBoth(**gpu,
             make("conv2d_f32", dense({2, 5, 17, 13}, f32, rng),
                  dense({4, 5, 3, 2}, f32, rng), dense({2, 4, 9, 5}, f32, rng),
                  {2, 3}, {2, 1}, {2, 1}),
             1e-4);
  // A 1x1 projection with stride 2.
  expectConv(**gpu,
             make("conv2d_f32", dense({1, 16, 10, 10}, f32, rng),
                  dense({7, 16, 1, 1}, f32, rng), dense({1, 7, 5, 5}, f32, rng),
                  {2, 2}),
             1e-4);
  // An input larger than the output reads: rows 10 and 11 are left out.
  expectConv(**gpu,
             make("conv2d_f32", dense({1, 2, 12, 9}, f32, rng),
                  dense({3, 2, 3, 3}, f32, rng), dense({1, 3, 8, 7}, f32, rng)),
             1e-4);
}

TEST(CudnnConvGpu, F32ViewsAreReadAndWrittenInPlace) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(8);
  const DType f32 = DType::F32;
  // x stored (N, W, H, C): its spatial dims transposed, channels innermost;
  // the output inside rows of 12, from element 5.
  expectBoth(**gpu,
             make("conv2d_f32",
                  hostTensor({2, 3, 8, 9}, {216, 1, 3, 24}, 0, f32, rng),
                  dense({6, 3, 3, 3}, f32, rng),
                  hostTensor({2, 6, 8, 9}, {576, 96, 12, 1}, 5, f32, rng),
                  {1, 1}, {1, 1}, {1, 1}),
             1e-4);
}

TEST(CudnnConvGpu, F32GroupedAndDepthwise) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(9);
  const DType f32 = DType::F32;
  // 4 groups of 3 input and 5 output channels.
  expectBoth(**gpu,
             make("conv2d_grouped_f32", dense({2, 4, 3, 8, 8}, f32, rng),
                  dense({4, 5, 3, 3, 3}, f32, rng),
                  dense({2, 4, 5, 8, 8}, f32, rng), {1, 1}, {1, 1}, {1, 1}),
             1e-4);
  // Depthwise with a channel multiplier of 2, stride 2.
  expectBoth(**gpu,
             make("conv2d_grouped_f32", dense({2, 8, 1, 9, 9}, f32, rng),
                  dense({8, 2, 1, 3, 3}, f32, rng),
                  dense({2, 8, 2, 5, 5}, f32, rng), {2, 2}, {1, 1}, {1, 1}),
             1e-4);
  // Depthwise on a channels-last input (N, H, W, G).
  expectConv(**gpu,
             make("conv2d_grouped_f32",
                  hostTensor({1, 6, 1, 7, 7}, {294, 1, 1, 42, 6}, 0, f32, rng),
                  dense({6, 1, 1, 3, 3}, f32, rng),
                  dense({1, 6, 1, 7, 7}, f32, rng), {1, 1}, {1, 1}, {1, 1}),
             1e-4);
}

TEST(CudnnConvGpu, Bf16InputsAccumulateIntoF32) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(10);
  const DType bf16 = DType::BF16, f32 = DType::F32;
  // cuDNN rounds each product sum to bf16 once (CudnnConv.h): a relative
  // error of at most 2^-9, within 1e-2 of the magnitude.
  expectBoth(**gpu,
             make("conv2d_bf16", dense({2, 16, 9, 9}, bf16, rng),
                  dense({8, 16, 3, 3}, bf16, rng),
                  dense({2, 8, 9, 9}, f32, rng), {1, 1}, {1, 1}, {1, 1}),
             1e-2);
  expectBoth(**gpu,
             make("conv2d_grouped_bf16", dense({2, 2, 8, 8, 8}, bf16, rng),
                  dense({2, 4, 8, 3, 3}, bf16, rng),
                  dense({2, 2, 4, 4, 4}, f32, rng), {2, 2}, {1, 1}, {1, 1}),
             1e-2);
  // A transposed input view and an output inside wider rows.
  expectConv(**gpu,
             make("conv2d_bf16",
                  hostTensor({1, 8, 6, 7}, {336, 1, 8, 48}, 0, bf16, rng),
                  dense({4, 8, 3, 3}, bf16, rng),
                  hostTensor({1, 4, 6, 7}, {256, 64, 9, 1}, 2, f32, rng),
                  {1, 1}, {1, 1}, {1, 1}),
             1e-2);
}

TEST(CudnnConvGpu, CallsCudnnCannotComputeAreErrors) {
  auto gpu = gpuBackend();
  if (!gpu.isOk())
    GTEST_SKIP() << "no GPU: " << gpu.status().message();
  std::mt19937 rng(11);
  HostTensor x = dense({1, 2, 6, 6}, DType::F32, rng);
  HostTensor w = dense({3, 2, 3, 3}, DType::F32, rng);
  HostTensor y = dense({1, 3, 5, 6}, DType::F32, rng);
  DeviceCopy dx(**gpu, x), dw(**gpu, w), dy(**gpu, y);
  // Padded at the top only (ONNX's SAME_LOWER on an even input).
  LibraryCall asymmetric{"conv2d_f32",
                         {dx.tensor(), dw.tensor(), dy.tensor()},
                         {1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0}};
  expectOneLine((*gpu)->callLibrary(asymmetric),
                "cuDNN needs symmetric padding, got top 1 / bottom 0");
}
