//===- GradBuilder.cpp - shared pieces of the vt gradient rules -----------===//
//
// The builder the gradient rules share (see GradBuilder.h) and
// unbroadcastGradient, the sum that gives a broadcast operand its gradient.
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

#include <algorithm>

using namespace mlir;
using namespace vitc::vt;

Value vitc::vt::unbroadcastGradient(OpBuilder &b, Location loc, Value grad,
                                    Value operand) {
  auto gradType = rankedOf(grad);
  // The operand's shape in the gradient's element type (a mixed-precision
  // anchor's gradient is summed in its wider type before rounding).
  auto type = rankedOf(operand).clone(gradType.getElementType());
  if (gradType == type)
    return grad;
  int64_t lead = gradType.getRank() - type.getRank();
  assert(lead >= 0 && "operand of higher rank than the result");
  SmallVector<int64_t> axes = llvm::to_vector(llvm::seq<int64_t>(0, lead));
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.getDimSize(i) == 1 && gradType.getDimSize(lead + i) != 1)
      axes.push_back(lead + i);
  Value sum = grad;
  if (!axes.empty()) {
    // Only leading dims: drop them in the reduction; otherwise keep them all
    // (size 1) and reshape them away below.
    bool onlyLeading = (int64_t)axes.size() == lead;
    sum = ReduceSumOp::create(b, loc, grad, axes, /*keepdims=*/!onlyLeading);
  }
  if (sum.getType() != type)
    sum = ReshapeOp::create(b, loc, type, sum, buildShapeOf(b, loc, operand));
  return sum;
}

Value GradBuilder::where(Value cond, Value x, bool swap) {
  Value zero = scalar(x, 0.0);
  return swap ? SelectOp::create(b, loc, cond, zero, x).getResult()
              : SelectOp::create(b, loc, cond, x, zero).getResult();
}

Value GradBuilder::castElements(Value x, Type elt) {
  auto type = rankedOf(x);
  if (type.getElementType() == elt)
    return x;
  return CastOp::create(b, loc, type.clone(elt), x);
}

Value GradBuilder::accumulateIn(Value anchor, Type acc) {
  auto type = rankedOf(anchor);
  if (type.getElementType() != acc)
    anchor.setType(type.clone(acc));
  return anchor;
}

Value GradBuilder::transposeLast2(Value x) {
  int64_t rank = rankedOf(x).getRank();
  auto perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, x, perm);
}

Value GradBuilder::reshape(Value x, ArrayRef<int64_t> shape,
                           RankedTensorType type) {
  auto shapeType =
      RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  Value s = ConstantOp::create(b, loc, DenseIntElementsAttr::get(shapeType, shape),
                               StringAttr());
  return ReshapeOp::create(b, loc, type, x, s);
}

Value GradBuilder::keepDims(Value grad, Value x, ArrayRef<int64_t> axes,
                            bool keepdims) {
  if (keepdims || axes.empty())
    return grad;
  auto xType = rankedOf(x);
  SmallVector<int64_t> shape(xType.getShape());
  for (int64_t a : axes)
    shape[a] = 1;
  auto type = RankedTensorType::get(shape, xType.getElementType());
  auto shapeType = RankedTensorType::get({xType.getRank()}, b.getI64Type());
  if (xType.hasStaticShape())
    return reshape(grad, shape, type);
  // shape_of(x) * keep + reduced: 1 on reduced dims, x's dim elsewhere.
  SmallVector<int64_t> keep(xType.getRank(), 1), reduced(xType.getRank(), 0);
  for (int64_t a : axes) {
    keep[a] = 0;
    reduced[a] = 1;
  }
  auto constant = [&](ArrayRef<int64_t> v) -> Value {
    return ConstantOp::create(b, loc, DenseIntElementsAttr::get(shapeType, v),
                              StringAttr());
  };
  Value s = add(mul(ShapeOfOp::create(b, loc, x), constant(keep)),
                constant(reduced));
  return ReshapeOp::create(b, loc, type, grad, s);
}

Value GradBuilder::broadcastLike(Value v, Value x) {
  if (v.getType() == x.getType())
    return v;
  return ExpandOp::create(b, loc, x.getType(), v, buildShapeOf(b, loc, x));
}

Value GradBuilder::reducedCount(Value x, ArrayRef<int64_t> axes) {
  auto xType = rankedOf(x);
  double known = 1;
  Value count;
  for (int64_t a : axes) {
    if (!xType.isDynamicDim(a)) {
      known *= xType.getDimSize(a);
      continue;
    }
    auto idxType = RankedTensorType::get({}, b.getI64Type());
    Value idx = ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(idxType, ArrayRef<int64_t>{a}),
        StringAttr());
    Value dim = GatherOp::create(b, loc, ShapeOfOp::create(b, loc, x), idx,
                                 /*axis=*/0);
    dim = CastOp::create(
        b, loc, RankedTensorType::get({}, xType.getElementType()), dim);
    count = count ? mul(count, dim) : dim;
  }
  Value knownValue = scalar(x, known);
  return count ? mul(count, knownValue) : knownValue;
}

Value GradBuilder::intConstant(ArrayRef<int64_t> shape,
                               ArrayRef<int64_t> values, Type elt) {
  auto type = RankedTensorType::get(shape, elt);
  unsigned width = elt.getIntOrFloatBitWidth();
  auto bits = llvm::map_to_vector(values, [&](int64_t v) {
    return APInt(width, v, /*isSigned=*/true, /*implicitTrunc=*/true);
  });
  return ConstantOp::create(b, loc, DenseElementsAttr::get(type, bits),
                            StringAttr());
}

Value GradBuilder::reshapeTo(Value x, ArrayRef<int64_t> shape) {
  auto xType = rankedOf(x);
  SmallVector<int64_t> dims;
  int64_t known = 1;
  bool inferOne = false;
  for (auto [i, d] : llvm::enumerate(shape)) {
    int64_t s = d;
    if (d == 0)
      s = xType.getDimSize(i);
    else if (d == -1)
      s = ShapedType::kDynamic, inferOne = true;
    if (!ShapedType::isDynamic(s))
      known *= s;
    dims.push_back(s);
  }
  // One -1 among static dims of a static input: its size is known.
  if (inferOne && xType.hasStaticShape() && known != 0 &&
      llvm::count(dims, ShapedType::kDynamic) == 1)
    *llvm::find(dims, ShapedType::kDynamic) = xType.getNumElements() / known;
  return reshape(x, shape,
                 RankedTensorType::get(dims, xType.getElementType()));
}

Value GradBuilder::pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi,
                       double value) {
  SmallVector<int64_t> pads(lo);
  llvm::append_range(pads, hi);
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return x;
  return PadOp::create(b, loc, x, b.getDenseI64ArrayAttr(pads),
                       b.getF64FloatAttr(value));
}

Value GradBuilder::dilate(Value x, ArrayRef<int64_t> factors) {
  auto xType = rankedOf(x);
  int64_t rank = xType.getRank();
  int64_t first = rank;
  for (int64_t i = rank - 1; i >= 0; --i)
    if (factors[i] > 1)
      first = i;
  if (first == rank)
    return x;
  SmallVector<int64_t> split, merged, lo, hi;
  bool inferred = false;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = xType.getDimSize(i);
    if (ShapedType::isDynamic(d)) {
      if (factors[i] > 1)
        return Value();
      if (i < first) {
        d = 0;
      } else if (!inferred) {
        d = -1, inferred = true;
      } else {
        return Value();
      }
    }
    split.push_back(d);
    merged.push_back(factors[i] > 1 ? d * factors[i] : d);
    lo.push_back(0);
    hi.push_back(0);
    if (factors[i] > 1) {
      split.push_back(1);
      lo.push_back(0);
      hi.push_back(factors[i] - 1);
    }
  }
  return reshapeTo(pad(reshapeTo(x, split), lo, hi), merged);
}

Value GradBuilder::convInputGrad(Value g, Value flipped, int64_t group,
                                 ArrayRef<int64_t> strides,
                                 ArrayRef<int64_t> pads, ArrayRef<int64_t> dil,
                                 ArrayRef<int64_t> k, ArrayRef<int64_t> in,
                                 Type acc) {
  auto gType = rankedOf(g);
  Value spread = dilate(g, {1, 1, strides[0], strides[1]});
  if (!spread)
    return Value();
  // The convolution's padding is made the same on both sides of each dim:
  // cuDNN takes one pad per dim, and oneDNN 2.6's winograd backward-data
  // kernel, which the CPU runtime runs for such "full" convolutions, gets
  // unequal pads wrong (issue #13: Inception v3's stride-2 3x3 convolutions
  // on odd sizes). The spread ends in stride - 1 zeros per dim, which may as
  // well be high padding: up to that many are cropped and padded back (this
  // evens out the pads of every forward convolution whose own pads are
  // equal). Padding still unequal is raised to the larger side, and the
  // extra output rows or columns are cropped.
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  SmallVector<int64_t> keep = {kToEnd, kToEnd}, from = {0, 0},
                       to = {kToEnd, kToEnd};
  bool trim = false, crop = false;
  for (int i = 0; i < 2; ++i) {
    int64_t reach = dil[i] * (k[i] - 1);
    int64_t spreadSize = gType.getDimSize(2 + i) * strides[i];
    int64_t l = reach - pads[i], h = in[i] + reach - l - spreadSize;
    int64_t t = std::clamp<int64_t>(l - h, 0, strides[i] - 1);
    keep.push_back(t ? spreadSize - t : kToEnd);
    trim |= t != 0;
    h += t;
    int64_t m = std::max(l, h);
    from.push_back(m - l);
    to.push_back(m - l + in[i]);
    crop |= m != l || m != h;
    lo.push_back(m);
    hi.push_back(m);
  }
  if (trim)
    spread = slice(spread, {0, 0, 0, 0}, keep, {1, 1, 1, 1});
  int64_t ones[] = {1, 1}, noPads[] = {0, 0, 0, 0};
  Value dx = accumulateIn(Conv2dOp::create(b, loc, pad(spread, lo, hi),
                                           flipped, Value(), ones, noPads, dil,
                                           group),
                          acc);
  if (crop)
    dx = slice(dx, from, to, {1, 1, 1, 1});
  return dx;
}
