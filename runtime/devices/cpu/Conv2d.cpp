//===- Conv2d.cpp - convolutions and their gradients on oneDNN ------------===//
#include "OneDnnKernels.h"
#include "ReorderCache.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace vitc::kernels {
namespace __attribute__((visibility("hidden"))) cpu { // See OneDnnContext.h.
namespace {

/// Swaps the first two logical dims of a stored operand (a view, no copy).
Plain swapFirstTwo(Plain p) {
  std::swap(p.shape[0], p.shape[1]);
  std::swap(p.strides[0], p.strides[1]);
  return p;
}

/// Whether winograd convolutions are allowed: VITC_CPU_CONV=direct turns
/// them off (e.g. to compare results with another direct implementation).
bool winogradAllowed() {
  static const bool allowed = [] {
    const char *choice = std::getenv("VITC_CPU_CONV");
    return !choice || std::strcmp(choice, "direct") != 0;
  }();
  return allowed;
}

/// The algorithm for an f32 convolution whose oneDNN filter is `weights`
/// (O, I, KH, KW), dense, with the strides of the primitive: winograd
/// F(4x4, 3x3) where oneDNN has it (AVX-512) and it pays, else direct.
/// Winograd does about a quarter of the multiplications of a 3x3 stride-1
/// convolution; on one Zen 4 core it takes 0.42x-0.6x the direct kernel's
/// time on a 32->64-channel layer (forward, backward data and weights), but
/// is slower for a handful of channels, where the transforms dominate. Its
/// rounding differs from the direct kernel's by a few ulps of the operands'
/// magnitudes, as with cuDNN's winograd algorithms.
dnnl::algorithm convAlgorithm(const Plain &weights, const dims &strides,
                              const dims &dilations) {
  const dims &w = weights.shape;
  bool fits = weights.type == dnnl::memory::data_type::f32 && w.size() == 4 &&
              w[2] == 3 && w[3] == 3 && w[0] >= 16 && w[1] >= 16 &&
              strides == dims{1, 1} && dilations == dims{0, 0};
  return fits && winogradAllowed() ? dnnl::algorithm::convolution_winograd
                                   : dnnl::algorithm::convolution_direct;
}

/// `makePd(alg)`, or `makePd(direct)` where oneDNN has no winograd kernel
/// for these shapes, layouts or attributes.
template <typename MakePd>
auto withAlgorithm(dnnl::algorithm alg, MakePd &&makePd) {
  if (alg == dnnl::algorithm::convolution_winograd) {
    try {
      return makePd(alg);
    } catch (const dnnl::error &e) {
      if (e.status != dnnl_unimplemented)
        throw;
    }
  }
  return makePd(dnnl::algorithm::convolution_direct);
}

/// One operand of a convolution primitive: its argument id, the layout the
/// primitive reads or writes, and the reorder from (inputs) or to (output)
/// the caller's plain layout, empty where they match.
struct ConvOperand {
  int arg = 0;
  dnnl::memory::desc desc;
  dnnl::primitive reorder;
};

/// How planConv2d computes a convolution (see there).
enum class ConvForm { Forward, FilterGradient, InputGradient };

/// A convolution in the layouts oneDNN chose. `inputs[1]` is the filter in
/// the forward form; `accumulateIn` reads the old output for the sum
/// post-op.
struct ConvPlan {
  ConvForm form = ConvForm::Forward;
  dnnl::primitive conv;
  ConvOperand inputs[2], output;
  dnnl::primitive accumulateIn;
};

/// The (I, O, KH, KW) filter with O and I swapped and the taps reversed,
/// dense, in per-thread scratch: f'[i, o, kh, kw] = f[o, i, KH-1-kh, KW-1-kw].
/// Whether pointwise convolutions run on the caller's layout (planConv2d);
/// VITC_CPU_CONV1X1=reorder restores oneDNN's choice, to measure.
bool pointwiseInPlace() {
  static const bool inPlace = [] {
    const char *choice = std::getenv("VITC_CPU_CONV1X1");
    return !choice || std::strcmp(choice, "reorder") != 0;
  }();
  return inPlace;
}

Plain flipFilter(const Plain &f) {
  const dims &k = f.shape, &st = f.strides;
  dims shape{k[1], k[0], k[2], k[3]};
  size_t bytes = static_cast<size_t>(k[0] * k[1] * k[2] * k[3]) *
                 (f.type == dnnl::memory::data_type::f32 ? 4 : 2);
  void *out = Scratch::get(Scratch::Flipped, std::max<size_t>(bytes, 4));
  auto copy = [&](auto *dst, const auto *src) {
    for (int64_t i = 0; i < k[1]; ++i)
      for (int64_t o = 0; o < k[0]; ++o)
        for (int64_t h = 0; h < k[2]; ++h)
          for (int64_t w = 0; w < k[3]; ++w)
            *dst++ = src[o * st[0] + i * st[1] + (k[2] - 1 - h) * st[2] +
                         (k[3] - 1 - w) * st[3]];
  };
  if (f.type == dnnl::memory::data_type::f32)
    copy(static_cast<float *>(out), static_cast<const float *>(f.data));
  else
    copy(static_cast<uint16_t *>(out), static_cast<const uint16_t *>(f.data));
  Plain p{shape, dims(4), out, f.type};
  p.strides = {k[0] * k[2] * k[3], k[2] * k[3], k[3], 1};
  return p;
}

/// Builds the plan of `conv2d` (below), in one of three forms: the
/// autodiff writes a convolution's gradients as convolutions too (vt.conv2d's
/// VJP), which oneDNN's backward kernels compute faster.
///  - FilterGradient: a window larger than the output is a filter gradient:
///    x^T (C, N, H, W) convolved with g^T (F, N, OH, OW) into dw^T
///    (C, F, KH, KW). oneDNN's backward-weights kernels compute that sum
///    from x, g and dw, about 2.5x faster than a forward convolution with a
///    24x24 "filter": swap the first two dims of each view back and run it,
///    with the forward dilation as stride and the forward stride as dilation.
///  - InputGradient: a stride-1 convolution padded by more than half its
///    window (a "full" convolution: g padded by k - 1) is a transposed one:
///    backward data of g with the filter's taps reversed and channels
///    swapped back (flipFilter), padded by extent - 1 - pad. oneDNN's
///    backward-data kernels (winograd among them) do not handle the forward
///    kernels' large padding.
///  - Forward: everything else.
std::shared_ptr<const ConvPlan> planConv2d(const Plain &input,
                                           const Plain &filter,
                                           const Plain &output,
                                           const dims &strides,
                                           const dims &dilations,
                                           const dims &padL, const dims &padR,
                                           bool accumulate) {
  auto p = std::make_shared<ConvPlan>();
  auto finish = [&](const Plain &a, const dnnl::memory::desc &aDesc, int aArg,
                    const Plain &b, const dnnl::memory::desc &bDesc, int bArg,
                    const Plain &out, const dnnl::memory::desc &outDesc,
                    int outArg) {
    p->inputs[0] = {aArg, aDesc, makeReorder(a.desc(), aDesc)};
    p->inputs[1] = {bArg, bDesc, makeReorder(b.desc(), bDesc)};
    p->output = {outArg, outDesc, makeReorder(outDesc, out.desc())};
    if (accumulate && p->output.reorder)
      p->accumulateIn = makeReorder(out.desc(), outDesc);
  };
  const dims &k = filter.shape, &o = output.shape;
  bool filterGradient = !accumulate && k.size() == 4 &&
                        k[2] * k[3] > o[2] * o[3];
  if (filterGradient) {
    Plain x = swapFirstTwo(input), g = swapFirstTwo(filter),
          dw = swapFirstTwo(output);
    dims bwdStrides{dilations[0] + 1, dilations[1] + 1};
    dims bwdDilations{strides[0] - 1, strides[1] - 1};
    auto anyX = anyLayout(x.shape, x.type), anyG = anyLayout(g.shape, g.type);
    auto pd = withAlgorithm(
        convAlgorithm(dw, bwdStrides, bwdDilations), [&](dnnl::algorithm alg) {
          dnnl::convolution_forward::primitive_desc hint(
              dnnl::convolution_forward::desc(
                  dnnl::prop_kind::forward_training, alg, anyX,
                  anyLayout(dw.shape, x.type), anyG, bwdStrides, bwdDilations,
                  padL, padR),
              getEngine());
          return dnnl::convolution_backward_weights::primitive_desc(
              dnnl::convolution_backward_weights::desc(
                  alg, anyX, anyLayout(dw.shape, dw.type), anyG, bwdStrides,
                  bwdDilations, padL, padR),
              getEngine(), hint);
        });
    p->form = ConvForm::FilterGradient;
    p->conv = dnnl::convolution_backward_weights(pd);
    finish(x, pd.src_desc(), DNNL_ARG_SRC, g, pd.diff_dst_desc(),
           DNNL_ARG_DIFF_DST, dw, pd.diff_weights_desc(),
           DNNL_ARG_DIFF_WEIGHTS);
    return p;
  }
  dims flippedPadL(2), flippedPadR(2);
  bool inputGradient = !accumulate && k.size() == 4 && strides == dims{1, 1};
  for (int i = 0; i < 2 && inputGradient; ++i) {
    int64_t extent = (k[2 + i] - 1) * (dilations[i] + 1) + 1;
    flippedPadL[i] = extent - 1 - padL[i];
    flippedPadR[i] = extent - 1 - padR[i];
    inputGradient = flippedPadL[i] >= 0 && flippedPadR[i] >= 0 &&
                    flippedPadL[i] + flippedPadR[i] < padL[i] + padR[i];
  }
  if (inputGradient) {
    // The roles of the caller's operands: output = dx, input = g.
    Plain w{{k[1], k[0], k[2], k[3]}, {k[0] * k[2] * k[3], k[2] * k[3], k[3], 1},
            nullptr, filter.type};
    auto anyDx = anyLayout(output.shape, output.type),
         anyG = anyLayout(input.shape, input.type),
         anyW = anyLayout(w.shape, w.type);
    // oneDNN's winograd backward-data kernel computes wrong values when a
    // dim's two pads differ (found through Inception v3's gradients: a 3x3
    // stride-2 convolution on an odd map; a forward convolution after an
    // asymmetric ZeroPad2d lands here too): direct for those.
    dnnl::algorithm algorithm = flippedPadL == flippedPadR
                                    ? convAlgorithm(w, strides, dilations)
                                    : dnnl::algorithm::convolution_direct;
    auto pd = withAlgorithm(
        algorithm, [&](dnnl::algorithm alg) {
          dnnl::convolution_forward::primitive_desc hint(
              dnnl::convolution_forward::desc(
                  dnnl::prop_kind::forward_training, alg,
                  anyLayout(output.shape, input.type), anyW, anyG, strides,
                  dilations, flippedPadL, flippedPadR),
              getEngine());
          return dnnl::convolution_backward_data::primitive_desc(
              dnnl::convolution_backward_data::desc(alg, anyDx, anyW, anyG,
                                                    strides, dilations,
                                                    flippedPadL, flippedPadR),
              getEngine(), hint);
        });
    p->form = ConvForm::InputGradient;
    p->conv = dnnl::convolution_backward_data(pd);
    finish(input, pd.diff_dst_desc(), DNNL_ARG_DIFF_DST, w, pd.weights_desc(),
           DNNL_ARG_WEIGHTS, output, pd.diff_src_desc(), DNNL_ARG_DIFF_SRC);
    return p;
  }
  // A pointwise convolution (1x1, stride 1, no padding) reads and writes
  // the caller's layout: oneDNN's fastest kernels for it want NHWC, and the
  // reorders of the activation there and back cost more than the kernel
  // gains (ResNet-50's bottlenecks: about a fifth of an inference); on
  // plain NCHW it is one GEMM per image. f32 only: the bf16 form was not
  // measured.
  bool pointwise = filter.type == dnnl::memory::data_type::f32 &&
                   k.size() == 4 && k[2] == 1 && k[3] == 1 &&
                   strides == dims{1, 1} && padL == dims{0, 0} &&
                   padR == dims{0, 0} && pointwiseInPlace();
  auto pd = withAlgorithm(
      convAlgorithm(filter, strides, dilations), [&](dnnl::algorithm alg) {
        return dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(
                dnnl::prop_kind::forward_inference, alg,
                pointwise ? input.desc() : anyLayout(input.shape, input.type),
                anyLayout(filter.shape, filter.type),
                pointwise ? output.desc()
                          : anyLayout(output.shape, output.type),
                strides, dilations, padL, padR),
            accumulateAttr(accumulate), getEngine());
      });
  p->conv = dnnl::convolution_forward(pd);
  finish(input, pd.src_desc(), DNNL_ARG_SRC, filter, pd.weights_desc(),
         DNNL_ARG_WEIGHTS, output, pd.dst_desc(), DNNL_ARG_DST);
  return p;
}

} // namespace

void conv2d(const char *name, Plain input, Plain filter, Plain output,
            const WindowParams &w, bool accumulate, bool constantFilter,
            int64_t hints) {
  if (output.numElements() == 0)
    return;
  dims padL, padR;
  fitSpatialDims(name, input, output, w, padL, padR);
  dims strides{w.stride[0], w.stride[1]};
  // oneDNN counts dilation from 0 (0 = dense).
  dims dilations{w.dilation[0] - 1, w.dilation[1] - 1};
  CacheKey key{static_cast<int64_t>(KernelId::Conv2d), accumulate};
  input.appendTo(key);
  filter.appendTo(key);
  output.appendTo(key);
  appendToKey(key, strides);
  appendToKey(key, dilations);
  appendToKey(key, padL);
  appendToKey(key, padR);
  try {
    auto plan = getCached<ConvPlan>(key, [&] {
      return planConv2d(input, filter, output, strides, dilations, padL, padR,
                        accumulate);
    });
    for (int i = 0; i < 2; ++i)
      if (!(hints >> (2 * i) & 1))
        ReorderCache::invalidate(i == 0 ? input.data : filter.data);
    if (plan->form == ConvForm::FilterGradient) {
      input = swapFirstTwo(input);
      filter = swapFirstTwo(filter);
      output = swapFirstTwo(output);
    } else if (plan->form == ConvForm::InputGradient) {
      filter = flipFilter(filter);
    }
    dnnl::stream &stream = getStream();
    std::unordered_map<int, dnnl::memory> args;
    const Plain *users[2] = {&input, &filter};
    const Scratch::Slot slots[2] = {Scratch::Src, Scratch::Weights};
    for (int i = 0; i < 2; ++i) {
      const ConvOperand &op = plan->inputs[i];
      dnnl::memory m = users[i]->memory();
      // A flipped filter is a copy in scratch; a constant one is cached by
      // getConstantWeights: neither goes through the ReorderCache.
      bool flipped = i == 1 && plan->form == ConvForm::InputGradient;
      bool constant = i == 1 && constantFilter;
      bool hinted = !flipped && !constant && (hints >> (2 * i) & 3);
      if (op.reorder)
        m = constant && plan->form == ConvForm::Forward
                ? getConstantWeights(filter, op.reorder, op.desc)
            : hinted ? ReorderCache::get(op.reorder, m, op.desc, slots[i],
                                         hints >> (2 * i + 1) & 1)
                     : reorderToScratch(op.reorder, m, op.desc, slots[i]);
      args[op.arg] = m;
    }
    dnnl::memory userDst = output.memory();
    dnnl::memory dst = userDst;
    if (plan->output.reorder) {
      dst = scratchMemory(plan->output.desc, Scratch::Dst);
      if (plan->accumulateIn)
        plan->accumulateIn.execute(
            stream, {{DNNL_ARG_FROM, userDst}, {DNNL_ARG_TO, dst}});
    }
    args[plan->output.arg] = dst;
    plan->conv.execute(stream, args);
    if (plan->output.reorder)
      plan->output.reorder.execute(
          stream, {{DNNL_ARG_FROM, dst}, {DNNL_ARG_TO, userDst}});
    stream.wait();
  } catch (const dnnl::error &e) {
    fail(name, e);
  }
}

} // namespace cpu
} // namespace vitc::kernels
