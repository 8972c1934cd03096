//===- VtOps.cpp - vt op type inference and verifiers -----------------------===//
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace vitc::vt;

static constexpr int64_t kDyn = ShapedType::kDynamic;

/// Numpy broadcasting of two shapes; a dynamic dim against 1 stays dynamic.
static LogicalResult broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b,
                                     SmallVectorImpl<int64_t> &out) {
  return success(mlir::OpTrait::util::getBroadcastedShape(a, b, out));
}

static RankedTensorType rankedOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// Result element type of a binary op: i1 for comparisons, lhs's otherwise.
template <typename OpTy>
static Type binaryResultElementType(Type lhsElt) {
  if constexpr (std::is_same_v<OpTy, EqualOp> || std::is_same_v<OpTy, LessOp> ||
                std::is_same_v<OpTy, GreaterOp>)
    return IntegerType::get(lhsElt.getContext(), 1);
  return lhsElt;
}

template <typename OpTy>
static LogicalResult inferBinary(std::optional<Location> loc,
                                 typename OpTy::Adaptor adaptor,
                                 SmallVectorImpl<Type> &inferred) {
  auto lhs = rankedOf(adaptor.getLhs());
  auto rhs = rankedOf(adaptor.getRhs());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "operand element types differ: ",
                             lhs.getElementType(), " vs ", rhs.getElementType());
  SmallVector<int64_t> shape;
  if (failed(broadcastShapes(lhs.getShape(), rhs.getShape(), shape)))
    return emitOptionalError(loc, "operand shapes do not broadcast: ", lhs,
                             " and ", rhs);
  inferred.push_back(RankedTensorType::get(
      shape, binaryResultElementType<OpTy>(lhs.getElementType())));
  return success();
}

#define VT_BINARY_INFER(OP)                                                    \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> l, \
                                     Adaptor a, SmallVectorImpl<Type> &t) {    \
    return inferBinary<OP>(l, a, t);                                           \
  }
VT_BINARY_INFER(AddOp)
VT_BINARY_INFER(SubOp)
VT_BINARY_INFER(MulOp)
VT_BINARY_INFER(DivOp)
VT_BINARY_INFER(PowOp)
VT_BINARY_INFER(MaxOp)
VT_BINARY_INFER(MinOp)
VT_BINARY_INFER(EqualOp)
VT_BINARY_INFER(LessOp)
VT_BINARY_INFER(GreaterOp)
VT_BINARY_INFER(AndOp)
#undef VT_BINARY_INFER

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto lhs = rankedOf(adaptor.getLhs());
  auto rhs = rankedOf(adaptor.getRhs());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "select branches have different types");
  SmallVector<int64_t> tmp, shape;
  if (failed(broadcastShapes(rankedOf(adaptor.getCond()).getShape(),
                             lhs.getShape(), tmp)) ||
      failed(broadcastShapes(tmp, rhs.getShape(), shape)))
    return emitOptionalError(loc, "select operands do not broadcast");
  inferred.push_back(RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

LogicalResult RandomUniformOp::verify() {
  auto type = getType();
  Value shape = getShape();
  if (!shape) {
    if (!type.hasStaticShape())
      return emitOpError("a result with dynamic dims needs a shape operand, "
                         "got ")
             << type;
    return success();
  }
  auto shapeType = cast<RankedTensorType>(shape.getType());
  if (!shapeType.isDynamicDim(0) && shapeType.getDimSize(0) != type.getRank())
    return emitOpError("result rank ")
           << type.getRank() << " != shape length " << shapeType.getDimSize(0);
  if (auto dims = getConstantInts(shape))
    for (auto [d, s] : llvm::enumerate(*dims))
      if (s < 0 || (!type.isDynamicDim(d) && type.getDimSize(d) != s))
        return emitOpError("shape entry ")
               << d << " is " << s << ", but the result has " << type;
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

static LogicalResult inferReduce(std::optional<Location> loc, Value input,
                                 ArrayRef<int64_t> axes, bool keepdims,
                                 SmallVectorImpl<Type> &inferred) {
  auto type = rankedOf(input);
  SmallVector<int64_t> shape;
  for (auto [i, d] : llvm::enumerate(type.getShape())) {
    if (!llvm::is_contained(axes, (int64_t)i))
      shape.push_back(d);
    else if (keepdims)
      shape.push_back(1);
  }
  for (int64_t a : axes)
    if (a < 0 || a >= type.getRank())
      return emitOptionalError(loc, "reduction axis ", a, " out of range");
  inferred.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

#define VT_REDUCE(OP)                                                          \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> l, \
                                     Adaptor a, SmallVectorImpl<Type> &t) {    \
    return inferReduce(l, a.getInput(), a.getAxes(), a.getKeepdims(), t);      \
  }                                                                            \
  LogicalResult OP::verify() {                                                 \
    for (size_t i = 1; i < getAxes().size(); ++i)                              \
      if (getAxes()[i] <= getAxes()[i - 1])                                    \
        return emitOpError("axes must be sorted and unique");                  \
    return success();                                                          \
  }
VT_REDUCE(ReduceSumOp)
VT_REDUCE(ReduceMaxOp)
VT_REDUCE(ReduceMinOp)
VT_REDUCE(ReduceMeanOp)
#undef VT_REDUCE

//===----------------------------------------------------------------------===//
// Accumulating anchors (matmul, conv2d)
//===----------------------------------------------------------------------===//

/// The inferred result (the operands' element type) or the same shape in a
/// wider float type, in which the products accumulate (mixed precision).
static bool isInferredOrWider(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != 1 || actual.size() != 1)
    return false;
  if (inferred == actual)
    return true;
  auto l = dyn_cast<RankedTensorType>(inferred[0]);
  auto r = dyn_cast<RankedTensorType>(actual[0]);
  if (!l || !r || l.getShape() != r.getShape())
    return false;
  auto lf = dyn_cast<FloatType>(l.getElementType());
  auto rf = dyn_cast<FloatType>(r.getElementType());
  return lf && rf && lf.getWidth() < rf.getWidth();
}

bool MatmulOp::isCompatibleReturnTypes(TypeRange l, TypeRange r) {
  return isInferredOrWider(l, r);
}

bool Conv2dOp::isCompatibleReturnTypes(TypeRange l, TypeRange r) {
  return isInferredOrWider(l, r);
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto lhs = rankedOf(adaptor.getLhs());
  auto rhs = rankedOf(adaptor.getRhs());
  if (lhs.getRank() == 0 || rhs.getRank() == 0)
    return emitOptionalError(loc, "matmul operands must have rank >= 1");
  SmallVector<int64_t> a(lhs.getShape()), b(rhs.getShape());
  bool lhsVec = a.size() == 1, rhsVec = b.size() == 1;
  if (lhsVec)
    a.insert(a.begin(), 1);
  if (rhsVec)
    b.push_back(1);
  int64_t k1 = a.back(), k2 = b[b.size() - 2];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return emitOptionalError(loc, "matmul contraction dims differ: ", k1,
                             " vs ", k2);
  SmallVector<int64_t> batch;
  if (failed(broadcastShapes(ArrayRef(a).drop_back(2), ArrayRef(b).drop_back(2),
                             batch)))
    return emitOptionalError(loc, "matmul batch dims do not broadcast");
  if (!lhsVec)
    batch.push_back(a[a.size() - 2]);
  if (!rhsVec)
    batch.push_back(b.back());
  inferred.push_back(RankedTensorType::get(batch, lhs.getElementType()));
  return success();
}

LogicalResult MatmulOp::verify() {
  if (getLhs().getType().getElementType() != getRhs().getType().getElementType())
    return emitOpError("operand element types differ");
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Output extent of a sliding window, ONNX's formula (floor, or ceil mode).
static int64_t windowOut(int64_t in, int64_t k, int64_t stride, int64_t padLo,
                         int64_t padHi, int64_t dilation, bool ceil) {
  if (in == kDyn || k == kDyn)
    return kDyn;
  int64_t span = in + padLo + padHi - dilation * (k - 1) - 1;
  int64_t out = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
  // In ceil mode the last window must start inside the (left-padded) input.
  if (ceil && (out - 1) * stride >= in + padLo)
    --out;
  return out;
}

static LogicalResult checkWindowAttrs(std::optional<Location> loc,
                                      ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations) {
  if (strides.size() != 2 || pads.size() != 4 || dilations.size() != 2)
    return emitOptionalError(
        loc, "expected 2 strides, 4 pads [top, left, bottom, right], 2 dilations");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "strides and dilations must be >= 1, pads >= 0");
  return success();
}

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto w = rankedOf(adaptor.getFilter());
  if (in.getRank() != 4 || w.getRank() != 4)
    return emitOptionalError(loc, "conv2d expects 4-D NCHW input and OIHW filter");
  auto strides = adaptor.getStrides(), pads = adaptor.getPads(),
       dil = adaptor.getDilations();
  if (failed(checkWindowAttrs(loc, strides, pads, dil)))
    return failure();
  SmallVector<int64_t> shape = {in.getDimSize(0), w.getDimSize(0)};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOut(in.getDimSize(2 + i), w.getDimSize(2 + i),
                              strides[i], pads[i], pads[2 + i], dil[i], false));
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult Conv2dOp::verify() {
  auto in = getInput().getType(), w = getFilter().getType();
  int64_t g = getGroup();
  if (g < 1)
    return emitOpError("group must be >= 1");
  int64_t c = in.getDimSize(1), o = w.getDimSize(0), wc = w.getDimSize(1);
  if (c != kDyn && wc != kDyn && c != wc * g)
    return emitOpError("input channels ")
           << c << " != filter channels " << wc << " x group " << g;
  if (o != kDyn && o % g != 0)
    return emitOpError("output channels ") << o << " not divisible by group " << g;
  if (in.getElementType() != w.getElementType())
    return emitOpError("input and filter element types differ");
  if (getBias()) {
    auto b = getBias().getType();
    if (b.getRank() != 1 || (b.getDimSize(0) != kDyn && o != kDyn && b.getDimSize(0) != o))
      return emitOpError("bias must be 1-D with one value per output channel");
    if (b.getElementType() != getType().getElementType())
      return emitOpError("bias element type must be the result's");
  }
  return success();
}

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, Adaptor adaptor,
                               ArrayRef<int64_t> dilations,
                               SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  if (in.getRank() != 4)
    return emitOptionalError(loc, "pooling expects a 4-D NCHW input");
  auto k = adaptor.getKernel(), strides = adaptor.getStrides(),
       pads = adaptor.getPads();
  if (k.size() != 2)
    return emitOptionalError(loc, "expected a 2-D kernel");
  if (failed(checkWindowAttrs(loc, strides, pads, dilations)))
    return failure();
  SmallVector<int64_t> shape = {in.getDimSize(0), in.getDimSize(1)};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOut(in.getDimSize(2 + i), k[i], strides[i], pads[i],
                              pads[2 + i], dilations[i], adaptor.getCeilMode()));
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult MaxPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  return inferPool(loc, adaptor, adaptor.getDilations(), inferred);
}
LogicalResult MaxPool2dOp::verify() { return success(); }

LogicalResult AvgPool2dOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  int64_t ones[2] = {1, 1};
  return inferPool(loc, adaptor, ones, inferred);
}
LogicalResult AvgPool2dOp::verify() { return success(); }

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto shape = getShape().getType();
  if (shape.getRank() != 1)
    return emitOpError("shape must be a 1-D tensor");
  if (shape.hasStaticShape() && shape.getDimSize(0) != getType().getRank())
    return emitOpError("result rank ")
           << getType().getRank() << " != shape length " << shape.getDimSize(0);
  auto in = getInput().getType();
  if (in.getElementType() != getType().getElementType())
    return emitOpError("reshape cannot change the element type");
  if (in.hasStaticShape() && getType().hasStaticShape() &&
      in.getNumElements() != getType().getNumElements())
    return emitOpError("element count changes from ")
           << in.getNumElements() << " to " << getType().getNumElements();
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto perm = adaptor.getPerm();
  if ((int64_t)perm.size() != in.getRank())
    return emitOptionalError(loc, "perm length must equal the input rank");
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= in.getRank())
      return emitOptionalError(loc, "perm entry ", p, " out of range");
    shape.push_back(in.getDimSize(p));
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult TransposeOp::verify() {
  SmallVector<bool> seen(getPerm().size(), false);
  for (int64_t p : getPerm()) {
    if (seen[p])
      return emitOpError("perm is not a permutation");
    seen[p] = true;
  }
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "concat needs at least one input");
  auto first = rankedOf(adaptor.getInputs()[0]);
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "concat axis ", axis, " out of range");
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : adaptor.getInputs()) {
    auto t = rankedOf(v);
    if (t.getRank() != first.getRank() ||
        t.getElementType() != first.getElementType())
      return emitOptionalError(loc, "concat inputs differ in rank or type");
    for (int64_t d = 0; d < t.getRank(); ++d) {
      int64_t s = t.getDimSize(d);
      if (d == axis) {
        shape[d] = (shape[d] == kDyn || s == kDyn) ? kDyn : shape[d] + s;
      } else if (shape[d] == kDyn) {
        shape[d] = s;
      } else if (s != kDyn && s != shape[d]) {
        return emitOptionalError(loc, "concat inputs differ in dim ", d);
      }
    }
  }
  inferred.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

/// ONNX Slice arithmetic for one dim of static size `dim`: the result extent.
static int64_t sliceExtent(int64_t dim, int64_t start, int64_t end,
                           int64_t step) {
  if (dim == kDyn)
    return kDyn;
  auto clampIdx = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0)
      v += dim;
    return std::clamp(v, lo, hi);
  };
  if (step > 0) {
    int64_t s = clampIdx(start, 0, dim), e = clampIdx(end, 0, dim);
    return e > s ? (e - s + step - 1) / step : 0;
  }
  int64_t s = clampIdx(start, -1, dim - 1), e = clampIdx(end, -1, dim - 1);
  return s > e ? (s - e + (-step) - 1) / (-step) : 0;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto starts = adaptor.getStarts(), ends = adaptor.getEnds(),
       steps = adaptor.getSteps();
  if ((int64_t)starts.size() != in.getRank() ||
      (int64_t)ends.size() != in.getRank() ||
      (int64_t)steps.size() != in.getRank())
    return emitOptionalError(loc, "slice needs one start/end/step per dim");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (steps[d] == 0)
      return emitOptionalError(loc, "slice step must not be 0");
    shape.push_back(sliceExtent(in.getDimSize(d), starts[d], ends[d], steps[d]));
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult SliceOp::verify() { return success(); }

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto idx = rankedOf(adaptor.getIndices());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= in.getRank())
    return emitOptionalError(loc, "gather axis ", axis, " out of range");
  SmallVector<int64_t> shape(in.getShape().take_front(axis));
  llvm::append_range(shape, idx.getShape());
  llvm::append_range(shape, in.getShape().drop_front(axis + 1));
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult ScatterOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  inferred.push_back(rankedOf(adaptor.getData()));
  return success();
}

/// updates must be shaped like gather(data, indices, axis): [P..., Q..., S...].
LogicalResult ScatterOp::verify() {
  auto data = getData().getType(), idx = getIndices().getType(),
       upd = getUpdates().getType();
  int64_t axis = getAxis(), q = idx.getRank();
  if (axis < 0 || axis >= data.getRank())
    return emitOpError("axis ") << axis << " out of range for " << data;
  StringRef r = getReduction();
  if (r != "none" && r != "add" && r != "mul" && r != "max" && r != "min")
    return emitOpError("unknown reduction '")
           << r << "' (none, add, mul, max or min)";
  if (upd.getElementType() != data.getElementType())
    return emitOpError("updates' element type ")
           << upd.getElementType() << " differs from data's "
           << data.getElementType();
  if (upd.getRank() != data.getRank() - 1 + q)
    return emitOpError("updates ")
           << upd << " must have rank " << data.getRank() - 1 + q
           << " (data's dims with the axis replaced by indices' dims)";
  for (int64_t d = 0; d < upd.getRank(); ++d) {
    int64_t want = d < axis       ? data.getDimSize(d)
                   : d < axis + q ? idx.getDimSize(d - axis)
                                  : data.getDimSize(d - q + 1);
    int64_t got = upd.getDimSize(d);
    if (got != kDyn && want != kDyn && got != want)
      return emitOpError("updates ")
             << upd << " differ in dim " << d << " from data " << data
             << " scattered by indices " << idx << " along axis " << axis;
  }
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto pads = adaptor.getPads();
  if ((int64_t)pads.size() != 2 * in.getRank())
    return emitOptionalError(loc, "pad needs 2 x rank pads");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t s = in.getDimSize(d);
    shape.push_back(s == kDyn ? kDyn : s + pads[d] + pads[d + in.getRank()]);
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto in = rankedOf(adaptor.getInput());
  auto reps = adaptor.getRepeats();
  if ((int64_t)reps.size() != in.getRank())
    return emitOptionalError(loc, "tile needs one repeat per dim");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    int64_t s = in.getDimSize(d);
    shape.push_back(s == kDyn ? kDyn : s * reps[d]);
  }
  inferred.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult ShapeOfOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  inferred.push_back(RankedTensorType::get({rankedOf(adaptor.getInput()).getRank()},
                                           IntegerType::get(ctx, 64)));
  return success();
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

LogicalResult FusionOp::verify() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body takes ") << body.getNumArguments()
                                      << " arguments for " << getInputs().size()
                                      << " inputs";
  for (auto [arg, in] : llvm::zip(body.getArguments(), getInputs()))
    if (arg.getType() != in.getType())
      return emitOpError("body argument type differs from its input");
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("yielded types differ from the results");
  return success();
}

#define GET_OP_CLASSES
#include "vitc/Dialect/Vt/VtOps.cpp.inc"
