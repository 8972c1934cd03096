//===- OpHelpers.h - rule templates shared by the op files --------*- C++ -*-===//
#ifndef VITC_FRONTEND_ONNX_OPHELPERS_H
#define VITC_FRONTEND_ONNX_OPHELPERS_H

#include "ImporterImpl.h"

namespace vitc::onnx_import {

inline RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// One input, same type out: neg, exp, relu, ...
template <typename OpTy>
LogicalResult importUnary(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  n.setResult(0, OpTy::create(n.builder(), n.loc(), x.getType(), x));
  return success();
}

/// Two inputs with numpy broadcasting: add, mul, equal, ...
template <typename OpTy>
LogicalResult importBinary(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  auto result = n.build<OpTy>(n.input(0), n.input(1));
  if (failed(result))
    return failure();
  n.setResult(0, *result);
  return success();
}

/// Left fold of a variadic op (Min, Max, Sum) over its inputs.
template <typename OpTy>
FailureOr<Value> foldInputs(NodeImporter &n) {
  SmallVector<Value> ins = n.inputs();
  if (ins.empty())
    return n.error() << "expects at least one input";
  Value acc = ins.front();
  for (Value v : llvm::drop_begin(ins)) {
    auto next = n.build<OpTy>(acc, v);
    if (failed(next))
      return failure();
    acc = *next;
  }
  return acc;
}

template <typename OpTy>
LogicalResult importVariadic(NodeImporter &n) {
  auto result = foldInputs<OpTy>(n);
  if (failed(result))
    return failure();
  n.setResult(0, *result);
  return success();
}

/// `a <op> b || a == b` for LessOrEqual / GreaterOrEqual, as
/// select(a <op> b, true, a == b): exact for NaN too, unlike not(a > b).
template <typename StrictOp>
LogicalResult importOrEqual(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  auto strict = n.build<StrictOp>(n.input(0), n.input(1));
  if (failed(strict))
    return failure();
  Value equal = *n.build<vitc::vt::EqualOp>(n.input(0), n.input(1));
  Value yes = n.scalar(n.builder().getI1Type(), 1);
  n.setResult(0, *n.build<vitc::vt::SelectOp>(*strict, yes, equal));
  return success();
}

/// Kernel, strides, pads (all begins, then all ends: [top, left, bottom,
/// right] in 2-D) and dilations of a window op, with ONNX defaults and
/// auto_pad resolved.
struct Window {
  SmallVector<int64_t> kernel, strides, pads, dilations;
};

/// Reads the window attributes of Conv/MaxPool/AveragePool on an input of
/// rank 3, 4 or 5 (1-, 2- or 3-D windows). `kernel` is taken from
/// `kernel_shape` or, when absent, from `defaultKernel` (Conv's filter
/// dims). SAME_UPPER/SAME_LOWER need static spatial dims. A 1-D window (3-D
/// input) comes back as a 2-D one of height 1.
FailureOr<Window> readWindow(NodeImporter &n, RankedTensorType input,
                             ArrayRef<int64_t> defaultKernel);

/// MaxPool's Indices output for an N x C x spatial... input `x` (2 or 3
/// spatial dims) whose max pool over window `w` is `values`, which must have
/// static channel and spatial dims: per output, the flat index of the first
/// maximum of its window (scan order) into x as if it were flattened,
/// row-major (storage_order 0) or with the spatial dims in reverse
/// (column-major, 1). MaxPoolIndices.cpp.
FailureOr<Value> maxPoolIndices(NodeImporter &n, Value x, const Window &w,
                                Value values);

/// Output extent of a sliding window along one dim, ONNX's formula (floor,
/// or ceil mode, where the last window must start inside the input or its
/// leading pad), as vt's pooling ops infer it. kDynamic for a dynamic `in`.
int64_t windowOutput(int64_t in, int64_t kernel, int64_t stride, int64_t padLo,
                     int64_t padHi, int64_t dilation, bool ceil);

/// How many of the window taps start + t * dilation (t < kernel) lie in
/// [0, in) or, with `includePad`, in [-padLo, in + padHi): the divisor of
/// average pooling along one dim (ONNX's reference; PyTorch's without
/// dilations).
int64_t windowCount(int64_t start, int64_t kernel, int64_t dilation,
                    int64_t in, int64_t padLo, int64_t padHi, bool includePad);

/// The most outputs per dim whose window counts the importer tabulates as
/// constants (average pooling with dilations, or along depth).
constexpr int64_t kMaxCountedOutputs = int64_t(1) << 20;

/// Average pooling of an NCHW `x` with dilations, which vt.avg_pool2d lacks:
/// the window sums are a depthwise vt.conv2d with a dilated filter of ones
/// (zero padded, its trailing pads as far as ceil mode's last window
/// reaches), scaled by each window's reciprocal count (windowCount of its
/// row times that of its column). Needs static channel and spatial dims.
FailureOr<Value> avgPool2dDilated(NodeImporter &n, Value x, const Window &w,
                                  bool includePad, bool ceil);

/// 1-D convolution and pooling run as 2-D ones of height 1: an [N, C, L]
/// operand viewed as [N, C, 1, L] (other ranks pass through), and a result
/// [N, C, 1, L'] viewed back as [N, C, L'] when its operand was lifted.
FailureOr<Value> liftTo2d(NodeImporter &n, Value x);
FailureOr<Value> lowerFrom2d(NodeImporter &n, Value y, bool wasLifted);

/// 3-D convolution and pooling on NCDHW input (OpsVolumetric.cpp), run as
/// 2-D ones over the depth positions folded into the batch: Conv, MaxPool
/// and AveragePool dispatch here on rank-5 input.
LogicalResult importConv3d(NodeImporter &n);
LogicalResult importMaxPool3d(NodeImporter &n);
LogicalResult importAveragePool3d(NodeImporter &n);

/// Softmax / LogSoftmax. Opset 13 normalises along `axis` (default -1);
/// earlier opsets flatten to 2-D at `axis` (default 1), which matches a
/// single-axis softmax only when `axis` is the last dim.
LogicalResult importSoftmaxLike(NodeImporter &n, bool log);

/// The constant axes of a reduction-like node: the `axes` attribute before
/// `inputSinceOpset`, the optional input `inputIndex` from it on. nullopt
/// when none are given.
FailureOr<std::optional<SmallVector<int64_t>>>
readAxes(NodeImporter &n, int64_t inputSinceOpset, unsigned inputIndex);

/// Uniform f32 values in [0, 1) of `type`'s shape (its element type is
/// ignored), drawn from vt.random_uniform keyed by the model's seed; the
/// stream is the node's index, and `draw` > 0 gives the node further
/// independent draws. `like`, when given, supplies the shape at run time of
/// a type with dynamic dims.
Value uniformDraw(NodeImporter &n, RankedTensorType type, Value like,
                  int64_t draw = 0);

/// Random{Uniform,Normal}{,Like} and Bernoulli (OpsRandom.cpp), registered
/// with the op files of their initials.
LogicalResult importRandomUniform(NodeImporter &n);
LogicalResult importRandomUniformLike(NodeImporter &n);
LogicalResult importRandomNormal(NodeImporter &n);
LogicalResult importRandomNormalLike(NodeImporter &n);
LogicalResult importBernoulli(NodeImporter &n);

} // namespace vitc::onnx_import

#endif // VITC_FRONTEND_ONNX_OPHELPERS_H
