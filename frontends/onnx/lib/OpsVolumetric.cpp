//===- OpsVolumetric.cpp - 3-D convolution and pooling as 2-D ones ----------===//
//
// Conv, MaxPool and AveragePool on NCDHW input lower onto vt.conv2d and the
// 2-D pools, so their gradients are the existing rules'. The input is padded
// along depth and its depth moved next to the batch, [N, Dp, C, H, W]; a
// strided depth slice (the positions od * sD + kd * dilD of one window
// offset kd) folded into the batch, [N * Do, C, H, W], is a 2-D problem:
//  - Conv: one vt.conv2d per kd with the filter's kd plane, summed (the bias
//    in the first only);
//  - MaxPool: one 2-D pool over all [N * Dp] planes, then the elementwise
//    max of its kD depth slices (the depth pad is -inf);
//  - AveragePool: one 2-D average pool (avgPool2dDilated where H or W is
//    dilated), then the sum of its depth slices divided by each output
//    depth's window count (zero depth pad; windows are boxes, so the count
//    is the depth count times the 2-D one, which the 2-D pool already
//    divides by).
// The depth must be static; the batch may be dynamic.
//
//===----------------------------------------------------------------------===//
#include "OpHelpers.h"

#include <limits>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

/// In a dims list for reshapeTo: vt.reshape's -1 (what the element count
/// leaves). Other entries are static sizes (>= 0) or -(j + 1) for the
/// input's dim j, read at run time where it is dynamic.
static constexpr int64_t kInferred = std::numeric_limits<int64_t>::min();

static FailureOr<Value> reshapeTo(NodeImporter &n, Value x,
                                  ArrayRef<int64_t> dims) {
  OpBuilder &b = n.builder();
  auto type = tensorType(x);
  SmallVector<Value> pieces;
  SmallVector<int64_t> run;
  Value shape;
  for (int64_t d : dims) {
    if (d == kInferred || d >= 0) {
      run.push_back(d == kInferred ? -1 : d);
      continue;
    }
    int64_t j = -d - 1;
    if (!type.isDynamicDim(j)) {
      run.push_back(type.getDimSize(j));
      continue;
    }
    if (!run.empty())
      pieces.push_back(n.constI64(run));
    run.clear();
    if (!shape)
      shape = vt::ShapeOfOp::create(
          b, n.loc(), RankedTensorType::get({type.getRank()}, b.getI64Type()),
          x);
    auto dim =
        n.build<vt::GatherOp>(shape, n.constI64({j}), b.getI64IntegerAttr(0));
    if (failed(dim))
      return failure();
    pieces.push_back(*dim);
  }
  if (!run.empty())
    pieces.push_back(n.constI64(run));
  Value target = pieces.front();
  if (pieces.size() > 1) {
    auto joined = n.build<vt::ConcatOp>(pieces, b.getI64IntegerAttr(0));
    if (failed(joined))
      return failure();
    target = *joined;
  }
  return n.reshape(x, target);
}

namespace {
/// The depth side of a 3-D window op; the H and W sides go to the 2-D op.
struct DepthWindow {
  int64_t in, out, kernel, stride, dilation, padLo, padHi;

  /// The first input depth (of the padded input) that offset `k` reads.
  int64_t first(int64_t k) const { return k * dilation; }
};
} // namespace

/// Reads the window of a 3-D op on `x`, splitting off its depth side.
/// `window2d` gets the H and W sides, as the 2-D ops take them.
static FailureOr<DepthWindow> readDepthWindow(NodeImporter &n, Value x,
                                              ArrayRef<int64_t> defaultKernel,
                                              bool ceil, Window &window2d) {
  auto type = tensorType(x);
  auto w = readWindow(n, type, defaultKernel);
  if (failed(w))
    return failure();
  DepthWindow d{type.getDimSize(2), 0,          w->kernel[0], w->strides[0],
                w->dilations[0],    w->pads[0], w->pads[3]};
  if (d.in == ShapedType::kDynamic)
    return n.error() << "3-D windows need a static depth, got " << type;
  // One 2-D op or slice per depth offset: bounded, whatever the model says.
  constexpr int64_t kMaxDepthTaps = 1024;
  if (d.kernel > kMaxDepthTaps)
    return n.error() << "3-D windows support kernel depths up to "
                     << kMaxDepthTaps << ", got " << d.kernel;
  d.out = windowOutput(d.in, d.kernel, d.stride, d.padLo, d.padHi, d.dilation,
                       ceil);
  if (d.out > kMaxCountedOutputs)
    return n.error() << "3-D windows support up to " << kMaxCountedOutputs
                     << " output depths, got " << d.out;
  if (d.out < 1)
    return n.error() << "the window (kernel " << d.kernel << ", dilation "
                     << d.dilation << ") does not fit the depth " << d.in
                     << " with pads " << d.padLo << " and " << d.padHi;
  window2d.kernel = {w->kernel[1], w->kernel[2]};
  window2d.strides = {w->strides[1], w->strides[2]};
  window2d.dilations = {w->dilations[1], w->dilations[2]};
  window2d.pads = {w->pads[1], w->pads[2], w->pads[4], w->pads[5]};
  return d;
}

/// x [N, C, D, H, W] padded along depth with `value` (the leading pad as
/// given, the trailing one as far as the last window reaches: ceil mode may
/// reach past the given pad) and transposed to [N, Dp, C, H, W].
static FailureOr<Value> depthFirst(NodeImporter &n, Value x,
                                   const DepthWindow &d,
                                   const llvm::APFloat &value) {
  int64_t reach = (d.out - 1) * d.stride + d.first(d.kernel - 1) + 1;
  int64_t padHi = std::max<int64_t>(0, reach - d.padLo - d.in);
  if (d.padLo || padHi) {
    auto padded = n.build<vt::PadOp>(
        x, ArrayRef<int64_t>{0, 0, d.padLo, 0, 0, 0, 0, padHi, 0, 0}, value);
    if (failed(padded))
      return failure();
    x = *padded;
  }
  return n.build<vt::TransposeOp>(x, ArrayRef<int64_t>{0, 2, 1, 3, 4});
}

/// The depth slice of window offset `k` of t [N, Dp, ...] along dim 1:
/// [N, Do, ...].
static FailureOr<Value> depthTap(NodeImporter &n, Value t,
                                 const DepthWindow &d, int64_t k) {
  SmallVector<int64_t> starts(5, 0), ends(5, INT64_MAX), steps(5, 1);
  starts[1] = d.first(k);
  ends[1] = d.first(k) + (d.out - 1) * d.stride + 1;
  steps[1] = d.stride;
  return n.build<vt::SliceOp>(t, starts, ends, steps);
}

/// [N, A, C, H, W] -> [N * A, C, H, W].
static FailureOr<Value> foldIntoBatch(NodeImporter &n, Value t) {
  return reshapeTo(n, t, {kInferred, -3, -4, -5});
}

/// [N * A, C, H, W] -> [N, C, A, H, W].
static FailureOr<Value> unfoldFromBatch(NodeImporter &n, Value y, int64_t a) {
  auto split = reshapeTo(n, y, {kInferred, a, -2, -3, -4});
  if (failed(split))
    return failure();
  return n.build<vt::TransposeOp>(*split, ArrayRef<int64_t>{0, 2, 1, 3, 4});
}

LogicalResult vitc::onnx_import::importConv3d(NodeImporter &n) {
  Value x = n.input(0), w = n.input(1), bias = n.input(2);
  auto wType = tensorType(w);
  Window win;
  auto d = readDepthWindow(n, x, wType.getShape().drop_front(2),
                           /*ceil=*/false, win);
  if (failed(d))
    return failure();
  if (wType.isDynamicDim(2) || wType.getDimSize(2) != d->kernel)
    return n.error() << "kernel_shape does not match the filter " << wType;
  for (int i = 0; i < 2; ++i)
    if (!wType.isDynamicDim(3 + i) &&
        win.kernel[i] != wType.getDimSize(3 + i))
      return n.error() << "kernel_shape does not match the filter " << wType;
  auto t = depthFirst(n, x, *d, llvm::APFloat(0.0));
  if (failed(t))
    return failure();
  Value sum;
  for (int64_t k = 0; k < d->kernel; ++k) {
    auto tap = depthTap(n, *t, *d, k);
    if (failed(tap))
      return failure();
    auto planes = foldIntoBatch(n, *tap);
    if (failed(planes))
      return failure();
    auto plane = n.build<vt::SliceOp>(
        w, ArrayRef<int64_t>{0, 0, k, 0, 0},
        ArrayRef<int64_t>{INT64_MAX, INT64_MAX, k + 1, INT64_MAX, INT64_MAX},
        ArrayRef<int64_t>{1, 1, 1, 1, 1});
    if (failed(plane))
      return failure();
    auto filter = n.reshapeToDims(*plane, {-1, -2, -4, -5});
    if (failed(filter))
      return failure();
    auto y = n.build<vt::Conv2dOp>(*planes, *filter, k == 0 ? bias : Value(),
                                   win.strides, win.pads, win.dilations,
                                   (uint64_t)n.attrInt("group", 1));
    if (failed(y))
      return failure();
    sum = sum ? *n.build<vt::AddOp>(sum, *y) : *y;
  }
  return n.setResult(0, unfoldFromBatch(n, sum, d->out));
}

/// The 2-D pool over the depth-padded planes, then the depth window of its
/// result reduced: the elementwise max, or the sum scaled by the reciprocal
/// of each output depth's count (avg).
static LogicalResult importPool3d(NodeImporter &n, bool max) {
  Value x = n.input(0);
  bool ceil = n.attrInt("ceil_mode", 0) != 0;
  bool includePad = n.attrInt("count_include_pad", 0) != 0;
  Window win;
  auto d = readDepthWindow(n, x, {}, ceil, win);
  if (failed(d))
    return failure();
  llvm::APFloat fill =
      max ? llvm::APFloat::getInf(llvm::APFloat::IEEEdouble(), /*Negative=*/true)
          : llvm::APFloat(0.0);
  auto t = depthFirst(n, x, *d, fill);
  if (failed(t))
    return failure();
  int64_t paddedDepth = tensorType(*t).getDimSize(1);
  auto planes = foldIntoBatch(n, *t);
  if (failed(planes))
    return failure();
  bool dilated = llvm::any_of(win.dilations, [](int64_t v) { return v != 1; });
  FailureOr<Value> pooled =
      max       ? n.build<vt::MaxPool2dOp>(*planes, win.kernel, win.strides,
                                           win.pads, win.dilations, ceil)
      : dilated ? avgPool2dDilated(n, *planes, win, includePad, ceil)
                : n.build<vt::AvgPool2dOp>(*planes, win.kernel, win.strides,
                                           win.pads, includePad, ceil);
  if (failed(pooled))
    return failure();
  auto split = reshapeTo(n, *pooled, {kInferred, paddedDepth, -2, -3, -4});
  if (failed(split))
    return failure();
  Value acc;
  for (int64_t k = 0; k < d->kernel; ++k) {
    auto tap = depthTap(n, *split, *d, k);
    if (failed(tap))
      return failure();
    // Ties go to the earlier depth (vt.max's lhs), as the first maximum in
    // scan order.
    acc = !acc  ? *tap
          : max ? *n.build<vt::MaxOp>(acc, *tap)
                : *n.build<vt::AddOp>(acc, *tap);
  }
  if (!max) {
    // Per output depth: its taps inside the input, or inside the input
    // and its pads, as the 2-D pool counts along H and W.
    SmallVector<double> scale;
    for (int64_t o = 0; o < d->out; ++o) {
      int64_t count = windowCount(o * d->stride - d->padLo, d->kernel,
                                  d->dilation, d->in, d->padLo, d->padHi,
                                  includePad);
      if (count == 0)
        return n.error() << "output depth " << o
                         << " has a window inside the padding only (pads "
                         << d->padLo << " and " << d->padHi << ", kernel "
                         << d->kernel << ")";
      scale.push_back(1.0 / (double)count);
    }
    auto eltType = cast<FloatType>(tensorType(acc).getElementType());
    Value factor;
    if (llvm::all_equal(scale)) {
      factor = n.scalar(eltType, scale.front());
    } else {
      auto type = RankedTensorType::get({d->out, 1, 1, 1}, eltType);
      SmallVector<Attribute> values;
      for (double s : scale)
        values.push_back(FloatAttr::get(eltType, s));
      factor = vt::ConstantOp::create(n.builder(), n.loc(), type,
                                      DenseElementsAttr::get(type, values),
                                      StringAttr());
    }
    auto scaled = n.build<vt::MulOp>(acc, factor);
    if (failed(scaled))
      return failure();
    acc = *scaled;
  }
  auto result = n.build<vt::TransposeOp>(acc, ArrayRef<int64_t>{0, 2, 1, 3, 4});
  if (failed(result))
    return failure();
  if (max && n.hasOutput(1)) {
    // The indices have no gradient: the values keep max_pool2d's.
    Window volume{{d->kernel, win.kernel[0], win.kernel[1]},
                  {d->stride, win.strides[0], win.strides[1]},
                  {d->padLo, win.pads[0], win.pads[1], d->padHi, win.pads[2],
                   win.pads[3]},
                  {d->dilation, win.dilations[0], win.dilations[1]}};
    auto indices = maxPoolIndices(n, x, volume, *result);
    if (failed(n.setResult(1, indices)))
      return failure();
  }
  return n.setResult(0, result);
}

LogicalResult vitc::onnx_import::importMaxPool3d(NodeImporter &n) {
  return importPool3d(n, /*max=*/true);
}

LogicalResult vitc::onnx_import::importAveragePool3d(NodeImporter &n) {
  return importPool3d(n, /*max=*/false);
}
