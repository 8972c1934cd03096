//===- OpHelpers.cpp - attribute readers shared by several rules -------------===//
#include "OpHelpers.h"

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
