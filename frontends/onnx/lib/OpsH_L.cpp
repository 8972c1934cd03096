//===- OpsH_L.cpp - import rules for ONNX ops HardSigmoid .. LogSoftmax ------===//
#include "OpHelpers.h"

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static LogicalResult importHardSigmoid(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  OpBuilder &b = n.builder();
  n.setResult(0, vt::HardSigmoidOp::create(
                     b, n.loc(), x.getType(), x,
                     b.getF64FloatAttr(n.attrFloat("alpha", 0.2)),
                     b.getF64FloatAttr(n.attrFloat("beta", 0.5))));
  return success();
}

static LogicalResult importIdentity(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  n.setResult(0, n.input(0));
  return success();
}

/// LayerNormalization; the optional Mean and InvStdDev outputs (the
/// statistics over the normalised dims, kept as size-1 dims) are computed
/// from vt reductions when asked for.
static LogicalResult importLayerNormalization(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  auto axis = n.normalizeAxis(n.attrInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  double epsilon = n.attrFloat("epsilon", 1e-5);
  OpBuilder &b = n.builder();
  n.setResult(0, vt::LayerNormOp::create(b, n.loc(), x.getType(), x, n.input(1),
                                         n.input(2), b.getI64IntegerAttr(*axis),
                                         b.getF64FloatAttr(epsilon)));
  if (!n.hasOutput(1) && !n.hasOutput(2))
    return success();
  SmallVector<int64_t> axes;
  for (int64_t d = *axis; d < type.getRank(); ++d)
    axes.push_back(d);
  auto mean = n.build<vt::ReduceMeanOp>(x, axes, /*keepdims=*/true);
  if (failed(mean))
    return failure();
  n.setResult(1, *mean);
  if (!n.hasOutput(2))
    return success();
  // The shapes and types match by construction from here on.
  Value centered = *n.build<vt::SubOp>(x, *mean);
  Value variance = *n.build<vt::ReduceMeanOp>(
      *n.build<vt::MulOp>(centered, centered), axes, /*keepdims=*/true);
  Value shifted = *n.build<vt::AddOp>(
      variance, n.scalar(type.getElementType(), epsilon));
  n.setResult(2, vt::RsqrtOp::create(b, n.loc(), shifted.getType(), shifted));
  return success();
}

/// InstanceNormalization: each (sample, channel) plane normalised over its
/// spatial dims, then scaled and shifted per channel. Built from reductions
/// and elementwise ops, which fuse into kernels and differentiate.
static LogicalResult importInstanceNormalization(NodeImporter &n) {
  if (failed(n.expectInputs(3)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  int64_t rank = type.getRank();
  if (rank < 3)
    return n.error() << "expects an input of rank 3 or more (N, C, D...), got "
                     << x.getType();
  if (!isa<FloatType>(type.getElementType()))
    return n.error() << "expects a float input, got " << x.getType();
  Type elt = type.getElementType();
  int64_t channels = type.getDimSize(1);
  for (unsigned i : {1u, 2u}) {
    auto param = tensorType(n.input(i));
    if (param.getRank() != 1 ||
        (!param.isDynamicDim(0) && channels != ShapedType::kDynamic &&
         param.getDimSize(0) != channels))
      return n.error() << (i == 1 ? "scale" : "B") << " must hold one value "
                       << "per channel of " << x.getType() << ", got "
                       << n.input(i).getType();
  }
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  // [C] -> [C, 1, ...], which broadcasts over [N, C, D...].
  SmallVector<int64_t> perChannel(rank - 1, 1);
  perChannel[0] = -1;
  auto scale = n.reshapeToDims(n.castTo(n.input(1), elt), perChannel);
  auto bias = n.reshapeToDims(n.castTo(n.input(2), elt), perChannel);
  auto mean = n.build<vt::ReduceMeanOp>(x, axes, /*keepdims=*/true);
  if (failed(scale) || failed(bias) || failed(mean))
    return failure();
  auto centered = n.build<vt::SubOp>(x, *mean);
  if (failed(centered))
    return failure();
  Value variance = *n.build<vt::ReduceMeanOp>(
      *n.build<vt::MulOp>(*centered, *centered), axes, /*keepdims=*/true);
  Value shifted = *n.build<vt::AddOp>(
      variance, n.scalar(elt, n.attrFloat("epsilon", 1e-5)));
  Value invStd =
      vt::RsqrtOp::create(n.builder(), n.loc(), shifted.getType(), shifted);
  auto scaled = n.build<vt::MulOp>(*n.build<vt::MulOp>(*centered, invStd),
                                   *scale);
  if (failed(scaled))
    return n.error() << "scale of shape " << n.input(1).getType()
                     << " does not match the channels of " << x.getType();
  return n.setResult(0, n.build<vt::AddOp>(*scaled, *bias));
}

static LogicalResult importLeakyRelu(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  n.setResult(0, vt::LeakyReluOp::create(
                     n.builder(), n.loc(), x.getType(), x,
                     n.builder().getF64FloatAttr(n.attrFloat("alpha", 0.01))));
  return success();
}

static LogicalResult importLogSoftmax(NodeImporter &n) {
  return importSoftmaxLike(n, /*log=*/true);
}

void vitc::onnx_import::registerOpsHtoL(OpRegistry &r) {
  r.add("HardSigmoid", 6, importHardSigmoid);
  r.add("HardSwish", 14, importUnary<vt::HardSwishOp>);
  r.add("Identity", 1, importIdentity);
  r.add("InstanceNormalization", 6, importInstanceNormalization);
  r.add("LayerNormalization", 17, importLayerNormalization);
  r.add("LeakyRelu", 6, importLeakyRelu);
  r.add("Less", 7, importBinary<vt::LessOp>);
  r.add("LessOrEqual", 12, importOrEqual<vt::LessOp>);
  r.add("Log", 6, importUnary<vt::LogOp>);
  r.add("LogSoftmax", 1, importLogSoftmax);
}
