//===- ConvPlanTest.cpp - convolution calls as cuDNN computes them --------===//
//
// The plans of each kind of conv2d call (packed, strided, dilated, padded,
// grouped, depthwise, bf16, views with any strides, an input larger than
// the output reads, empty outputs) and every error for a call cuDNN cannot
// compute, as plain data: no library or GPU. The descriptors made from
// plans: CudnnTest.cpp; the convolutions on a GPU: CudnnConvGpuTest.cpp.
//
//===----------------------------------------------------------------------===//
#include "ConvPlan.h"

#include <gtest/gtest.h>

using namespace vitc::rt;
using vitc::cuda::ConvPlan;
using vitc::cuda::CudnnTensor;
using vitc::cuda::planConv;

namespace {

std::vector<int64_t> packed(const std::vector<int64_t> &sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (size_t d = sizes.size() - 1; d > 0; --d)
    strides[d - 1] = strides[d] * std::max<int64_t>(sizes[d], 1);
  return strides;
}

DeviceTensor tensor(std::vector<int64_t> sizes,
                    std::optional<std::vector<int64_t>> strides = {},
                    DType dtype = DType::F32, DevicePtr data = 0) {
  std::vector<int64_t> s = strides ? *strides : packed(sizes);
  return {data, dtype, std::move(sizes), std::move(s)};
}

DeviceTensor bf16(std::vector<int64_t> sizes) {
  return tensor(std::move(sizes), {}, DType::BF16);
}

/// The window scalars: strides, dilations, pads (top, left, bottom, right).
struct Window {
  int64_t strideH = 1, strideW = 1, dilationH = 1, dilationW = 1;
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

Window padded(int64_t pad) { return {1, 1, 1, 1, pad, pad, pad, pad}; }

LibraryCall call(const std::string &routine, DeviceTensor input,
                 DeviceTensor filter, DeviceTensor output, Window w = {},
                 bool accumulate = false) {
  // The CPU kernels' hints (constantFilter, reorderHints) change nothing.
  return {routine,
          {std::move(input), std::move(filter), std::move(output)},
          {w.strideH, w.strideW, w.dilationH, w.dilationW, w.top, w.left,
           w.bottom, w.right, accumulate, /*constantFilter=*/1,
           /*reorderHints=*/5}};
}

/// "2x3x8x8 / 192,64,8,1": a tensor of a plan.
std::string str(const CudnnTensor &t) {
  std::string text;
  for (int d : t.dims)
    text += (text.empty() ? "" : "x") + std::to_string(d);
  text += " /";
  for (int i = 0; i < 4; ++i)
    text += (i ? "," : " ") + std::to_string(t.strides[i]);
  return text;
}

std::string str(const std::array<int, 4> &dims) {
  return std::to_string(dims[0]) + "x" + std::to_string(dims[1]) + "x" +
         std::to_string(dims[2]) + "x" + std::to_string(dims[3]);
}

std::string str(const std::array<int, 2> &pair) {
  return std::to_string(pair[0]) + "x" + std::to_string(pair[1]);
}

ConvPlan plan(const LibraryCall &c) {
  auto p = planConv(c);
  EXPECT_TRUE(p.isOk()) << p.status().message();
  return p.isOk() ? *p : ConvPlan{};
}

std::string planError(const LibraryCall &c) {
  auto p = planConv(c);
  return p.isOk() ? "no error" : p.status().message();
}

} // namespace

TEST(ConvPlan, PackedOperandsAsTheyAre) {
  ConvPlan p =
      plan(call("conv2d_f32", tensor({2, 3, 8, 8}, {}, DType::F32, 0x1000),
                tensor({6, 3, 3, 3}, {}, DType::F32, 0x2000),
                tensor({2, 6, 8, 8}, {}, DType::F32, 0x3000), padded(1)));
  EXPECT_EQ(p.work, ConvPlan::Work::Convolution);
  EXPECT_FALSE(p.bf16);
  EXPECT_FALSE(p.accumulate);
  EXPECT_EQ(str(p.x), "2x3x8x8 / 192,64,8,1");
  EXPECT_EQ(str(p.y), "2x6x8x8 / 384,64,8,1");
  EXPECT_EQ(str(p.filter), "6x3x3x3");
  EXPECT_EQ(p.x.data, 0x1000u);
  EXPECT_EQ(p.w, 0x2000u);
  EXPECT_EQ(p.y.data, 0x3000u);
  EXPECT_EQ(p.groups, 1);
  EXPECT_EQ(str(p.pad), "1x1");
  EXPECT_EQ(str(p.stride), "1x1");
  EXPECT_EQ(str(p.dilation), "1x1");
  // Exact fp32, written straight into y.
  EXPECT_EQ(p.dataType, vitc::cuda::kCudnnDataFloat);
  EXPECT_EQ(p.mathType, vitc::cuda::kCudnnFmaMath);
  EXPECT_FALSE(p.scratchOutput);
  EXPECT_TRUE(vitc::cuda::isPacked(p.x));
  EXPECT_TRUE(vitc::cuda::isPacked(p.y));
  EXPECT_EQ(vitc::cuda::describe(p),
            "input 2x3x8x8, filter 6x3x3x3, output 2x6x8x8, stride 1x1, "
            "dilation 1x1, pad 1x1");
}

TEST(ConvPlan, StridesDilationsAndPadsPerDim) {
  // Height: extent (3 - 1) * 2 + 1 = 5, (17 + 2 * 2 - 5) / 2 + 1 = 9 rows;
  // width: extent 2, (15 + 2 * 1 - 2) / 3 + 1 = 6 columns.
  Window w{2, 3, 2, 1, 2, 1, 2, 1};
  ConvPlan p = plan(call("conv2d_f32", tensor({1, 4, 17, 15}),
                         tensor({5, 4, 3, 2}), tensor({1, 5, 9, 6}), w));
  EXPECT_EQ(str(p.x), "1x4x17x15 / 1020,255,15,1");
  EXPECT_EQ(str(p.y), "1x5x9x6 / 270,54,6,1");
  EXPECT_EQ(str(p.filter), "5x4x3x2");
  EXPECT_EQ(str(p.pad), "2x1");
  EXPECT_EQ(str(p.stride), "2x3");
  EXPECT_EQ(str(p.dilation), "2x1");
}

TEST(ConvPlan, RowsTheOutputNeverReadsAreLeftOutOfX) {
  // 8 rows of a 3x3 window read input rows 0 to 9 of 12: cuDNN is given
  // 10, whose output is exactly 8; the columns are all read.
  ConvPlan p = plan(call("conv2d_f32", tensor({1, 2, 12, 9}),
                         tensor({3, 2, 3, 3}), tensor({1, 3, 8, 7})));
  EXPECT_EQ(str(p.x), "1x2x10x9 / 216,108,9,1");
  EXPECT_FALSE(vitc::cuda::isPacked(p.x)); // a view of the 12 rows
  // Stride 2: (10 - 3) / 2 + 1 = 4, as for 9 rows: the last row, which no
  // output reads, may stay.
  ConvPlan q =
      plan(call("conv2d_f32", tensor({1, 1, 10, 10}), tensor({1, 1, 3, 3}),
                tensor({1, 1, 4, 4}), Window{2, 2}));
  EXPECT_EQ(str(q.x), "1x1x10x10 / 100,100,10,1");
  // Stride 2, pad 1: 3 rows read input rows -1 to 5 of 8; cuDNN reads row
  // 6 (kept: (6 + 2 - 3) / 2 + 1 = 3) as padding, which no output uses.
  // (N and C, of size 1, take the strides of the packed 6 rows.)
  ConvPlan r =
      plan(call("conv2d_f32", tensor({1, 1, 8, 8}), tensor({1, 1, 3, 3}),
                tensor({1, 1, 3, 4}), Window{2, 2, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(str(r.x), "1x1x6x8 / 48,48,8,1");
}

TEST(ConvPlan, GroupsMergeIntoChannels) {
  // N, G, C, H, W = 2, 4, 3, 8, 8: cuDNN's 12 channels in 4 groups; the
  // filter (G, F, C, KH, KW) is cuDNN's (G * F, C, KH, KW).
  ConvPlan p =
      plan(call("conv2d_grouped_f32", tensor({2, 4, 3, 8, 8}),
                tensor({4, 5, 3, 3, 3}), tensor({2, 4, 5, 8, 8}), padded(1)));
  EXPECT_EQ(str(p.x), "2x12x8x8 / 768,64,8,1");
  EXPECT_EQ(str(p.y), "2x20x8x8 / 1280,64,8,1");
  EXPECT_EQ(str(p.filter), "20x3x3x3");
  EXPECT_EQ(p.groups, 4);
  EXPECT_EQ(vitc::cuda::describe(p),
            "input 2x12x8x8, filter 20x3x3x3, output 2x20x8x8, stride 1x1, "
            "dilation 1x1, pad 1x1, groups 4");
}

TEST(ConvPlan, DepthwiseConvolutionsAreGroupsOfOneChannel) {
  // C = 1: the channel stride is the group's, whatever C's says.
  ConvPlan p = plan(
      call("conv2d_grouped_f32", tensor({2, 8, 1, 9, 9}, {{648, 81, 7, 9, 1}}),
           tensor({8, 1, 1, 3, 3}), tensor({2, 8, 1, 9, 9}), padded(1)));
  EXPECT_EQ(str(p.x), "2x8x9x9 / 648,81,9,1");
  EXPECT_EQ(str(p.y), "2x8x9x9 / 648,81,9,1");
  EXPECT_EQ(str(p.filter), "8x1x3x3");
  EXPECT_EQ(p.groups, 8);
  // A channel multiplier of 2: 16 output channels.
  ConvPlan m =
      plan(call("conv2d_grouped_f32", tensor({2, 8, 1, 9, 9}),
                tensor({8, 2, 1, 3, 3}), tensor({2, 8, 2, 9, 9}), padded(1)));
  EXPECT_EQ(str(m.y), "2x16x9x9 / 1296,81,9,1");
  EXPECT_EQ(str(m.filter), "16x1x3x3");
  EXPECT_EQ(m.groups, 8);
}

TEST(ConvPlan, Bf16ConvolvesIntoABf16ScratchOnTensorCores) {
  ConvPlan p = plan(call("conv2d_bf16", bf16({2, 3, 8, 8}), bf16({6, 3, 3, 3}),
                         tensor({2, 6, 8, 8}), padded(1),
                         /*accumulate=*/true));
  EXPECT_TRUE(p.bf16);
  EXPECT_TRUE(p.accumulate);
  EXPECT_EQ(p.dataType, vitc::cuda::kCudnnDataBfloat16);
  EXPECT_EQ(p.mathType, vitc::cuda::kCudnnTensorOpMath);
  EXPECT_TRUE(p.scratchOutput);
  ConvPlan g = plan(call("conv2d_grouped_bf16", bf16({1, 2, 3, 5, 5}),
                         bf16({2, 4, 3, 1, 1}), tensor({1, 2, 4, 5, 5})));
  EXPECT_TRUE(g.bf16);
  EXPECT_EQ(g.groups, 2);
  EXPECT_EQ(str(g.filter), "8x3x1x1");
}

TEST(ConvPlan, ViewsKeepTheirStrides) {
  // x stored (N, W, H, C): transposed spatial dims, channels innermost; y
  // a view of wider rows.
  ConvPlan p = plan(call("conv2d_f32", tensor({2, 3, 8, 8}, {{192, 1, 3, 24}}),
                         tensor({6, 3, 3, 3}),
                         tensor({2, 6, 8, 8}, {{480, 80, 10, 1}}), padded(1)));
  EXPECT_EQ(str(p.x), "2x3x8x8 / 192,1,3,24");
  EXPECT_EQ(str(p.y), "2x6x8x8 / 480,80,10,1");
  EXPECT_FALSE(vitc::cuda::isPacked(p.x));
  EXPECT_FALSE(vitc::cuda::isPacked(p.y));
}

TEST(ConvPlan, SizeOneDimsGetPackedStrides) {
  // cuDNN refuses strides below 1; a size-1 dim's stride is never used.
  ConvPlan p = plan(call(
      "conv2d_f32", tensor({1, 3, 8, 1}, {{0, 8, 1, 0}}), tensor({6, 3, 3, 1}),
      tensor({1, 6, 8, 1}, {{-5, 8, 1, 7}}), Window{1, 1, 1, 1, 1, 0, 1, 0}));
  EXPECT_EQ(str(p.x), "1x3x8x1 / 24,8,1,1");
  EXPECT_EQ(str(p.y), "1x6x8x1 / 48,8,1,1");
  EXPECT_TRUE(vitc::cuda::isPacked(p.x));
  EXPECT_EQ(vitc::cuda::packedStrides({2, 3, 4, 5}),
            (std::array<int, 4>{60, 20, 5, 1}));
}

TEST(ConvPlan, EmptyOutputsAreNothingToDo) {
  EXPECT_EQ(plan(call("conv2d_f32", tensor({0, 3, 8, 8}), tensor({6, 3, 3, 3}),
                      tensor({0, 6, 8, 8}), padded(1)))
                .work,
            ConvPlan::Work::None);
  EXPECT_EQ(plan(call("conv2d_f32", tensor({2, 3, 8, 8}), tensor({0, 3, 3, 3}),
                      tensor({2, 0, 8, 8}), padded(1)))
                .work,
            ConvPlan::Work::None);
  EXPECT_EQ(plan(call("conv2d_grouped_bf16", bf16({2, 0, 3, 8, 8}),
                      bf16({0, 4, 3, 3, 3}), tensor({2, 0, 4, 8, 8}), padded(1),
                      true))
                .work,
            ConvPlan::Work::None);
}

TEST(ConvPlan, CallsOfOtherShapesAreNamedErrors) {
  DeviceTensor x = tensor({2, 3, 8, 8}), w = tensor({6, 3, 3, 3}),
               y = tensor({2, 6, 8, 8});
  EXPECT_FALSE(vitc::cuda::isConvRoutine("matmul_f32"));
  EXPECT_TRUE(vitc::cuda::isConvRoutine("conv2d_grouped_bf16"));
  EXPECT_EQ(planError(call("max_pool2d_f32", x, w, y, padded(1))),
            "'max_pool2d_f32' is not a convolution routine (conv2d_f32, "
            "conv2d_bf16, conv2d_grouped_f32, conv2d_grouped_bf16)");
  LibraryCall two = call("conv2d_f32", x, w, y, padded(1));
  two.tensors.pop_back();
  EXPECT_EQ(planError(two),
            "expected 3 tensors (input, filter, output), got 2");
  LibraryCall ten = call("conv2d_f32", x, w, y, padded(1));
  ten.scalars.pop_back();
  EXPECT_EQ(planError(ten),
            "expected 11 scalars (strideH, strideW, dilationH, dilationW, "
            "padTop, padLeft, padBottom, padRight, accumulate, "
            "constantFilter, reorderHints), got 10");
  EXPECT_EQ(planError(call("conv2d_f32", tensor({2, 1, 3, 8, 8}), w, y)),
            "operand input has sizes [2, 1, 3, 8, 8] and strides [192, 192, "
            "64, 8, 1]; the routine takes rank-4 tensors");
  EXPECT_EQ(planError(call("conv2d_grouped_f32", tensor({2, 1, 3, 8, 8}), w,
                           tensor({2, 1, 6, 8, 8}))),
            "operand filter has sizes [6, 3, 3, 3] and strides [27, 9, 3, 1]; "
            "the routine takes rank-5 tensors");
  EXPECT_EQ(planError(call("conv2d_bf16", bf16({2, 3, 8, 8}), w, y)),
            "operand filter is f32, not bf16");
  EXPECT_EQ(planError(call("conv2d_f32", x, w,
                           tensor({2, 6, 8, 8}, {}, DType::BF16))),
            "operand output is bf16, not f32");
  EXPECT_EQ(planError(call("conv2d_f32",
                           tensor({2, -3, 8, 8}, {{192, 64, 8, 1}}), w, y)),
            "operand input has sizes [2, -3, 8, 8]: negative sizes are not "
            "supported");
  EXPECT_EQ(
      planError(call("conv2d_f32", x, w, tensor({3, 6, 8, 8}), padded(1))),
      "the batches do not match: the input has 2, the output 3");
  EXPECT_EQ(
      planError(call("conv2d_f32", x, tensor({6, 4, 3, 3}), y, padded(1))),
      "the input channels do not match: the input has 3, the filter 4");
  EXPECT_EQ(
      planError(call("conv2d_f32", x, w, tensor({2, 5, 8, 8}), padded(1))),
      "the output channels do not match: the filter has 6, the output 5");
  EXPECT_EQ(planError(call("conv2d_grouped_f32", tensor({2, 4, 3, 8, 8}),
                           tensor({2, 5, 3, 3, 3}), tensor({2, 4, 5, 8, 8}),
                           padded(1))),
            "the groups do not match: the input has 4, the filter 2, the "
            "output 4");
  EXPECT_EQ(planError(call("conv2d_grouped_f32", tensor({2, 4, 3, 8, 8}),
                           tensor({4, 5, 2, 3, 3}), tensor({2, 4, 5, 8, 8}),
                           padded(1))),
            "the input channels do not match: the input has 3 per group, the "
            "filter 2");
}

TEST(ConvPlan, LayoutsCudnnCannotReadAreNamedErrors) {
  DeviceTensor w = tensor({6, 3, 3, 3}), y = tensor({2, 6, 8, 8});
  EXPECT_EQ(planError(call("conv2d_grouped_f32",
                           tensor({2, 4, 3, 8, 8}, {{1000, 250, 64, 8, 1}}),
                           tensor({4, 5, 3, 3, 3}), tensor({2, 4, 5, 8, 8}),
                           padded(1))),
            "operand input (sizes [2, 4, 3, 8, 8], strides [1000, 250, 64, 8, "
            "1]) has its group and channel dims apart (stride 250, not 3 * "
            "64): cuDNN reads the groups' channels as one dim");
  EXPECT_EQ(
      planError(call("conv2d_f32", tensor({2, 3, 8, 8}),
                     tensor({6, 3, 3, 3}, {{1, 6, 18, 54}}), y, padded(1))),
      "operand filter (sizes [6, 3, 3, 3], strides [1, 6, 18, 54]) is "
      "not packed: cuDNN reads the filter in its identity layout");
  EXPECT_EQ(
      planError(call("conv2d_f32", tensor({2, 3, 8, 8}, {{192, 64, -8, 1}}), w,
                     y, padded(1))),
      "operand input (sizes [2, 3, 8, 8], strides [192, 64, -8, 1]) has "
      "a stride below 1 in a dim larger than 1: cuDNN needs positive "
      "strides");
  // A broadcast output would write its elements over each other.
  EXPECT_EQ(planError(call("conv2d_f32", tensor({2, 3, 8, 8}), w,
                           tensor({2, 6, 8, 8}, {{0, 64, 8, 1}}), padded(1))),
            "operand output (sizes [2, 6, 8, 8], strides [0, 64, 8, 1]) has a "
            "stride below 1 in a dim larger than 1: cuDNN needs positive "
            "strides");
  EXPECT_EQ(planError(call("conv2d_f32",
                           tensor({2, 3, 8, 8}, {{int64_t(1) << 33, 64, 8, 1}}),
                           w, y, padded(1))),
            "operand input (sizes [2, 3, 8, 8], strides [8589934592, 64, 8, "
            "1]) has sizes or strides beyond the 32-bit ones cuDNN takes");
  // An empty input dim: no output element could be computed from it.
  EXPECT_EQ(planError(call("conv2d_f32", tensor({2, 0, 8, 8}),
                           tensor({6, 0, 3, 3}), y, padded(1))),
            "operand input (sizes [2, 0, 8, 8], strides [64, 64, 8, 1]) has an "
            "empty dim: cuDNN needs positive sizes");
}

TEST(ConvPlan, WindowsCudnnCannotComputeAreNamedErrors) {
  DeviceTensor x = tensor({2, 3, 8, 8}), w = tensor({6, 3, 3, 3}),
               y = tensor({2, 6, 8, 8});
  EXPECT_EQ(
      planError(call("conv2d_f32", x, w, y, Window{1, 1, 1, 1, 1, 1, 0, 1})),
      "cuDNN needs symmetric padding, got top 1 / bottom 0");
  EXPECT_EQ(
      planError(call("conv2d_f32", x, w, y, Window{1, 1, 1, 1, 1, 0, 1, 2})),
      "cuDNN needs symmetric padding, got left 0 / right 2");
  EXPECT_EQ(planError(call("conv2d_f32", x, w, y, Window{0, 1})),
            "strides must be positive, got 0x1");
  EXPECT_EQ(planError(call("conv2d_f32", x, w, y, Window{1, 1, 1, 0})),
            "dilations count from 1 (dense), got 1x0");
  EXPECT_EQ(
      planError(call("conv2d_f32", x, w, y, Window{1, 1, 1, 1, -1, 0, -1, 0})),
      "pads must not be negative, got top -1, left 0, bottom -1, right "
      "0");
  // More output rows than the padded input has.
  EXPECT_EQ(
      planError(call("conv2d_f32", tensor({1, 1, 5, 5}), tensor({1, 1, 3, 3}),
                     tensor({1, 1, 8, 5}), padded(1))),
      "the output's height 8 does not fit the input's 5: kernel 3, "
      "stride 1, dilation 1 and pads 1/1 give 5 (cuDNN pads both sides "
      "alike)");
  // Fewer: the 8 rows read row 8, which cuDNN would read as padding.
  EXPECT_EQ(
      planError(call("conv2d_f32", tensor({1, 1, 10, 10}), tensor({1, 1, 3, 3}),
                     tensor({1, 1, 10, 8}), padded(1))),
      "the output's width 8 does not fit the input's 10: kernel 3, "
      "stride 1, dilation 1 and pads 1/1 give 10 (cuDNN pads both sides "
      "alike)");
}
