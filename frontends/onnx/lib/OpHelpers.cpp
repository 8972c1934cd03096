//===- OpHelpers.cpp - attribute readers shared by several rules -------------===//
#include "OpHelpers.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace vitc::onnx_import;

FailureOr<Window>
vitc::onnx_import::readWindow(NodeImporter &n, RankedTensorType input,
                              ArrayRef<int64_t> defaultKernel) {
  int64_t rank = input.getRank();
  if (rank < 3 || rank > 5)
    return n.error() << "only 1-D, 2-D and 3-D windows (3-D NCL, 4-D NCHW or "
                        "5-D NCDHW input) are supported, got "
                     << input;
  size_t dims = rank - 2;
  Window w;
  w.kernel = n.attrInts("kernel_shape")
                 .value_or(SmallVector<int64_t>(defaultKernel));
  w.strides = n.attrInts("strides").value_or(SmallVector<int64_t>(dims, 1));
  w.dilations = n.attrInts("dilations").value_or(SmallVector<int64_t>(dims, 1));
  w.pads = n.attrInts("pads").value_or(SmallVector<int64_t>(2 * dims, 0));
  if (w.kernel.size() != dims || w.strides.size() != dims ||
      w.dilations.size() != dims || w.pads.size() != 2 * dims)
    return n.error() << "expected " << dims << " kernel dims, strides and "
                     << "dilations and " << 2 * dims << " pads for a "
                     << dims << "-D window";
  // Bounded so that the window arithmetic here and in the vt ops' type
  // inference cannot overflow, whatever the model says.
  constexpr int64_t kMaxWindow = int64_t(1) << 31;
  auto within = [&](ArrayRef<int64_t> values, int64_t lo) {
    return llvm::all_of(values,
                        [&](int64_t v) { return v >= lo && v < kMaxWindow; });
  };
  if (!within(w.kernel, 1) || !within(w.strides, 1) ||
      !within(w.dilations, 1) || !within(w.pads, 0))
    return n.error() << "kernel_shape, strides and dilations must be in "
                        "[1, 2^31), pads in [0, 2^31)";

  std::string autoPad = n.attrString("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    w.pads.assign(2 * dims, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // SAME: output = ceil(input / stride); the total padding is split
    // evenly, the odd element going to the end (UPPER) or the beginning
    // (LOWER).
    for (size_t i = 0; i < dims; ++i) {
      int64_t in = input.getDimSize(2 + i);
      if (in == ShapedType::kDynamic)
        return n.error() << "auto_pad " << autoPad
                         << " needs static spatial dims, got " << input;
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] +
                 1 - in);
      int64_t small = total / 2, large = total - small;
      w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
      w.pads[dims + i] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return n.error() << "unknown auto_pad '" << autoPad << "'";
  }
  // A 1-D window (NCL input) is read as a 2-D one of height 1 over the
  // input viewed as [N, C, 1, L] (liftTo2d).
  if (dims == 1) {
    w.kernel.insert(w.kernel.begin(), 1);
    w.strides.insert(w.strides.begin(), 1);
    w.dilations.insert(w.dilations.begin(), 1);
    w.pads = {0, w.pads[0], 0, w.pads[1]};
  }
  return w;
}

int64_t vitc::onnx_import::windowOutput(int64_t in, int64_t kernel,
                                        int64_t stride, int64_t padLo,
                                        int64_t padHi, int64_t dilation,
                                        bool ceil) {
  if (in == ShapedType::kDynamic)
    return ShapedType::kDynamic;
  int64_t span = in + padLo + padHi - dilation * (kernel - 1) - 1;
  if (span < 0)
    return 0;
  int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil && (out - 1) * stride >= in + padLo)
    --out;
  return out;
}

int64_t vitc::onnx_import::windowCount(int64_t start, int64_t kernel,
                                       int64_t dilation, int64_t in,
                                       int64_t padLo, int64_t padHi,
                                       bool includePad) {
  int64_t lo = includePad ? -padLo : 0, hi = includePad ? in + padHi : in;
  // Taps t in [0, kernel) with lo <= start + t * dilation < hi.
  auto firstAtOrAbove = [&](int64_t bound) {
    return std::clamp<int64_t>(llvm::divideCeilSigned(bound - start, dilation),
                               0, kernel);
  };
  return std::max<int64_t>(0, firstAtOrAbove(hi) - firstAtOrAbove(lo));
}

FailureOr<Value> vitc::onnx_import::avgPool2dDilated(NodeImporter &n, Value x,
                                                     const Window &w,
                                                     bool includePad,
                                                     bool ceil) {
  OpBuilder &b = n.builder();
  auto type = tensorType(x);
  auto elt = dyn_cast<FloatType>(type.getElementType());
  if (!elt)
    return n.error() << "expects a float input, got " << type;
  int64_t c = type.getDimSize(1);
  if (c == ShapedType::kDynamic || type.isDynamicDim(2) ||
      type.isDynamicDim(3))
    return n.error() << "average pooling with dilations needs static channel "
                        "and spatial dims, got "
                     << type;
  SmallVector<int64_t> pads(w.pads);
  SmallVector<double> counts[2];
  for (int i = 0; i < 2; ++i) {
    int64_t in = type.getDimSize(2 + i), k = w.kernel[i], s = w.strides[i],
            d = w.dilations[i], lo = w.pads[i], hi = w.pads[2 + i];
    int64_t out = windowOutput(in, k, s, lo, hi, d, ceil);
    if (out < 1)
      return n.error() << "the window (kernel " << k << ", dilation " << d
                       << ") does not fit dim " << 2 + i << " of " << type;
    if (out > kMaxCountedOutputs)
      return n.error() << "average pooling with dilations supports up to "
                       << kMaxCountedOutputs << " outputs per dim, got " << out;
    // The convolution's trailing pad: exactly as far as the last window
    // reaches, so that it has `out` outputs in ceil mode too.
    pads[2 + i] = std::max<int64_t>(0, (out - 1) * s + (k - 1) * d + 1 - lo - in);
    for (int64_t o = 0; o < out; ++o) {
      int64_t count = windowCount(o * s - lo, k, d, in, lo, hi, includePad);
      if (count == 0)
        return n.error() << "output " << o << " of dim " << 2 + i
                         << " has a window inside the padding only";
      counts[i].push_back((double)count);
    }
  }
  auto filterType = RankedTensorType::get({c, 1, w.kernel[0], w.kernel[1]}, elt);
  Value ones = vt::ConstantOp::create(
      b, n.loc(), filterType,
      DenseElementsAttr::get(filterType, FloatAttr::get(elt, 1.0)),
      StringAttr());
  auto sum = n.build<vt::Conv2dOp>(x, ones, Value(), w.strides, pads,
                                   w.dilations, (uint64_t)c);
  if (failed(sum))
    return failure();
  int64_t ho = counts[0].size(), wo = counts[1].size();
  auto scaleType = RankedTensorType::get({ho, wo}, elt);
  SmallVector<Attribute> scale;
  for (double ch : counts[0])
    for (double cw : counts[1])
      scale.push_back(FloatAttr::get(elt, 1.0 / (ch * cw)));
  Value factor = vt::ConstantOp::create(
      b, n.loc(), scaleType, DenseElementsAttr::get(scaleType, scale),
      StringAttr());
  return n.build<vt::MulOp>(*sum, factor);
}

FailureOr<std::optional<SmallVector<int64_t>>>
vitc::onnx_import::readAxes(NodeImporter &n, int64_t inputSinceOpset,
                            unsigned inputIndex) {
  if (n.opset() < inputSinceOpset)
    return std::optional<SmallVector<int64_t>>(n.attrInts("axes"));
  Value axes = n.input(inputIndex);
  if (!axes)
    return std::optional<SmallVector<int64_t>>();
  auto values = n.constantInts(axes, "input 'axes'");
  if (failed(values))
    return failure();
  return std::optional<SmallVector<int64_t>>(*values);
}

FailureOr<Value> vitc::onnx_import::liftTo2d(NodeImporter &n, Value x) {
  if (tensorType(x).getRank() != 3)
    return x;
  return n.reshapeToDims(x, {-1, -2, 1, -3});
}

FailureOr<Value> vitc::onnx_import::lowerFrom2d(NodeImporter &n, Value y,
                                                bool wasLifted) {
  if (!wasLifted)
    return y;
  return n.reshapeToDims(y, {-1, -2, -4});
}
