//===- VtFolders.cpp - constant folding of small vt tensors -----------------===//
//
// Exporters compute shapes in the graph (Shape -> Gather -> Concat ->
// Reshape). These folders evaluate such chains when their inputs are
// constant, so static shapes become attributes and the chains vanish under
// canonicalisation. Only small tensors fold (kFoldLimit elements): weights
// are never copied into new attributes here.
//
//===----------------------------------------------------------------------===//
#include "vitc/Dialect/Vt/VtOps.h"
#include "vitc/Dialect/Vt/VtRandom.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace vitc::vt;

// Shapes of a few dims are the usual case; index tensors built from shapes
// (Swin's window-mask scatter: [56, 56, 2]) are the largest wanted.
static constexpr int64_t kFoldLimit = 1 << 16;

/// A dense constant of at most kFoldLimit elements, or null.
static DenseElementsAttr smallConst(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kFoldLimit)
    return {};
  return dense;
}

/// Row-major strides of `shape`.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// For each element of a result of `outShape`, the linear index into an
/// operand of `inShape` broadcast to it (numpy rules, right-aligned).
static SmallVector<int64_t> broadcastIndex(ArrayRef<int64_t> inShape,
                                           ArrayRef<int64_t> outShape) {
  int64_t n = 1;
  for (int64_t d : outShape)
    n *= d;
  SmallVector<int64_t> inStrides = stridesOf(inShape), result(n);
  int64_t offset = outShape.size() - inShape.size();
  for (int64_t lin = 0; lin < n; ++lin) {
    int64_t rem = lin, idx = 0;
    for (int64_t d = outShape.size() - 1; d >= 0; --d) {
      int64_t coord = rem % outShape[d];
      rem /= outShape[d];
      int64_t id = d - offset;
      if (id >= 0 && inShape[id] != 1)
        idx += coord * inStrides[id];
    }
    result[lin] = idx;
  }
  return result;
}

/// Evaluates a binary op elementwise on constants of any int or float type.
template <typename IntFn, typename FloatFn>
static Attribute foldBinary(Attribute lhsAttr, Attribute rhsAttr,
                            RankedTensorType resultType, IntFn intFn,
                            FloatFn floatFn) {
  auto lhs = smallConst(lhsAttr), rhs = smallConst(rhsAttr);
  if (!lhs || !rhs || !resultType.hasStaticShape() ||
      resultType.getNumElements() > kFoldLimit)
    return {};
  auto li = broadcastIndex(lhs.getType().getShape(), resultType.getShape());
  auto ri = broadcastIndex(rhs.getType().getShape(), resultType.getShape());
  Type elt = lhs.getElementType();
  if (isa<IntegerType>(elt)) {
    auto lv = llvm::to_vector(lhs.getValues<APInt>());
    auto rv = llvm::to_vector(rhs.getValues<APInt>());
    SmallVector<APInt> out;
    for (size_t i = 0; i < li.size(); ++i) {
      std::optional<APInt> v = intFn(lv[li[i]], rv[ri[i]]);
      if (!v)
        return {};
      out.push_back(*v);
    }
    return DenseElementsAttr::get(resultType, out);
  }
  if (isa<FloatType>(elt)) {
    auto lv = llvm::to_vector(lhs.getValues<APFloat>());
    auto rv = llvm::to_vector(rhs.getValues<APFloat>());
    SmallVector<Attribute> out;
    Type outElt = resultType.getElementType();
    for (size_t i = 0; i < li.size(); ++i) {
      std::optional<APFloat> v = floatFn(lv[li[i]], rv[ri[i]]);
      if (!v)
        return {};
      if (isa<IntegerType>(outElt)) // comparisons yield i1
        out.push_back(IntegerAttr::get(outElt, v->isNonZero() ? 1 : 0));
      else
        out.push_back(FloatAttr::get(outElt, *v));
    }
    return DenseElementsAttr::get(resultType, out);
  }
  return {};
}

static APInt boolInt(bool b) { return APInt(1, b ? 1 : 0); }
static APFloat boolFloat(bool b) { return APFloat(b ? 1.0 : 0.0); }
using OptInt = std::optional<APInt>;
using OptFloat = std::optional<APFloat>;

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult AddOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x + y; },
      [](APFloat x, APFloat y) -> OptFloat { return x + y; });
}
OpFoldResult SubOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x - y; },
      [](APFloat x, APFloat y) -> OptFloat { return x - y; });
}
OpFoldResult MulOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x * y; },
      [](APFloat x, APFloat y) -> OptFloat { return x * y; });
}
OpFoldResult DivOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt {
        if (y.isZero())
          return std::nullopt;
        return x.sdiv(y);
      },
      [](APFloat x, APFloat y) -> OptFloat { return x / y; });
}
OpFoldResult PowOp::fold(FoldAdaptor) { return {}; }
OpFoldResult MaxOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x.sgt(y) ? x : y; },
      [](APFloat x, APFloat y) -> OptFloat { return llvm::maximum(x, y); });
}
OpFoldResult MinOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x.slt(y) ? x : y; },
      [](APFloat x, APFloat y) -> OptFloat { return llvm::minimum(x, y); });
}
OpFoldResult EqualOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return boolInt(x == y); },
      [](APFloat x, APFloat y) -> OptFloat {
        return boolFloat(x.compare(y) == APFloat::cmpEqual);
      });
}
OpFoldResult LessOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return boolInt(x.slt(y)); },
      [](APFloat x, APFloat y) -> OptFloat {
        return boolFloat(x.compare(y) == APFloat::cmpLessThan);
      });
}
OpFoldResult GreaterOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return boolInt(x.sgt(y)); },
      [](APFloat x, APFloat y) -> OptFloat {
        return boolFloat(x.compare(y) == APFloat::cmpGreaterThan);
      });
}
OpFoldResult AndOp::fold(FoldAdaptor a) {
  return foldBinary(a.getLhs(), a.getRhs(), getType(),
      [](APInt x, APInt y) -> OptInt { return x & y; },
      [](APFloat, APFloat) -> OptFloat { return std::nullopt; });
}

OpFoldResult CastOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType())
    return getInput();
  auto in = smallConst(a.getInput());
  if (!in)
    return {};
  Type from = in.getElementType(), to = getType().getElementType();
  auto toInt = dyn_cast<IntegerType>(to);
  if (isa<IntegerType>(from) && toInt) {
    SmallVector<APInt> out;
    for (APInt v : in.getValues<APInt>())
      out.push_back(from.isInteger(1)     ? v.zext(toInt.getWidth())
                    : toInt.getWidth() == 1 ? APInt(1, v.isZero() ? 0 : 1)
                                            : v.sextOrTrunc(toInt.getWidth()));
    return DenseElementsAttr::get(getType(), out);
  }
  if (isa<IntegerType>(from) && isa<FloatType>(to)) {
    // i1 is a bool: true is 1, not the -1 its sign extension would give.
    SmallVector<Attribute> out;
    for (APInt v : in.getValues<APInt>())
      out.push_back(FloatAttr::get(
          to, from.isInteger(1) ? (double)v.getZExtValue() : (double)v.getSExtValue()));
    return DenseElementsAttr::get(getType(), out);
  }
  if (isa<FloatType>(from) && toInt) {
    // Casting to bool tests for non-zero; to other ints truncates toward 0.
    SmallVector<APInt> out;
    for (APFloat v : in.getValues<APFloat>())
      out.push_back(toInt.getWidth() == 1
                        ? APInt(1, v.isZero() ? 0 : 1)
                        : APInt(toInt.getWidth(), (int64_t)v.convertToDouble(), true));
    return DenseElementsAttr::get(getType(), out);
  }
  if (isa<FloatType>(from) && isa<FloatType>(to)) {
    SmallVector<Attribute> out;
    for (APFloat v : in.getValues<APFloat>())
      out.push_back(FloatAttr::get(to, v.convertToDouble()));
    return DenseElementsAttr::get(getType(), out);
  }
  return {};
}

OpFoldResult ShapeOfOp::fold(FoldAdaptor) {
  auto in = getInput().getType();
  if (!in.hasStaticShape())
    return {};
  return DenseIntElementsAttr::get(getType(), in.getShape());
}

/// A constant seed and a small static result: the values themselves, from
/// the reference generator (so a folded mask equals a computed one).
OpFoldResult RandomUniformOp::fold(FoldAdaptor a) {
  auto seed = dyn_cast_or_null<DenseIntElementsAttr>(a.getSeed());
  auto first = dyn_cast_or_null<DenseIntElementsAttr>(a.getFirst());
  auto type = getType();
  if (!seed || (getFirst() && !first) || !type.hasStaticShape() ||
      type.getNumElements() > kFoldLimit)
    return {};
  int64_t seedValue = (*seed.getValues<APInt>().begin()).getSExtValue();
  int64_t firstIndex =
      first ? (*first.getValues<APInt>().begin()).getSExtValue() : 0;
  uint64_t key = random::streamKey(seedValue, getStream());
  SmallVector<float> values;
  for (int64_t i = 0; i < type.getNumElements(); ++i)
    values.push_back(random::uniform(key, firstIndex + i));
  return DenseElementsAttr::get(type, ArrayRef(values));
}

/// Re-lays out the elements of a small constant: result element i is
/// input element `index[i]`.
static Attribute gatherElements(DenseElementsAttr in, RankedTensorType type,
                                ArrayRef<int64_t> index) {
  auto values = llvm::to_vector(in.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t i : index)
    out.push_back(values[i]);
  return DenseElementsAttr::get(type, out);
}

/// Picks elements `index` of a 1-D source that is a constant (`in`) or the
/// shape of a partly static tensor (`source` = vt.shape_of): exporters read
/// single dims of activations whose batch is dynamic (Swin's window padding,
/// a Slice's `ends`), and the dims they read are often static. Null unless
/// every picked element is known.
static Attribute pickElements(DenseElementsAttr in, Value source,
                              RankedTensorType type, ArrayRef<int64_t> index) {
  if (in)
    return gatherElements(in, type, index);
  auto shapeOf = source.getDefiningOp<ShapeOfOp>();
  if (!shapeOf || !isa<IntegerType>(type.getElementType()))
    return {};
  auto dims = shapeOf.getInput().getType().getShape();
  SmallVector<APInt> out;
  for (int64_t i : index) {
    if (i < 0 || i >= (int64_t)dims.size() || ShapedType::isDynamic(dims[i]))
      return {};
    out.push_back(APInt(type.getElementTypeBitWidth(), dims[i], true));
  }
  return DenseElementsAttr::get(type, out);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto in = dyn_cast_or_null<DenseElementsAttr>(a.getInput());
  if (in && getType().hasStaticShape() && in.getNumElements() <= kFoldLimit)
    return in.reshape(getType());
  return {};
}

OpFoldResult ExpandOp::fold(FoldAdaptor a) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto in = smallConst(a.getInput());
  if (!in || !getType().hasStaticShape() ||
      getType().getNumElements() > kFoldLimit)
    return {};
  if (in.isSplat())
    return DenseElementsAttr::get(getType(), in.getSplatValue<Attribute>());
  return gatherElements(in, getType(),
                        broadcastIndex(in.getType().getShape(), getType().getShape()));
}

OpFoldResult TransposeOp::fold(FoldAdaptor a) {
  if (llvm::equal(getPerm(), llvm::seq<int64_t>(0, getPerm().size())))
    return getInput();
  auto in = smallConst(a.getInput());
  if (!in || !getType().hasStaticShape())
    return {};
  auto inStrides = stridesOf(in.getType().getShape());
  auto outShape = getType().getShape();
  SmallVector<int64_t> index;
  for (int64_t lin = 0; lin < getType().getNumElements(); ++lin) {
    int64_t rem = lin, idx = 0;
    for (int64_t d = outShape.size() - 1; d >= 0; --d) {
      idx += (rem % outShape[d]) * inStrides[getPerm()[d]];
      rem /= outShape[d];
    }
    index.push_back(idx);
  }
  return gatherElements(in, getType(), index);
}

OpFoldResult ConcatOp::fold(FoldAdaptor a) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  if (!getType().hasStaticShape() || getType().getNumElements() > kFoldLimit)
    return {};
  // Each input contributes blocks of (its axis dim x inner) elements, one
  // per outer index, interleaved in input order.
  SmallVector<SmallVector<Attribute>> values;
  for (Attribute attr : a.getInputs()) {
    auto in = smallConst(attr);
    if (!in)
      return {};
    values.push_back(llvm::to_vector(in.getValues<Attribute>()));
  }
  auto shape = getType().getShape();
  int64_t axis = getAxis(), outer = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= shape[d];
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (auto &v : values) {
      int64_t block = v.size() / std::max<int64_t>(outer, 1);
      llvm::append_range(out, ArrayRef(v).slice(o * block, block));
    }
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult SelectOp::fold(FoldAdaptor a) {
  auto cond = smallConst(a.getCond());
  auto lhs = smallConst(a.getLhs()), rhs = smallConst(a.getRhs());
  if (cond && cond.isSplat() && getLhs().getType() == getType() &&
      getRhs().getType() == getType())
    return cond.getSplatValue<bool>() ? getLhs() : getRhs();
  if (!cond || !lhs || !rhs || !getType().hasStaticShape() ||
      getType().getNumElements() > kFoldLimit)
    return {};
  auto shape = getType().getShape();
  auto ci = broadcastIndex(cond.getType().getShape(), shape);
  auto li = broadcastIndex(lhs.getType().getShape(), shape);
  auto ri = broadcastIndex(rhs.getType().getShape(), shape);
  auto cv = llvm::to_vector(cond.getValues<bool>());
  auto lv = llvm::to_vector(lhs.getValues<Attribute>());
  auto rv = llvm::to_vector(rhs.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (size_t i = 0; i < ci.size(); ++i)
    out.push_back(cv[ci[i]] ? lv[li[i]] : rv[ri[i]]);
  return DenseElementsAttr::get(getType(), out);
}

OpFoldResult SliceOp::fold(FoldAdaptor a) {
  auto in = smallConst(a.getInput());
  auto type = getInput().getType();
  if (type == getType() && type.hasStaticShape() &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; }))
    return getInput();
  if ((!in && !getInput().getDefiningOp<ShapeOfOp>()) ||
      !getType().hasStaticShape() || getType().getNumElements() > kFoldLimit)
    return {};
  auto inStrides = stridesOf(type.getShape());
  auto outShape = getType().getShape();
  SmallVector<int64_t> index;
  for (int64_t lin = 0; lin < getType().getNumElements(); ++lin) {
    int64_t rem = lin, idx = 0;
    for (int64_t d = outShape.size() - 1; d >= 0; --d) {
      int64_t dim = type.getDimSize(d), step = getSteps()[d];
      int64_t start = getStarts()[d];
      if (start < 0)
        start += dim;
      start = step > 0 ? std::clamp<int64_t>(start, 0, dim)
                       : std::clamp<int64_t>(start, -1, dim - 1);
      idx += (start + (rem % outShape[d]) * step) * inStrides[d];
      rem /= outShape[d];
    }
    index.push_back(idx);
  }
  return pickElements(in, getInput(), getType(), index);
}

OpFoldResult GatherOp::fold(FoldAdaptor a) {
  auto in = smallConst(a.getInput());
  auto idx = smallConst(a.getIndices());
  if ((!in && !getInput().getDefiningOp<ShapeOfOp>()) || !idx ||
      !getType().hasStaticShape())
    return {};
  auto inShape = getInput().getType().getShape();
  int64_t axis = getAxis(), dim = inShape[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= inShape[d];
  for (int64_t d = axis + 1; d < (int64_t)inShape.size(); ++d)
    inner *= inShape[d];
  SmallVector<int64_t> index;
  auto ids = llvm::to_vector(idx.getValues<APInt>());
  for (int64_t o = 0; o < outer; ++o)
    for (const APInt &i : ids) {
      int64_t k = i.getSExtValue();
      if (k < 0)
        k += dim;
      if (k < 0 || k >= dim)
        return {};
      for (int64_t j = 0; j < inner; ++j)
        index.push_back((o * dim + k) * inner + j);
    }
  return pickElements(in, getInput(), getType(), index);
}

OpFoldResult RangeOp::fold(FoldAdaptor a) {
  auto start = smallConst(a.getStart()), limit = smallConst(a.getLimit()),
       delta = smallConst(a.getDelta());
  if (!start || !limit || !delta || !getType().hasStaticShape() ||
      !isa<IntegerType>(start.getElementType()))
    return {};
  int64_t s = start.getSplatValue<APInt>().getSExtValue();
  int64_t d = delta.getSplatValue<APInt>().getSExtValue();
  SmallVector<APInt> out;
  unsigned width = start.getElementType().getIntOrFloatBitWidth();
  for (int64_t i = 0; i < getType().getDimSize(0); ++i)
    out.push_back(APInt(width, s + i * d, true));
  return DenseElementsAttr::get(getType(), out);
}
