//===- OpHelpers.cpp - attribute readers shared by several rules -------------===//
#include "OpHelpers.h"

using namespace mlir;
using namespace vitc::onnx_import;

FailureOr<Window2d>
vitc::onnx_import::readWindow2d(NodeImporter &n, RankedTensorType input,
                                ArrayRef<int64_t> defaultKernel) {
  // A 1-D window (NCL input) is read as a 2-D one of height 1 over the
  // input viewed as [N, C, 1, L] (liftTo2d).
  bool oneD = input.getRank() == 3;
  if (input.getRank() != 4 && !oneD)
    return n.error() << "only 1-D and 2-D windows (3-D NCL or 4-D NCHW input) "
                        "are supported, got "
                     << input;
  size_t dims = oneD ? 1 : 2;
  Window2d w;
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
  if (oneD) {
    w.kernel.insert(w.kernel.begin(), 1);
    w.strides.insert(w.strides.begin(), 1);
    w.dilations.insert(w.dilations.begin(), 1);
    w.pads = {0, w.pads[0], 0, w.pads[1]};
    input = RankedTensorType::get({input.getDimSize(0), input.getDimSize(1), 1,
                                   input.getDimSize(2)},
                                  input.getElementType());
  }
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
  if (autoPad == "NOTSET")
    return w;
  if (autoPad == "VALID") {
    w.pads.assign(4, 0);
    return w;
  }
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return n.error() << "unknown auto_pad '" << autoPad << "'";
  // SAME: output = ceil(input / stride); the total padding is split evenly,
  // the odd element going to the end (UPPER) or the beginning (LOWER).
  for (int i = 0; i < 2; ++i) {
    int64_t in = input.getDimSize(2 + i);
    if (in == ShapedType::kDynamic)
      return n.error() << "auto_pad " << autoPad
                       << " needs static spatial dims, got " << input;
    int64_t out = (in + w.strides[i] - 1) / w.strides[i];
    int64_t total = std::max<int64_t>(
        0, (out - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1 -
               in);
    int64_t small = total / 2, large = total - small;
    w.pads[i] = autoPad == "SAME_UPPER" ? small : large;
    w.pads[2 + i] = autoPad == "SAME_UPPER" ? large : small;
  }
  return w;
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
