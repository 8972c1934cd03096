//===- OpsD_G.cpp - import rules for ONNX ops Div .. Greater -----------------===//
#include "OpHelpers.h"

#include <cstdio>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// Dropout's outputs: y and the optional mask (bool, or before opset 10 of
/// x's type). Without `drop` (inference import, a node not in training mode,
/// ratio 0) y = x and the mask is all true. With it, y = x * (u >= ratio) /
/// (1 - ratio), u uniform in [0, 1) from vt.random_uniform keyed by the
/// model's seed and, as the stream, the node's index: each Dropout draws its
/// own mask, and the backward pass reuses the forward's.
static LogicalResult buildDropout(NodeImporter &n, bool drop, double ratio,
                                  bool boolMask) {
  if (failed(n.expectInputs(1)))
    return failure();
  OpBuilder &b = n.builder();
  Value x = n.input(0);
  auto type = tensorType(x);
  Type elt = type.getElementType();
  auto setMask = [&](Value keep) {
    n.setResult(1, boolMask ? keep : n.castTo(keep, elt));
  };
  auto shapeOf = [&]() -> Value {
    return vt::ShapeOfOp::create(
        b, n.loc(), RankedTensorType::get({type.getRank()}, b.getI64Type()), x);
  };
  if (!drop) {
    n.setResult(0, x);
    if (n.hasOutput(1))
      setMask(vt::ExpandOp::create(b, n.loc(), type.clone(b.getI1Type()),
                                   n.scalar(b.getI1Type(), 1), shapeOf()));
    return success();
  }
  if (!isa<FloatType>(elt))
    return n.error() << "expects a float input, got " << x.getType();
  if (ratio < 0 || ratio >= 1) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", ratio);
    return n.error() << "ratio " << text << " is not in [0, 1)";
  }
  Value u = uniformDraw(n, type, x);
  Value dropped = *n.build<vt::LessOp>(u, n.scalar(b.getF32Type(), ratio));
  Value scale = *n.build<vt::SelectOp>(dropped, n.scalar(elt, 0.0),
                                       n.scalar(elt, 1.0 / (1.0 - ratio)));
  auto y = n.build<vt::MulOp>(x, scale);
  if (failed(y))
    return failure();
  n.setResult(0, *y);
  if (n.hasOutput(1))
    setMask(vt::NotOp::create(b, n.loc(), dropped.getType(), dropped));
  return success();
}

/// Dropout-7: the ratio is an attribute; the node is in training mode
/// exactly when the model is imported for training. The mask has x's type.
static LogicalResult importDropout7(NodeImporter &n) {
  double ratio = n.attrFloat("ratio", 0.5);
  return buildDropout(n, n.training() && ratio > 0, ratio, /*boolMask=*/false);
}

/// Dropout-10: Dropout-7 with a bool mask.
static LogicalResult importDropout10(NodeImporter &n) {
  double ratio = n.attrFloat("ratio", 0.5);
  return buildDropout(n, n.training() && ratio > 0, ratio, /*boolMask=*/true);
}

/// Dropout-12 (13 and 22 only add types): ratio and training_mode are
/// optional inputs (0.5, false), which must be constants when they matter,
/// i.e. in a training import. An inference import ignores training_mode.
static LogicalResult importDropout12(NodeImporter &n) {
  bool nodeTraining = false;
  if (Value mode = n.input(2); mode && n.training()) {
    auto value = n.constantScalar(mode, "input 'training_mode'");
    if (failed(value))
      return failure();
    nodeTraining = *value != 0;
  } else if (n.training() && n.input(1)) {
    // Without training_mode the node is the identity (ONNX's default), even
    // in a graph exported for training: torch's TorchScript exporter writes
    // nn.MultiheadAttention's attention dropout so, and PyTorch trains with
    // it while the file (and so vitc and onnxruntime) does not.
    auto ratio = n.constantScalar(n.input(1), "input 'ratio'");
    char text[32];
    if (succeeded(ratio) && *ratio > 0 &&
        std::snprintf(text, sizeof text, "%g", *ratio) > 0)
      n.warning() << "ratio " << text
                  << " without a training_mode input: ONNX makes this node "
                     "the identity, so it does not drop anything in training";
  }
  double ratio = 0.5;
  if (Value r = n.input(1); r && nodeTraining) {
    auto value = n.constantScalar(r, "input 'ratio'");
    if (failed(value))
      return failure();
    ratio = *value;
  }
  return buildDropout(n, nodeTraining && ratio > 0, ratio, /*boolMask=*/true);
}

/// ONNX Expand: bidirectional broadcast of the input with `shape`.
static LogicalResult importExpand(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0), shape = n.input(1);
  auto shapeType = tensorType(shape);
  if (failed(n.checkShapeOperand(shapeType)))
    return failure();
  SmallVector<int64_t> target = n.partialShapeValues(shape).value_or(
      SmallVector<int64_t>(shapeType.getDimSize(0), kDyn));
  auto inShape = tensorType(x).getShape();
  int64_t rank = std::max<int64_t>(inShape.size(), target.size());
  SmallVector<int64_t> dims(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t ii = i - (rank - (int64_t)inShape.size());
    int64_t ti = i - (rank - (int64_t)target.size());
    int64_t in = ii >= 0 ? inShape[ii] : 1;
    int64_t t = ti >= 0 ? target[ti] : 1;
    if (t == 1)
      dims[i] = in;
    else if (in == 1)
      dims[i] = t;
    else if (t == kDyn)
      dims[i] = in; // t must be 1 or equal to in
    else if (in == kDyn || in == t)
      dims[i] = t;
    else
      return n.error() << "cannot broadcast dim " << in << " to " << t;
  }
  n.setResult(0, vt::ExpandOp::create(
                     n.builder(), n.loc(),
                     RankedTensorType::get(dims, tensorType(x).getElementType()),
                     x, n.castTo(shape, n.builder().getI64Type())));
  return success();
}

/// Flatten: [d0 * .. * d(axis-1), d(axis) * .. * d(r-1)].
static LogicalResult importFlatten(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  int64_t rank = type.getRank(), axis = n.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    return n.error() << "axis " << axis << " is out of range for rank " << rank;
  if (axis < 0)
    axis += rank;
  auto product = [&](int64_t from, int64_t to) {
    int64_t p = 1;
    for (int64_t d = from; d < to; ++d) {
      if (type.isDynamicDim(d))
        return kDyn;
      p *= type.getDimSize(d);
    }
    return p;
  };
  int64_t outer = product(0, axis), inner = product(axis, rank);
  SmallVector<int64_t> shape;
  if (outer != kDyn && inner != kDyn)
    shape = {outer, inner};
  else if (outer != kDyn && outer != 0)
    shape = {outer, -1};
  else if (inner != kDyn && inner != 0)
    shape = {-1, inner};
  else if (axis == 1)
    shape = {0, -1}; // 0 copies the dynamic leading dim
  else
    return n.error() << "dynamic dims on both sides of axis " << axis
                     << " are not supported (" << type << ")";
  auto result = n.reshape(x, n.constI64(shape));
  return n.setResult(0, result);
}

static LogicalResult importGather(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0), indices = n.input(1);
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), tensorType(x).getRank());
  if (failed(axis))
    return failure();
  if (!tensorType(indices).getElementType().isSignlessInteger())
    return n.error() << "indices must be int32 or int64, got "
                     << indices.getType();
  auto result = n.build<vt::GatherOp>(x, indices, (uint64_t)*axis);
  return n.setResult(0, result);
}

static LogicalResult importGelu(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  std::string approx = n.attrString("approximate", "none");
  if (approx != "none" && approx != "tanh")
    return n.error() << "unknown approximate '" << approx << "'";
  Value x = n.input(0);
  n.setResult(0, vt::GeluOp::create(n.builder(), n.loc(), x.getType(), x,
                                    approx == "tanh"));
  return success();
}

/// Gemm: alpha * A' B' + beta * C, with A' = transA ? A^T : A (same for B).
static LogicalResult importGemm(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value a = n.input(0), b = n.input(1), c = n.input(2);
  if (tensorType(a).getRank() != 2 || tensorType(b).getRank() != 2)
    return n.error() << "A and B must be 2-D, got " << a.getType() << " and "
                     << b.getType();
  auto transpose = [&](Value v) {
    return n.build<vt::TransposeOp>(v, ArrayRef<int64_t>{1, 0});
  };
  if (n.attrInt("transA", 0)) {
    auto t = transpose(a);
    if (failed(t))
      return failure();
    a = *t;
  }
  if (n.attrInt("transB", 0)) {
    auto t = transpose(b);
    if (failed(t))
      return failure();
    b = *t;
  }
  auto y = n.build<vt::MatmulOp>(a, b);
  if (failed(y))
    return failure();
  Type elt = tensorType(*y).getElementType();
  double alpha = n.attrFloat("alpha", 1.0), beta = n.attrFloat("beta", 1.0);
  if (alpha != 1.0) {
    y = n.build<vt::MulOp>(*y, n.scalar(elt, alpha));
    if (failed(y))
      return failure();
  }
  if (c && beta != 0.0) {
    if (beta != 1.0) {
      auto scaled = n.build<vt::MulOp>(c, n.scalar(elt, beta));
      if (failed(scaled))
        return failure();
      c = *scaled;
    }
    y = n.build<vt::AddOp>(*y, c);
    if (failed(y))
      return failure();
  }
  n.setResult(0, *y);
  return success();
}

/// GlobalAveragePool / GlobalMaxPool: a keepdims reduction over all spatial
/// dims.
template <typename ReduceOp>
static LogicalResult importGlobalPool(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  int64_t rank = tensorType(x).getRank();
  if (rank < 3)
    return n.error() << "input must be N x C x spatial..., got " << x.getType();
  SmallVector<int64_t> axes;
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  auto result = n.build<ReduceOp>(x, axes, /*keepdims=*/true);
  return n.setResult(0, result);
}

void vitc::onnx_import::registerOpsDtoG(OpRegistry &r) {
  r.add("Div", 7, importBinary<vt::DivOp>);
  r.add("Dropout", 7, importDropout7);
  r.add("Dropout", 10, importDropout10);
  r.add("Dropout", 12, importDropout12);
  r.add("Equal", 7, importBinary<vt::EqualOp>);
  r.add("Erf", 9, importUnary<vt::ErfOp>);
  r.add("Exp", 6, importUnary<vt::ExpOp>);
  r.add("Expand", 8, importExpand);
  r.add("Flatten", 1, importFlatten);
  r.add("Floor", 6, importUnary<vt::FloorOp>);
  r.add("Gather", 1, importGather);
  r.add("Gelu", 20, importGelu);
  r.add("Gemm", 7, importGemm);
  r.add("GlobalAveragePool", 1, importGlobalPool<vt::ReduceMeanOp>);
  r.add("GlobalMaxPool", 1, importGlobalPool<vt::ReduceMaxOp>);
  r.add("Greater", 7, importBinary<vt::GreaterOp>);
  r.add("GreaterOrEqual", 12, importOrEqual<vt::GreaterOp>);
}
