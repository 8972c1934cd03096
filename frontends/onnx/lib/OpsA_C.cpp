//===- OpsA_C.cpp - import rules for ONNX ops Abs .. Conv --------------------===//
#include "OpHelpers.h"

#include <limits>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static LogicalResult importArgMax(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  if (n.attrInt("select_last_index", 0) != 0)
    return n.error() << "select_last_index = 1 is not supported";
  bool keepdims = n.attrInt("keepdims", 1) != 0;
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != *axis)
      shape.push_back(type.getDimSize(d));
    else if (keepdims)
      shape.push_back(1);
  auto resultType = RankedTensorType::get(shape, n.builder().getI64Type());
  n.setResult(0, vt::ArgMaxOp::create(n.builder(), n.loc(), resultType, x,
                                      *axis, keepdims));
  return success();
}

static LogicalResult importAveragePool(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  if (!n.hasAttr("kernel_shape"))
    return n.error() << "missing attribute 'kernel_shape'";
  if (tensorType(x).getRank() == 5)
    return importAveragePool3d(n);
  auto w = readWindow(n, tensorType(x), {});
  if (failed(w))
    return failure();
  bool lifted = tensorType(x).getRank() == 3;
  auto x2d = liftTo2d(n, x);
  if (failed(x2d))
    return failure();
  bool includePad = n.attrInt("count_include_pad", 0) != 0;
  bool ceil = n.attrInt("ceil_mode", 0) != 0;
  auto result =
      llvm::any_of(w->dilations, [](int64_t d) { return d != 1; })
          ? avgPool2dDilated(n, *x2d, *w, includePad, ceil)
          : n.build<vt::AvgPool2dOp>(*x2d, w->kernel, w->strides, w->pads,
                                     includePad, ceil);
  if (failed(result))
    return failure();
  return n.setResult(0, lowerFrom2d(n, *result, lifted));
}

/// A per-channel vector [C] reshaped to broadcast against an N x C x ...
/// tensor of rank `rank`: [C, 1, ...] (rank 2: [C] itself).
static Value perChannel(NodeImporter &n, Value v, int64_t rank) {
  if (rank == 2)
    return v;
  SmallVector<int64_t> dims(rank - 1, 1);
  dims[0] = -1; // v's dim 0, C, stays in place: no shape arithmetic to fail
  return *n.reshapeToDims(v, dims);
}

/// The number of elements each channel's statistics are taken over
/// (N x spatial dims), as a scalar of `elt`: a constant where those dims are
/// static, else computed from vt.shape_of for the dynamic batch.
static Value countPerChannel(NodeImporter &n, Value x, Type elt) {
  OpBuilder &b = n.builder();
  auto type = tensorType(x);
  auto shapeType = RankedTensorType::get({type.getRank()}, b.getI64Type());
  double staticCount = 1;
  Value count = nullptr;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d == 1)
      continue;
    if (!type.isDynamicDim(d)) {
      staticCount *= type.getDimSize(d);
      continue;
    }
    Value shape = vt::ShapeOfOp::create(b, n.loc(), shapeType, x);
    Value dim = *n.build<vt::GatherOp>(shape, n.scalar(b.getI64Type(), d),
                                       b.getI64IntegerAttr(0));
    dim = n.castTo(dim, elt);
    count = count ? *n.build<vt::MulOp>(count, dim) : dim;
  }
  Value c = n.scalar(elt, staticCount);
  return count ? *n.build<vt::MulOp>(count, c) : c;
}

/// BatchNormalization in a training import, PyTorch's model.train():
/// normalises with the batch mean and biased batch variance over every dim
/// but the channel (dim 1), built from differentiable vt ops, and computes the
/// new running statistics
///   mean' = momentum * mean + (1 - momentum) * batch_mean
///   var'  = momentum * var  + (1 - momentum) * batch_var * n / (n - 1)
/// (ONNX's momentum weighs the old value: PyTorch's 0.1 is exported as 0.9;
/// the variance is PyTorch's unbiased one). Returns y, mean', var', and the
/// batch mean and biased variance, all but y per channel ([C]). `params`
/// (scale, bias, mean, variance) are 1-D of C elements.
static SmallVector<Value> buildBatchNormTraining(NodeImporter &n, Value x,
                                                 ArrayRef<Value> params,
                                                 double epsilon,
                                                 double momentum) {
  OpBuilder &b = n.builder();
  auto type = tensorType(x);
  Type elt = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes = {0};
  for (int64_t d = 2; d < rank; ++d)
    axes.push_back(d);
  // The shapes below broadcast by construction: the builds cannot fail.
  Value mean = *n.build<vt::ReduceMeanOp>(x, axes, /*keepdims=*/true);
  Value centered = *n.build<vt::SubOp>(x, mean);
  Value var = *n.build<vt::ReduceMeanOp>(
      *n.build<vt::MulOp>(centered, centered), axes, /*keepdims=*/true);
  Value invStd =
      vt::RsqrtOp::create(b, n.loc(), var.getType(),
                          *n.build<vt::AddOp>(var, n.scalar(elt, epsilon)));
  Value scale = perChannel(n, params[0], rank);
  Value bias = perChannel(n, params[1], rank);
  Value y = *n.build<vt::AddOp>(
      *n.build<vt::MulOp>(centered, *n.build<vt::MulOp>(invStd, scale)), bias);

  // [1, C, 1, ...] -> [C], the running statistics' shape.
  Value batchMean = *n.reshapeToDims(mean, {-2});
  Value batchVar = *n.reshapeToDims(var, {-2});
  Value count = countPerChannel(n, x, elt);
  Value unbiased = *n.build<vt::MulOp>(
      batchVar, *n.build<vt::DivOp>(
                    count, *n.build<vt::SubOp>(count, n.scalar(elt, 1.0))));
  auto blend = [&](Value running, Value batch) {
    return *n.build<vt::AddOp>(
        *n.build<vt::MulOp>(running, n.scalar(elt, momentum)),
        *n.build<vt::MulOp>(batch, n.scalar(elt, 1.0 - momentum)));
  };
  return {y, blend(params[2], batchMean), blend(params[3], unbiased),
          batchMean, batchVar};
}

/// BatchNormalization with `numOutputs` outputs: Y, running mean and
/// variance, and before opset 14 the saved (batch) mean and variance.
/// Inputs: x, scale, bias, running mean, running variance. Outside a
/// training import it normalises with the running statistics (eval mode,
/// whatever the node's training_mode says) and the statistics outputs, if
/// listed, are the running statistics unchanged. In a training import (see
/// buildBatchNormTraining) the new running statistics that replace
/// initializers become results of @main. Opset 15 lets scale/bias and
/// mean/variance have their own float types: they are cast to x's type, and
/// the new statistics back to theirs.
static LogicalResult importBatchNorm(NodeImporter &n, unsigned numOutputs) {
  if (failed(n.expectInputs(5)))
    return failure();
  if (failed(n.expectOutputsUnused(numOutputs, "not an output of this opset")))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  if (type.getRank() < 2 || !isa<FloatType>(type.getElementType()))
    return n.error() << "input must be a float tensor with a channel dim "
                        "(rank >= 2), got "
                     << x.getType();
  // C is x's dim 1 or, where that is dynamic, the first static parameter
  // length: the training builds below rely on all of them agreeing.
  int64_t channels = type.getDimSize(1);
  SmallVector<Value> params;
  for (unsigned i = 1; i < 5; ++i) {
    auto t = tensorType(n.input(i));
    if (t.getRank() != 1 || !isa<FloatType>(t.getElementType()) ||
        (channels != kDyn && !t.isDynamicDim(0) && t.getDimSize(0) != channels))
      return n.error() << "input " << i
                       << " must be a 1-D float tensor with one value per "
                          "channel of "
                       << x.getType() << ", got " << t;
    if (channels == kDyn)
      channels = t.getDimSize(0);
    params.push_back(n.castTo(n.input(i), type.getElementType()));
  }
  double epsilon = n.attrFloat("epsilon", 1e-5);
  Value runningMean = n.input(3), runningVar = n.input(4);
  if (!n.training()) {
    n.setResult(0, vt::BatchNormOp::create(
                       n.builder(), n.loc(), x.getType(), x, params[0],
                       params[1], params[2], params[3],
                       n.builder().getF64FloatAttr(epsilon)));
    for (unsigned i : {1u, 3u})
      n.setResult(i, runningMean);
    for (unsigned i : {2u, 4u})
      n.setResult(i, runningVar);
    return success();
  }
  SmallVector<Value> outs = buildBatchNormTraining(
      n, x, params, epsilon, n.attrFloat("momentum", 0.9));
  n.setResult(0, outs[0]);
  n.setResult(3, outs[3]);
  n.setResult(4, outs[4]);
  for (unsigned i : {1u, 2u}) {
    unsigned input = i + 2;
    Value updated =
        n.castTo(outs[i], tensorType(n.input(input)).getElementType());
    n.setResult(i, updated);
    if (n.isInitializer(input) && failed(n.updateInitializer(input, updated)))
      return failure();
  }
  return success();
}

/// BatchNormalization-7 also has `spatial` (removed in 9): 0 normalises
/// per element of C x spatial, which vt does not express.
static LogicalResult importBatchNormalization7(NodeImporter &n) {
  if (n.attrInt("spatial", 1) != 1)
    return n.error() << "spatial = 0 is not supported";
  return importBatchNorm(n, 5);
}

static LogicalResult importBatchNormalization9(NodeImporter &n) {
  return importBatchNorm(n, 5);
}

/// BatchNormalization-14: training_mode attribute (ignored: the import mode
/// decides), and only the running statistics as extra outputs.
static LogicalResult importBatchNormalization14(NodeImporter &n) {
  return importBatchNorm(n, 3);
}

static LogicalResult importCast(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  if (!n.hasAttr("to"))
    return n.error() << "missing attribute 'to'";
  int64_t to = n.attrInt("to", 0);
  Type elt = convertElementType(n.context(), to);
  if (!elt)
    return n.error() << "cannot cast to " << dataTypeName(to);
  Value x = n.input(0);
  // An identity cast still gets an op, so its folder (not the importer)
  // decides; vt.cast folds x -> x.
  n.setResult(0, vt::CastOp::create(n.builder(), n.loc(),
                                    tensorType(x).clone(elt), x));
  return success();
}

/// CastLike: Cast to the element type of the second input.
static LogicalResult importCastLike(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0);
  Type elt = tensorType(n.input(1)).getElementType();
  n.setResult(0, vt::CastOp::create(n.builder(), n.loc(),
                                    tensorType(x).clone(elt), x));
  return success();
}

/// Clip-6: bounds are attributes (defaulting to the float range).
static LogicalResult importClip6(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  double inf = std::numeric_limits<double>::infinity();
  n.setResult(0, vt::ClampOp::create(
                     n.builder(), n.loc(), x.getType(), x,
                     n.builder().getF64FloatAttr(n.attrFloat("min", -inf)),
                     n.builder().getF64FloatAttr(n.attrFloat("max", inf))));
  return success();
}

/// Clip-11: bounds are optional inputs; absent means unbounded. Constant
/// bounds give vt.clamp; runtime bounds give vt.max / vt.min.
static LogicalResult importClip11(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0), lo = n.input(1), hi = n.input(2);
  double inf = std::numeric_limits<double>::infinity();
  auto bound = [&](Value v, double dflt) -> std::optional<double> {
    if (!v)
      return dflt;
    auto dense = dyn_cast_or_null<DenseElementsAttr>(n.evaluateConstant(v));
    if (!dense || dense.getNumElements() != 1)
      return std::nullopt;
    return *n.constantScalar(v, "bound");
  };
  std::optional<double> loC = bound(lo, -inf), hiC = bound(hi, inf);
  if (loC && hiC) {
    n.setResult(0, vt::ClampOp::create(n.builder(), n.loc(), x.getType(), x,
                                       n.builder().getF64FloatAttr(*loC),
                                       n.builder().getF64FloatAttr(*hiC)));
    return success();
  }
  Value result = x;
  if (lo) {
    auto r = n.build<vt::MaxOp>(result, lo);
    if (failed(r))
      return failure();
    result = *r;
  }
  if (hi) {
    auto r = n.build<vt::MinOp>(result, hi);
    if (failed(r))
      return failure();
    result = *r;
  }
  n.setResult(0, result);
  return success();
}

static LogicalResult importConcat(NodeImporter &n) {
  SmallVector<Value> ins = n.inputs();
  if (ins.empty())
    return n.error() << "expects at least one input";
  if (!n.hasAttr("axis"))
    return n.error() << "missing attribute 'axis'";
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), tensorType(ins[0]).getRank());
  if (failed(axis))
    return failure();
  auto result = n.build<vt::ConcatOp>(ins, (uint64_t)*axis);
  return n.setResult(0, result);
}

static Value makeConstant(NodeImporter &n, Attribute value) {
  auto typed = cast<TypedAttr>(value);
  return vt::ConstantOp::create(n.builder(), n.loc(), typed.getType(), typed,
                                StringAttr())
      .getResult();
}

static LogicalResult importConstant(NodeImporter &n) {
  OpBuilder &b = n.builder();
  const auto &attrs = n.node().attribute();
  if (attrs.size() != 1)
    return n.error() << "expects exactly one value attribute, got "
                     << attrs.size();
  const auto &a = attrs[0];
  llvm::StringRef name = a.name();
  Value result;
  if (name == "value") {
    ::onnx::TensorProto tensor = a.t();
    std::string key = n.node().output(0);
    auto value = convertTensor(tensor, n.modelDir(), key, n.loc());
    if (failed(value))
      return failure();
    result = makeConstant(n, *value);
  } else if (name == "value_float") {
    result = n.scalar(b.getF32Type(), a.f());
  } else if (name == "value_int") {
    result = n.scalar(b.getI64Type(), a.i());
  } else if (name == "value_floats") {
    SmallVector<float> values(a.floats().begin(), a.floats().end());
    auto type = RankedTensorType::get({(int64_t)values.size()}, b.getF32Type());
    result = makeConstant(n, DenseElementsAttr::get(type, ArrayRef(values)));
  } else if (name == "value_ints") {
    SmallVector<int64_t> values(a.ints().begin(), a.ints().end());
    result = n.constI64(values);
  } else {
    return n.error() << "unsupported value attribute '" << name << "'";
  }
  n.setResult(0, result);
  return success();
}

static LogicalResult importConstantOfShape(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value shape = n.input(0);
  auto shapeType = tensorType(shape);
  if (failed(n.checkShapeOperand(shapeType)))
    return failure();
  Value fill;
  if (const auto *a = n.attr("value")) {
    ::onnx::TensorProto tensor = a->t();
    auto value =
        convertTensor(tensor, n.modelDir(), n.node().output(0), n.loc());
    if (failed(value))
      return failure();
    auto dense = dyn_cast<DenseElementsAttr>(*value);
    if (!dense || dense.getNumElements() != 1)
      return n.error() << "'value' must hold exactly one element";
    fill = makeConstant(n, dense.reshape(RankedTensorType::get(
                               {}, dense.getElementType())));
  } else {
    fill = n.scalar(n.builder().getF32Type(), 0.0);
  }
  // A rank-0 value broadcast to `shape` is exactly ConstantOfShape.
  SmallVector<int64_t> dims = n.partialShapeValues(shape).value_or(
      SmallVector<int64_t>(shapeType.getDimSize(0), ShapedType::kDynamic));
  for (int64_t d : dims)
    if (d < 0 && d != ShapedType::kDynamic)
      return n.error() << "negative dim " << d << " in the shape";
  auto type = RankedTensorType::get(dims, tensorType(fill).getElementType());
  n.setResult(0, vt::ExpandOp::create(n.builder(), n.loc(), type, fill,
                                      n.castTo(shape, n.builder().getI64Type())));
  return success();
}

static LogicalResult importConv(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0), w = n.input(1), bias = n.input(2);
  auto wType = tensorType(w);
  if (wType.getRank() == 5 && tensorType(x).getRank() == 5)
    return importConv3d(n);
  bool lifted = wType.getRank() == 3 && tensorType(x).getRank() == 3;
  if ((wType.getRank() != 4 || tensorType(x).getRank() != 4) && !lifted)
    return n.error() << "only 1-D, 2-D and 3-D convolutions are supported "
                        "(input "
                     << x.getType() << ", filter " << wType << ")";
  auto win = readWindow(n, tensorType(x), wType.getShape().drop_front(2));
  if (failed(win))
    return failure();
  auto x2d = liftTo2d(n, x), w2d = liftTo2d(n, w);
  if (failed(x2d) || failed(w2d))
    return failure();
  wType = tensorType(*w2d);
  for (int i = 0; i < 2; ++i)
    if (wType.getDimSize(2 + i) != ShapedType::kDynamic &&
        win->kernel[i] != wType.getDimSize(2 + i))
      return n.error() << "kernel_shape does not match the filter " << wType;
  auto result = n.build<vt::Conv2dOp>(*x2d, *w2d, bias, win->strides,
                                      win->pads, win->dilations,
                                      (uint64_t)n.attrInt("group", 1));
  if (failed(result))
    return failure();
  return n.setResult(0, lowerFrom2d(n, *result, lifted));
}

void vitc::onnx_import::registerOpsAtoC(OpRegistry &r) {
  r.add("Abs", 6, importUnary<vt::AbsOp>);
  r.add("Add", 7, importBinary<vt::AddOp>);
  r.add("And", 7, importBinary<vt::AndOp>);
  r.add("ArgMax", 1, importArgMax);
  r.add("AveragePool", 7, importAveragePool);
  r.add("BatchNormalization", 7, importBatchNormalization7);
  r.add("BatchNormalization", 9, importBatchNormalization9);
  r.add("BatchNormalization", 14, importBatchNormalization14);
  r.add("Bernoulli", 15, importBernoulli);
  r.add("Cast", 6, importCast);
  r.add("CastLike", 15, importCastLike);
  r.add("Clip", 6, importClip6);
  r.add("Clip", 11, importClip11);
  r.add("Concat", 4, importConcat);
  r.add("Constant", 9, importConstant);
  r.add("ConstantOfShape", 9, importConstantOfShape);
  r.add("Conv", 1, importConv);
  r.add("Cos", 7, importUnary<vt::CosOp>);
}
