//===- OpsA_C.cpp - import rules for ONNX ops Abs .. Conv --------------------===//
#include "OpHelpers.h"

#include <limits>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

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
  auto w = readWindow2d(n, tensorType(x), {});
  if (failed(w))
    return failure();
  if (llvm::any_of(w->dilations, [](int64_t d) { return d != 1; }))
    return n.error() << "dilations other than 1 are not supported";
  auto result = n.build<vt::AvgPool2dOp>(
      x, w->kernel, w->strides, w->pads, n.attrInt("count_include_pad", 0) != 0,
      n.attrInt("ceil_mode", 0) != 0);
  return n.setResult(0, result);
}

static LogicalResult importBatchNormalization(NodeImporter &n) {
  if (failed(n.expectInputs(5)))
    return failure();
  if (n.attrInt("training_mode", 0) != 0)
    return n.error() << "training_mode = 1 is not supported (inference import)";
  if (failed(n.expectOutputsUnused(
          1, "running mean/variance outputs exist only in training mode")))
    return failure();
  Value x = n.input(0);
  if (tensorType(x).getRank() < 2)
    return n.error() << "input must have a channel dim (rank >= 2), got "
                     << x.getType();
  n.setResult(0, vt::BatchNormOp::create(
                     n.builder(), n.loc(), x.getType(), x, n.input(1),
                     n.input(2), n.input(3), n.input(4),
                     n.builder().getF64FloatAttr(n.attrFloat("epsilon", 1e-5))));
  return success();
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
    auto value = convertTensor(tensor, "", key, n.loc());
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
  if (shapeType.getRank() != 1 || !shapeType.hasStaticShape())
    return n.error() << "the shape must be a 1-D tensor of known length, got "
                     << shapeType;
  Value fill;
  if (const auto *a = n.attr("value")) {
    ::onnx::TensorProto tensor = a->t();
    auto value = convertTensor(tensor, "", n.node().output(0), n.loc());
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
  if (wType.getRank() != 4)
    return n.error() << "only 2-D convolutions are supported (filter " << wType
                     << ")";
  auto win = readWindow2d(n, tensorType(x), wType.getShape().drop_front(2));
  if (failed(win))
    return failure();
  for (int i = 0; i < 2; ++i)
    if (wType.getDimSize(2 + i) != ShapedType::kDynamic &&
        win->kernel[i] != wType.getDimSize(2 + i))
      return n.error() << "kernel_shape does not match the filter " << wType;
  auto result = n.build<vt::Conv2dOp>(x, w, bias, win->strides, win->pads,
                                      win->dilations,
                                      (uint64_t)n.attrInt("group", 1));
  return n.setResult(0, result);
}

void vitc::onnx_import::registerOpsAtoC(OpRegistry &r) {
  r.add("Abs", 6, importUnary<vt::AbsOp>);
  r.add("Add", 7, importBinary<vt::AddOp>);
  r.add("And", 7, importBinary<vt::AndOp>);
  r.add("ArgMax", 1, importArgMax);
  r.add("AveragePool", 7, importAveragePool);
  r.add("BatchNormalization", 7, importBatchNormalization);
  r.add("Cast", 6, importCast);
  r.add("CastLike", 15, importCastLike);
  r.add("Clip", 6, importClip6);
  r.add("Clip", 11, importClip11);
  r.add("Concat", 4, importConcat);
  r.add("Constant", 9, importConstant);
  r.add("ConstantOfShape", 9, importConstantOfShape);
  r.add("Conv", 1, importConv);
}
