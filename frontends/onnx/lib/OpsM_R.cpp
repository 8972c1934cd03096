//===- OpsM_R.cpp - import rules for ONNX ops MatMul .. Reshape --------------===//
#include "OpHelpers.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static LogicalResult importMaxPool(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  if (!n.hasAttr("kernel_shape"))
    return n.error() << "missing attribute 'kernel_shape'";
  if (tensorType(x).getRank() == 5)
    return importMaxPool3d(n);
  auto w = readWindow(n, tensorType(x), {});
  if (failed(w))
    return failure();
  bool lifted = tensorType(x).getRank() == 3;
  auto x2d = liftTo2d(n, x);
  if (failed(x2d))
    return failure();
  auto result = n.build<vt::MaxPool2dOp>(*x2d, w->kernel, w->strides, w->pads,
                                         w->dilations,
                                         n.attrInt("ceil_mode", 0) != 0);
  if (failed(result))
    return failure();
  if (n.hasOutput(1)) {
    // The indices have no gradient: the values above keep max_pool2d's.
    auto indices = maxPoolIndices(n, *x2d, *w, *result);
    if (failed(indices) ||
        failed(n.setResult(1, lowerFrom2d(n, *indices, lifted))))
      return failure();
  }
  return n.setResult(0, lowerFrom2d(n, *result, lifted));
}

/// Mean of N inputs: their broadcast sum divided by N.
static LogicalResult importMean(NodeImporter &n) {
  auto sum = foldInputs<vt::AddOp>(n);
  if (failed(sum))
    return failure();
  Type elt = tensorType(*sum).getElementType();
  if (!isa<FloatType>(elt))
    return n.error() << "expects float inputs, got " << sum->getType();
  auto mean =
      n.build<vt::DivOp>(*sum, n.scalar(elt, (double)n.inputs().size()));
  if (failed(mean))
    return failure();
  n.setResult(0, *mean);
  return success();
}

/// Mod, from vt arithmetic: with fmod = 0 the result takes the divisor's
/// sign (Python), with fmod = 1 the dividend's (C fmod). vt.div truncates
/// integers, then a sign fix-up gives fmod = 0. Floats compute
/// a - floor(a / b) * b (fmod = 0, defined from opset 28) or truncate the
/// quotient, trunc(q) = q < 0 ? -floor(-q) : floor(q) (fmod = 1).
static LogicalResult importMod(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value a = n.input(0), b = n.input(1);
  Type elt = tensorType(a).getElementType();
  bool isFloat = isa<FloatType>(elt), fmod = n.attrInt("fmod", 0) != 0;
  if (isFloat && !fmod && n.opset() < 28)
    return n.error() << "fmod must be 1 for float inputs before opset 28";
  // The first op checks that a and b broadcast and share a type; the ops
  // after it combine values of that type and shape, so they cannot fail.
  FailureOr<Value> quotient = n.build<vt::DivOp>(a, b);
  if (failed(quotient))
    return failure();
  OpBuilder &bld = n.builder();
  Location loc = n.loc();
  Value q = *quotient, zero = n.scalar(elt, 0.0);
  if (isFloat && !fmod) {
    Value down = vt::FloorOp::create(bld, loc, q.getType(), q);
    n.setResult(0, *n.build<vt::SubOp>(a, *n.build<vt::MulOp>(down, b)));
    return success();
  }
  if (isFloat) {
    Value down = vt::FloorOp::create(bld, loc, q.getType(), q);
    Value negQ = vt::NegOp::create(bld, loc, q.getType(), q);
    Value up = vt::NegOp::create(
        bld, loc, q.getType(), vt::FloorOp::create(bld, loc, q.getType(), negQ));
    q = *n.build<vt::SelectOp>(*n.build<vt::LessOp>(q, zero), up, down);
  }
  Value r = *n.build<vt::SubOp>(a, *n.build<vt::MulOp>(q, b));
  if (!fmod) {
    // A non-zero remainder whose sign differs from the divisor's moves by b.
    // Integer arithmetic only (no select), so constant shape arithmetic
    // still folds: r += (rNeg - bNeg)^2 * (1 - (r == 0)) * b.
    auto asInt = [&](Value flag) { return n.castTo(flag, elt); };
    Value rNeg = asInt(*n.build<vt::LessOp>(r, zero));
    Value bNeg = asInt(*n.build<vt::LessOp>(b, zero));
    Value diff = *n.build<vt::SubOp>(rNeg, bNeg);
    Value mismatch = *n.build<vt::MulOp>(diff, diff);
    Value nonZero = *n.build<vt::SubOp>(
        n.scalar(elt, 1), asInt(*n.build<vt::EqualOp>(r, zero)));
    Value shift = *n.build<vt::MulOp>(mismatch, nonZero);
    r = *n.build<vt::AddOp>(r, *n.build<vt::MulOp>(shift, b));
  }
  n.setResult(0, r);
  return success();
}

/// Pad's reflect, edge and wrap modes, one axis at a time, as
/// concatenations of slices of the input (which fuse as data movement and
/// differentiate): edge repeats the first/last row `pad` times; reflect
/// mirrors the rows next to it without repeating the border (x[p:0:-1]
/// before, x[-2:-p-2:-1] after); wrap continues from the other end (x[-p:]
/// before, x[:p] after). `pads` = [begin_0.., end_0..], none negative.
static FailureOr<Value> padByCopies(NodeImporter &n, Value x,
                                    ArrayRef<int64_t> pads,
                                    llvm::StringRef mode) {
  bool reflect = mode == "reflect", wrap = mode == "wrap";
  int64_t rank = tensorType(x).getRank();
  for (int64_t d = 0; d < rank; ++d) {
    int64_t before = pads[d], after = pads[rank + d];
    if (before < 0 || after < 0)
      return n.error() << "negative pads need mode 'constant'";
    if (!before && !after)
      continue;
    int64_t size = tensorType(x).getDimSize(d);
    if (reflect && size != ShapedType::kDynamic &&
        (before >= size || after >= size))
      return n.error() << "reflect pads " << before << " and " << after
                       << " must be smaller than dim " << d << " of "
                       << x.getType();
    if (wrap && (size == ShapedType::kDynamic || before > size || after > size))
      return n.error() << "wrap pads " << before << " and " << after
                       << " must be at most dim " << d << " of " << x.getType()
                       << " (static)";
    auto sliceOf = [&](int64_t start, int64_t end,
                       int64_t step) -> FailureOr<Value> {
      SmallVector<int64_t> starts(rank, 0), ends(rank, INT64_MAX),
          steps(rank, 1);
      starts[d] = start;
      ends[d] = end;
      steps[d] = step;
      return n.build<vt::SliceOp>(x, starts, ends, steps);
    };
    SmallVector<Value> pieces;
    for (bool atStart : {true, false}) {
      int64_t pad = atStart ? before : after;
      if (!pad)
        continue;
      FailureOr<Value> piece =
          reflect ? (atStart ? sliceOf(pad, 0, -1) : sliceOf(-2, -pad - 2, -1))
          : wrap  ? (atStart ? sliceOf(-pad, INT64_MAX, 1) : sliceOf(0, pad, 1))
                  : (atStart ? sliceOf(0, 1, 1) : sliceOf(-1, INT64_MAX, 1));
      if (failed(piece))
        return failure();
      if (mode == "edge" && pad > 1) {
        SmallVector<int64_t> repeats(rank, 1);
        repeats[d] = pad;
        piece = n.build<vt::TileOp>(*piece, repeats);
        if (failed(piece))
          return failure();
      }
      pieces.push_back(*piece);
    }
    SmallVector<Value> parts;
    if (before)
      parts.push_back(pieces.front());
    parts.push_back(x);
    if (after)
      parts.push_back(pieces.back());
    auto joined = n.build<vt::ConcatOp>(parts, (uint64_t)d);
    if (failed(joined))
      return failure();
    x = *joined;
  }
  return x;
}

/// Pad-2: `pads` and `value` are attributes. Pad-11: they are inputs (the
/// value optional); Pad-18 adds the optional `axes` input.
static LogicalResult importPad(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  std::string mode = n.attrString("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      mode != "wrap")
    return n.error() << "mode '" << mode
                     << "' is not supported (constant, reflect, edge, wrap)";
  Value x = n.input(0);
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> pads;
  double value = 0.0;
  Value runtimeValue; // a constant_value given at run time
  if (n.opset() < 11) {
    pads = n.attrInts("pads").value_or(SmallVector<int64_t>());
    value = n.attrFloat("value", 0.0);
  } else {
    auto padsIn = n.requiredInput(1, "pads");
    if (failed(padsIn))
      return failure();
    auto p = n.constantInts(*padsIn, "input 'pads'");
    if (failed(p))
      return failure();
    pads = *p;
    // The other modes ignore the value.
    if (Value v = n.input(2); v && mode == "constant") {
      if (n.evaluateConstant(v)) {
        auto c = n.constantScalar(v, "input 'constant_value'");
        if (failed(c))
          return failure();
        value = *c;
      } else if (auto vType = tensorType(v); vType.getRank() > 1 ||
                                          (vType.getRank() == 1 &&
                                           vType.getDimSize(0) != 1)) {
        return n.error() << "input 'constant_value' must be a scalar, got "
                         << v.getType();
      } else {
        runtimeValue = n.castTo(v, tensorType(x).getElementType());
      }
    }
  }
  SmallVector<int64_t> axes;
  if (Value axesIn = n.opset() >= 18 ? n.input(3) : Value()) {
    auto a = n.constantInts(axesIn, "input 'axes'");
    if (failed(a))
      return failure();
    for (int64_t ax : *a) {
      auto norm = n.normalizeAxis(ax, rank);
      if (failed(norm))
        return failure();
      axes.push_back(*norm);
    }
  } else {
    for (int64_t d = 0; d < rank; ++d)
      axes.push_back(d);
  }
  if (pads.size() != 2 * axes.size())
    return n.error() << "expected " << 2 * axes.size() << " pads, got "
                     << pads.size();
  SmallVector<int64_t> full(2 * rank, 0);
  for (auto [i, ax] : llvm::enumerate(axes)) {
    full[ax] = pads[i];
    full[rank + ax] = pads[axes.size() + i];
  }
  // vt.pad's type adds the pads to the dims: they must fit.
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = tensorType(x).getDimSize(d);
    if (size != ShapedType::kDynamic &&
        (llvm::AddOverflow(size, full[d], size) ||
         llvm::AddOverflow(size, full[rank + d], size) || size < 0))
      return n.error() << "pads " << full[d] << " and " << full[rank + d]
                       << " do not fit dim " << d << " of " << x.getType();
  }
  if (mode != "constant")
    return n.setResult(0, padByCopies(n, x, full, mode));
  auto result = n.build<vt::PadOp>(x, full, llvm::APFloat(value));
  if (failed(result) || !runtimeValue)
    return n.setResult(0, result);
  // vt.pad's value is an attribute: a value known only at run time fills
  // where a padded mask of x's positions is false.
  OpBuilder &b = n.builder();
  auto xType = tensorType(x);
  Value shape = vt::ShapeOfOp::create(
      b, n.loc(), RankedTensorType::get({xType.getRank()}, b.getI64Type()), x);
  Value inside = vt::ExpandOp::create(b, n.loc(), xType.clone(b.getI1Type()),
                                      n.scalar(b.getI1Type(), 1), shape);
  auto mask = n.build<vt::PadOp>(inside, full, llvm::APFloat(0.0));
  if (failed(mask))
    return failure();
  return n.setResult(0, n.build<vt::SelectOp>(*mask, *result, runtimeValue));
}

/// Pow allows an exponent of another type; vt.pow takes one type.
static LogicalResult importPow(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value base = n.input(0);
  Value exponent = n.castTo(n.input(1), tensorType(base).getElementType());
  auto result = n.build<vt::PowOp>(base, exponent);
  return n.setResult(0, result);
}

static LogicalResult importRange(NodeImporter &n) {
  if (failed(n.expectInputs(3)))
    return failure();
  Value start = n.input(0), limit = n.input(1), delta = n.input(2);
  for (Value v : {start, limit, delta})
    if (tensorType(v).getRank() != 0 || v.getType() != start.getType())
      return n.error() << "start, limit and delta must be scalars of one "
                          "type, got "
                       << start.getType() << ", " << limit.getType() << ", "
                       << delta.getType();
  int64_t count = ShapedType::kDynamic;
  auto s = dyn_cast_or_null<DenseElementsAttr>(n.evaluateConstant(start));
  auto l = dyn_cast_or_null<DenseElementsAttr>(n.evaluateConstant(limit));
  auto d = dyn_cast_or_null<DenseElementsAttr>(n.evaluateConstant(delta));
  if (s && l && d) {
    double sv = *n.constantScalar(start, "start"),
           lv = *n.constantScalar(limit, "limit"),
           dv = *n.constantScalar(delta, "delta");
    if (dv == 0)
      return n.error() << "delta must not be 0";
    // Converted only once known to fit: NaN or a huge quotient would be
    // undefined as an integer.
    double c = std::ceil((lv - sv) / dv);
    if (!(c < 0x1p62))
      return n.error() << "start, limit and delta give no bounded element "
                          "count";
    count = c > 0 ? (int64_t)c : 0;
  }
  auto type = RankedTensorType::get({count}, tensorType(start).getElementType());
  n.setResult(0, vt::RangeOp::create(n.builder(), n.loc(), type, start, limit,
                                     delta));
  return success();
}

/// The axes a ReduceX node reduces: from the attribute (before
/// `axesInputSince`) or the optional second input; no axes reduces
/// everything, unless noop_with_empty_axes (then nullopt: x passes through).
static FailureOr<std::optional<SmallVector<int64_t>>>
reducedAxes(NodeImporter &n, Value x, int64_t axesInputSince) {
  int64_t rank = tensorType(x).getRank();
  auto axes = readAxes(n, axesInputSince, 1);
  if (failed(axes))
    return failure();
  if (*axes && !(*axes)->empty())
    return n.normalizeAxes(**axes, rank);
  if (n.attrInt("noop_with_empty_axes", 0) != 0)
    return std::optional<SmallVector<int64_t>>();
  return std::optional<SmallVector<int64_t>>(
      llvm::to_vector(llvm::seq<int64_t>(0, rank)));
}

template <typename ReduceOp, int64_t axesInputSince>
static LogicalResult importReduce(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto axes = reducedAxes(n, x, axesInputSince);
  if (failed(axes))
    return failure();
  if (!*axes) {
    n.setResult(0, x);
    return success();
  }
  bool keep = n.attrInt("keepdims", 1) != 0;
  return n.setResult(0, n.build<ReduceOp>(x, **axes, keep));
}

/// The reductions ONNX defines over a sum: L1 = sum |x|, L2 = sqrt(sum x^2),
/// SumSquare, LogSum = log(sum x), LogSumExp = m + log(sum exp(x - m)) with
/// m the max (so large x does not overflow). Built from differentiable vt
/// ops, so they train (Swin v2 normalises queries and keys with ReduceL2).
enum class SumReduction { L1, L2, SumSquare, LogSum, LogSumExp };

template <SumReduction kind>
static LogicalResult importSumReduction(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  if (!isa<FloatType>(tensorType(x).getElementType()))
    return n.error() << "expects a float input, got " << x.getType();
  auto axes = reducedAxes(n, x, 18);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> reduced = axes->value_or(SmallVector<int64_t>());
  bool keep = n.attrInt("keepdims", 1) != 0;
  OpBuilder &b = n.builder();
  Location loc = n.loc();
  Type type = x.getType();
  Value max, terms = x;
  switch (kind) {
  case SumReduction::L1:
    terms = vt::AbsOp::create(b, loc, type, x);
    break;
  case SumReduction::L2:
  case SumReduction::SumSquare:
    terms = *n.build<vt::MulOp>(x, x);
    break;
  case SumReduction::LogSum:
    break;
  case SumReduction::LogSumExp:
    if (!*axes) { // log(exp(x)) elementwise
      n.setResult(0, x);
      return success();
    }
    max = *n.build<vt::ReduceMaxOp>(x, reduced, true);
    terms = vt::ExpOp::create(b, loc, type, *n.build<vt::SubOp>(x, max));
    break;
  }
  Value sum = *axes ? *n.build<vt::ReduceSumOp>(terms, reduced, keep) : terms;
  Type sumType = sum.getType();
  switch (kind) {
  case SumReduction::L2:
    sum = vt::SqrtOp::create(b, loc, sumType, sum);
    break;
  case SumReduction::LogSum:
    sum = vt::LogOp::create(b, loc, sumType, sum);
    break;
  case SumReduction::LogSumExp: {
    sum = vt::LogOp::create(b, loc, sumType, sum);
    if (!keep) {
      auto dropped = n.build<vt::ReduceMaxOp>(x, reduced, false);
      max = *dropped;
    }
    sum = *n.build<vt::AddOp>(sum, max);
    break;
  }
  default:
    break;
  }
  n.setResult(0, sum);
  return success();
}

static LogicalResult importReshape(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  auto result =
      n.reshape(n.input(0), n.input(1), n.attrInt("allowzero", 0) != 0);
  return n.setResult(0, result);
}

/// PRelu: x where x >= 0, slope * x elsewhere; slope broadcasts to x
/// (unidirectionally). Elementwise ops, so it fuses and differentiates
/// (the slope's gradient too).
static LogicalResult importPRelu(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  if (!isa<FloatType>(type.getElementType()))
    return n.error() << "expects a float input, got " << x.getType();
  auto scaled = n.build<vt::MulOp>(
      x, n.castTo(n.input(1), type.getElementType()));
  if (failed(scaled))
    return failure();
  if (tensorType(*scaled).getShape() != type.getShape())
    return n.error() << "slope of shape " << n.input(1).getType()
                     << " does not broadcast to the input's " << x.getType();
  auto negative =
      n.build<vt::LessOp>(x, n.scalar(type.getElementType(), 0.0));
  if (failed(negative))
    return failure();
  return n.setResult(0, n.build<vt::SelectOp>(*negative, *scaled, x));
}

void vitc::onnx_import::registerOpsMtoR(OpRegistry &r) {
  r.add("MatMul", 1, importBinary<vt::MatmulOp>);
  r.add("Max", 8, importVariadic<vt::MaxOp>);
  r.add("MaxPool", 8, importMaxPool);
  r.add("Mean", 8, importMean);
  r.add("Min", 8, importVariadic<vt::MinOp>);
  r.add("Mod", 10, importMod);
  r.add("Mul", 7, importBinary<vt::MulOp>);
  r.add("Neg", 6, importUnary<vt::NegOp>);
  r.add("Not", 1, importUnary<vt::NotOp>);
  r.add("Pad", 2, importPad);
  r.add("Pow", 7, importPow);
  r.add("PRelu", 7, importPRelu);
  r.add("Range", 11, importRange);
  r.add("RandomNormal", 1, importRandomNormal);
  r.add("RandomNormalLike", 1, importRandomNormalLike);
  r.add("RandomUniform", 1, importRandomUniform);
  r.add("RandomUniformLike", 1, importRandomUniformLike);
  r.add("Reciprocal", 6, importUnary<vt::ReciprocalOp>);
  r.add("ReduceL1", 1, importSumReduction<SumReduction::L1>);
  r.add("ReduceL2", 1, importSumReduction<SumReduction::L2>);
  r.add("ReduceLogSum", 1, importSumReduction<SumReduction::LogSum>);
  r.add("ReduceLogSumExp", 1, importSumReduction<SumReduction::LogSumExp>);
  r.add("ReduceMax", 1, importReduce<vt::ReduceMaxOp, 18>);
  r.add("ReduceMean", 1, importReduce<vt::ReduceMeanOp, 18>);
  r.add("ReduceMin", 1, importReduce<vt::ReduceMinOp, 18>);
  r.add("ReduceSum", 1, importReduce<vt::ReduceSumOp, 13>);
  r.add("ReduceSumSquare", 1, importSumReduction<SumReduction::SumSquare>);
  r.add("Relu", 6, importUnary<vt::ReluOp>);
  r.add("Reshape", 5, importReshape);
}
