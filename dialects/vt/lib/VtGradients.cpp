//===- VtGradients.cpp - vector-Jacobian products of vt ops ---------------===//
//
// GradientOpInterface rules for vt-autodiff. Each rule writes the gradient of
// its operands from the gradient of its result in vt ops, so the backward
// graph is ordinary vt that decomposition, fusion and lowering treat like the
// forward graph. Rules reuse the forward result where the derivative is a
// function of it (exp, tanh, sigmoid, softmax) instead of recomputing.
// Scalars are rank-0 constants that broadcast. Operands that were broadcast
// get their gradient summed back to their shape (unbroadcastGradient).
//
// Convolution and pooling gradients are convolutions, strided slices and
// pads of the result gradient; "dilating" a tensor by a stride (zeros between
// its elements) is a reshape that adds a size-1 dim, a pad of that dim and a
// reshape back, since vt has no interior padding. Gather's scatter-add is a
// one-hot matmul (vt has no scatter op), fine for the small index ranges of
// vision models (class token, position tables).
//
// Mixed precision (vt-autocast-bf16): a matmul or conv with bf16 operands
// and an f32 result gets its operand gradients from products of the same
// kind, bf16 in and f32 out; they are summed over broadcast dims in f32 and
// rounded to the operand type only last. The rule of the cast that made the
// bf16 operand passes such a gradient through unrounded (a rounding's
// derivative is taken as the identity).
//
// Not covered yet (the pass reports "no gradient rule"): layer_norm and
// batch_norm (run vt-decompose first), hard_sigmoid/swish, 1-D matmul
// operands; conv2d and pools need static spatial dims, slice, concat and
// tile static dims where they cut or repeat.
//
//===----------------------------------------------------------------------===//
#include "vitc/Dialect/Vt/VtBuilder.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace vitc::vt;

static RankedTensorType rankedOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static bool isFloatTensor(Value v) {
  return isa<FloatType>(getElementTypeOrSelf(v.getType()));
}

Value vitc::vt::buildShapeOf(OpBuilder &b, Location loc, Value x) {
  auto type = rankedOf(x);
  if (type.hasStaticShape()) {
    auto shapeType = RankedTensorType::get({type.getRank()}, b.getI64Type());
    return ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(shapeType, type.getShape()),
        StringAttr());
  }
  return ShapeOfOp::create(b, loc, x);
}

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

namespace {

/// VtBuilder plus the shapes and movement gradient rules need; binary
/// results are inferred, unary ones keep their operand's type.
struct GradBuilder : VtBuilder {
  /// A rank-0 constant of `like`'s element type.
  Value scalar(Value like, double v) { return scalarLike(like, v); }
  /// cond ? x : 0 (or 0 : x with `swap`), broadcast three ways.
  Value where(Value cond, Value x, bool swap = false) {
    Value zero = scalar(x, 0.0);
    return swap ? SelectOp::create(b, loc, cond, zero, x).getResult()
                : SelectOp::create(b, loc, cond, x, zero).getResult();
  }
  Value unbroadcast(Value grad, Value operand) {
    return unbroadcastGradient(b, loc, grad, operand);
  }
  /// `x` converted to element type `elt` (itself if it has it).
  Value castElements(Value x, Type elt) {
    auto type = rankedOf(x);
    if (type.getElementType() == elt)
      return x;
    return CastOp::create(b, loc, type.clone(elt), x);
  }
  /// Makes the product `anchor` (a matmul or conv just built, its result
  /// inferred from its operands) accumulate and return in `acc`, the
  /// forward op's result type: f32 for bf16 operands.
  Value accumulateIn(Value anchor, Type acc) {
    auto type = rankedOf(anchor);
    if (type.getElementType() != acc)
      anchor.setType(type.clone(acc));
    return anchor;
  }
  /// Transposes the last two dims.
  Value transposeLast2(Value x) {
    int64_t rank = rankedOf(x).getRank();
    auto perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(perm[rank - 1], perm[rank - 2]);
    return TransposeOp::create(b, loc, x, perm);
  }
  Value reshape(Value x, ArrayRef<int64_t> shape, RankedTensorType type) {
    auto shapeType =
        RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
    Value s = ConstantOp::create(b, loc, DenseIntElementsAttr::get(shapeType, shape),
                                 StringAttr());
    return ReshapeOp::create(b, loc, type, x, s);
  }

  /// The result gradient of a reduction of `x` over `axes`, with the reduced
  /// dims as size 1 (reshaped back where the reduction dropped them), so
  /// that it broadcasts against `x`.
  Value keepDims(Value grad, Value x, ArrayRef<int64_t> axes, bool keepdims) {
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

  /// Broadcasts `v` (x's rank, size-1 dims) to x's shape.
  Value broadcastLike(Value v, Value x) {
    if (v.getType() == x.getType())
      return v;
    return ExpandOp::create(b, loc, x.getType(), v, buildShapeOf(b, loc, x));
  }

  /// The number of elements a reduction of `x` over `axes` combines, as a
  /// rank-0 tensor of x's element type; dynamic dims are read at run time.
  Value reducedCount(Value x, ArrayRef<int64_t> axes) {
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
  /// A constant of `elt` (integer) with `values`, shaped `shape`.
  Value intConstant(ArrayRef<int64_t> shape, ArrayRef<int64_t> values,
                    Type elt) {
    auto type = RankedTensorType::get(shape, elt);
    unsigned width = elt.getIntOrFloatBitWidth();
    auto bits = llvm::map_to_vector(values, [&](int64_t v) {
      return APInt(width, v, /*isSigned=*/true, /*implicitTrunc=*/true);
    });
    return ConstantOp::create(b, loc, DenseElementsAttr::get(type, bits),
                              StringAttr());
  }
  /// Reshape with ONNX dims (0 copies the input dim at that position, -1 is
  /// inferred); the result type is static wherever that can be told here.
  Value reshapeTo(Value x, ArrayRef<int64_t> shape) {
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
  /// Constant padding by `lo`/`hi` per dim; negative entries crop.
  Value pad(Value x, ArrayRef<int64_t> lo, ArrayRef<int64_t> hi,
            double value = 0.0) {
    SmallVector<int64_t> pads(lo);
    llvm::append_range(pads, hi);
    if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
      return x;
    return PadOp::create(b, loc, x, b.getDenseI64ArrayAttr(pads),
                         b.getF64FloatAttr(value));
  }
  Value slice(Value x, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends,
              ArrayRef<int64_t> steps) {
    return SliceOp::create(b, loc, x, starts, ends, steps);
  }
  /// Spreads dim i of `x` by factors[i]: element j moves to j * factors[i]
  /// with zeros between (the last element is followed by factors[i] - 1
  /// zeros too). Null where the reshapes cannot name x's dynamic dims (only
  /// dynamic dims before the first spread one, or a single other one, can).
  Value dilate(Value x, ArrayRef<int64_t> factors) {
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

  /// The gradient of a convolution's input, [N, C, in], from the result
  /// gradient `g`, [N, O, out]: a stride-1 convolution (dilation `dil`) of
  /// `g` dilated by the stride and padded so that each input position meets
  /// every filter tap that read it, with `flipped` the filter with taps
  /// reversed and in/out channels swapped per group, [C, O / group, k].
  /// Negative pads crop positions that only the forward padding reached.
  /// The convolution accumulates in `acc`.
  Value convInputGrad(Value g, Value flipped, int64_t group,
                      ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                      ArrayRef<int64_t> dil, ArrayRef<int64_t> k,
                      ArrayRef<int64_t> in, Type acc) {
    auto gType = rankedOf(g);
    Value spread = dilate(g, {1, 1, strides[0], strides[1]});
    if (!spread)
      return Value();
    SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
    for (int i = 0; i < 2; ++i) {
      int64_t reach = dil[i] * (k[i] - 1);
      lo.push_back(reach - pads[i]);
      hi.push_back(in[i] + reach - lo.back() -
                   gType.getDimSize(2 + i) * strides[i]);
    }
    int64_t ones[] = {1, 1}, noPads[] = {0, 0, 0, 0};
    return accumulateIn(Conv2dOp::create(b, loc, pad(spread, lo, hi), flipped,
                                         Value(), ones, noPads, dil, group),
                        acc);
  }
};

/// Fills `out` with one null gradient per operand of `op`.
static void noGradients(Operation *op, SmallVectorImpl<Value> &out) {
  out.assign(op->getNumOperands(), Value());
}

} // namespace

//===----------------------------------------------------------------------===//
// Constants and casts
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::buildVjp(OpBuilder &, ValueRange,
                                   SmallVectorImpl<Value> &out) {
  noGradients(*this, out);
  return success();
}

/// Float to float: cast the gradient back; a gradient that a rule rounded
/// from the input's type (a mixed-precision anchor's, see above) is taken
/// before that rounding. From or to integers the function is piecewise
/// constant: no gradient.
LogicalResult CastOp::buildVjp(OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out) {
  noGradients(*this, out);
  if (!isFloatTensor(getInput()) || !isFloatTensor(getResult()))
    return success();
  if (auto rounded = grads[0].getDefiningOp<CastOp>();
      rounded && rounded.getInput().getType() == getInput().getType())
    out[0] = rounded.getInput();
  else
    out[0] = CastOp::create(b, getLoc(), getInput().getType(), grads[0]);
  return success();
}

//===----------------------------------------------------------------------===//
// Unary elementwise
//===----------------------------------------------------------------------===//

/// Rules whose gradient is g * f'(x, y) with x the input, y the result.
#define VT_UNARY_VJP(OpTy, expr)                                               \
  LogicalResult OpTy::buildVjp(OpBuilder &b, ValueRange grads,                 \
                               SmallVectorImpl<Value> &out) {                  \
    GradBuilder gb{b, getLoc()};                                               \
    [[maybe_unused]] Value x = getInput(), y = getResult(), g = grads[0];      \
    out.assign(1, (expr));                                                     \
    return success();                                                          \
  }

VT_UNARY_VJP(NegOp, gb.unary<NegOp>(g))
VT_UNARY_VJP(ExpOp, gb.mul(g, y))
VT_UNARY_VJP(LogOp, gb.div(g, x))
// d sqrt(x) = 1 / (2 sqrt(x))
VT_UNARY_VJP(SqrtOp, gb.div(gb.mul(g, 0.5), y))
// d x^-1/2 = -1/2 x^-3/2 = -1/2 y^3
VT_UNARY_VJP(RsqrtOp, gb.mul(gb.mul(g, -0.5), gb.mul(y, gb.mul(y, y))))
// d 1/x = -1/x^2 = -y^2
VT_UNARY_VJP(ReciprocalOp, gb.unary<NegOp>(gb.mul(g, gb.mul(y, y))))
VT_UNARY_VJP(TanhOp, gb.mul(g, gb.sub(gb.scalar(y, 1.0), gb.mul(y, y))))
VT_UNARY_VJP(SigmoidOp,
             gb.mul(g, gb.mul(y, gb.sub(gb.scalar(y, 1.0), y))))
// d erf(x) = 2/sqrt(pi) e^(-x^2)
VT_UNARY_VJP(ErfOp,
             gb.mul(gb.mul(g, 2.0 / std::sqrt(M_PI)),
                    gb.unary<ExpOp>(gb.unary<NegOp>(gb.mul(x, x)))))
// Subgradient 0 at the kinks (as PyTorch and JAX).
VT_UNARY_VJP(ReluOp,
             gb.where(GreaterOp::create(b, getLoc(), x, gb.scalar(x, 0.0)), g))
VT_UNARY_VJP(AbsOp,
             SelectOp::create(b, getLoc(),
                              LessOp::create(b, getLoc(), x, gb.scalar(x, 0.0)),
                              gb.unary<NegOp>(g), g))
#undef VT_UNARY_VJP

LogicalResult LeakyReluOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  Value positive = GreaterOp::create(b, getLoc(), x, gb.scalar(x, 0.0));
  out.assign(1, SelectOp::create(b, getLoc(), positive, g,
                                 gb.mul(g, getAlpha().convertToDouble())));
  return success();
}

/// The gradient passes where min <= x <= max.
LogicalResult ClampOp::buildVjp(OpBuilder &b, ValueRange grads,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput();
  Value below = LessOp::create(b, getLoc(), x,
                               gb.scalar(x, getMin().convertToDouble()));
  Value above = GreaterOp::create(b, getLoc(), x,
                                  gb.scalar(x, getMax().convertToDouble()));
  out.assign(1, gb.where(below, gb.where(above, grads[0], /*swap=*/true),
                         /*swap=*/true));
  return success();
}

/// Piecewise constant: the gradient is zero almost everywhere.
LogicalResult FloorOp::buildVjp(OpBuilder &, ValueRange,
                                SmallVectorImpl<Value> &out) {
  noGradients(*this, out);
  return success();
}

/// Exact: d x Phi(x) = Phi(x) + x phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2,
/// phi(x) = e^(-x^2/2) / sqrt(2 pi).
/// Tanh form: y = x (1 + t) / 2 with t = tanh(u), u = c (x + k x^3):
/// dy = (1 + t) / 2 + x (1 - t^2) c (1 + 3 k x^2) / 2.
LogicalResult GeluOp::buildVjp(OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  Value one = gb.scalar(x, 1.0);
  Value x2 = gb.mul(x, x);
  Value d;
  if (getApproximateTanh()) {
    const double c = std::sqrt(2.0 / M_PI), k = 0.044715;
    Value u = gb.mul(gb.mul(x, gb.add(one, gb.mul(x2, k))), c);
    Value t = gb.unary<TanhOp>(u);
    Value du = gb.mul(gb.add(one, gb.mul(x2, 3 * k)), c);
    Value dt = gb.mul(gb.sub(one, gb.mul(t, t)), du);
    d = gb.mul(gb.add(gb.add(one, t), gb.mul(x, dt)), 0.5);
  } else {
    Value cdf =
        gb.mul(gb.add(one, gb.unary<ErfOp>(gb.mul(x, M_SQRT1_2))), 0.5);
    Value pdf = gb.mul(gb.unary<ExpOp>(gb.mul(x2, -0.5)),
                       1.0 / std::sqrt(2.0 * M_PI));
    d = gb.add(cdf, gb.mul(x, pdf));
  }
  out.assign(1, gb.mul(g, d));
  return success();
}

//===----------------------------------------------------------------------===//
// Binary elementwise (broadcasting)
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  out.assign({gb.unbroadcast(grads[0], getLhs()),
              gb.unbroadcast(grads[0], getRhs())});
  return success();
}

LogicalResult SubOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  out.assign({gb.unbroadcast(grads[0], getLhs()),
              gb.unbroadcast(gb.unary<NegOp>(grads[0]), getRhs())});
  return success();
}

LogicalResult MulOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value g = grads[0];
  out.assign({gb.unbroadcast(gb.mul(g, getRhs()), getLhs()),
              gb.unbroadcast(gb.mul(g, getLhs()), getRhs())});
  return success();
}

/// y = a / b: da = g / b, db = -g a / b^2 = -(g / b) y.
LogicalResult DivOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value q = gb.div(grads[0], getRhs());
  out.assign({gb.unbroadcast(q, getLhs()),
              gb.unbroadcast(gb.unary<NegOp>(gb.mul(q, getResult())),
                             getRhs())});
  return success();
}

/// y = a^p: da = g p a^(p-1), dp = g y ln a (only built when p is
/// differentiated; dead otherwise).
LogicalResult PowOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value a = getLhs(), p = getRhs(), g = grads[0];
  Value pm1 = gb.sub(p, gb.scalar(p, 1.0));
  Value da = gb.mul(g, gb.mul(p, PowOp::create(b, getLoc(), a, pm1)));
  Value dp = gb.mul(g, gb.mul(getResult(), gb.unary<LogOp>(a)));
  out.assign({gb.unbroadcast(da, a), gb.unbroadcast(dp, p)});
  return success();
}

/// The gradient goes to the selected operand; ties go to lhs.
template <typename OpTy>
static LogicalResult minMaxVjp(OpTy op, OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out, bool isMax) {
  GradBuilder gb{b, op.getLoc()};
  Value l = op.getLhs(), r = op.getRhs(), g = grads[0];
  // Where rhs wins: max -> l < r, min -> l > r.
  Value rhsWins = isMax ? LessOp::create(b, op.getLoc(), l, r).getResult()
                        : GreaterOp::create(b, op.getLoc(), l, r).getResult();
  out.assign({gb.unbroadcast(gb.where(rhsWins, g, /*swap=*/true), l),
              gb.unbroadcast(gb.where(rhsWins, g), r)});
  return success();
}

LogicalResult MaxOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  return minMaxVjp(*this, b, grads, out, /*isMax=*/true);
}

LogicalResult MinOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  return minMaxVjp(*this, b, grads, out, /*isMax=*/false);
}

LogicalResult SelectOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value c = getCond(), g = grads[0];
  out.assign({Value(), gb.unbroadcast(gb.where(c, g), getLhs()),
              gb.unbroadcast(gb.where(c, g, /*swap=*/true), getRhs())});
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and softmax
//===----------------------------------------------------------------------===//

LogicalResult ReduceSumOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput();
  Value g = gb.keepDims(grads[0], x, getAxes(), getKeepdims());
  out.assign(1, gb.broadcastLike(g, x));
  return success();
}

LogicalResult ReduceMeanOp::buildVjp(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput();
  Value g = gb.keepDims(grads[0], x, getAxes(), getKeepdims());
  g = gb.div(g, gb.reducedCount(x, getAxes()));
  out.assign(1, gb.broadcastLike(g, x));
  return success();
}

/// The gradient is shared evenly between the elements equal to the extremum
/// (PyTorch's amax/amin rule): g * m / sum(m), m = (x == y).
template <typename OpTy>
static LogicalResult extremumVjp(OpTy op, OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, op.getLoc()};
  Value x = op.getInput();
  ArrayRef<int64_t> axes = op.getAxes();
  Value g = gb.keepDims(grads[0], x, axes, op.getKeepdims());
  Value y = gb.keepDims(op.getResult(), x, axes, op.getKeepdims());
  Value hit = EqualOp::create(b, op.getLoc(), x, y);
  Value mask = CastOp::create(
      b, op.getLoc(),
      RankedTensorType::get(rankedOf(hit).getShape(), rankedOf(x).getElementType()),
      hit);
  Value ties = ReduceSumOp::create(b, op.getLoc(), mask, axes, /*keepdims=*/true);
  out.assign(1, gb.broadcastLike(gb.mul(mask, gb.div(g, ties)), x));
  return success();
}

LogicalResult ReduceMaxOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  return extremumVjp(*this, b, grads, out);
}

LogicalResult ReduceMinOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  return extremumVjp(*this, b, grads, out);
}

/// softmax: dx = y (g - sum(g y)); log-softmax: dx = g - e^y sum(g), both
/// summed along the axis.
LogicalResult SoftmaxOp::buildVjp(OpBuilder &b, ValueRange grads,
                                  SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value y = getResult(), g = grads[0];
  int64_t axes[] = {(int64_t)getAxis()};
  if (getLog()) {
    Value sum = ReduceSumOp::create(b, getLoc(), g, axes, /*keepdims=*/true);
    out.assign(1, gb.sub(g, gb.mul(gb.unary<ExpOp>(y), sum)));
  } else {
    Value sum = ReduceSumOp::create(b, getLoc(), gb.mul(g, y), axes,
                                    /*keepdims=*/true);
    out.assign(1, gb.mul(y, gb.sub(g, sum)));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

/// C = A B: dA = G B^T, dB = A^T G, each summed over the batch dims it was
/// broadcast along. A 2-D weight under a batched A (the linear layers of a
/// transformer) gets one 2-D matmul over the flattened batch instead of a
/// batched product summed afterwards.
/// Mixed precision (bf16 operands, f32 result): G is rounded to bf16 for
/// the products, which accumulate in f32 like the forward one.
/// numpy matmul: 1-D operands are promoted (lhs [K] -> [1, K], rhs [K] ->
/// [K, 1]) and the inserted dim is dropped from the result, so the result
/// gradient gets it back, the 2-D rule runs, and the operand gradients are
/// reshaped to the 1-D operands.
LogicalResult MatmulOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value a = getLhs(), w = getRhs();
  Type elt = rankedOf(a).getElementType(), acc = getType().getElementType();
  Value g = gb.castElements(grads[0], elt);
  bool vecA = rankedOf(a).getRank() == 1, vecW = rankedOf(w).getRank() == 1;
  int64_t gRank = rankedOf(g).getRank();
  if (vecA && vecW) {
    g = gb.reshapeTo(g, {1, 1});
  } else if (vecA) { // [batch.., N] -> [batch.., 1, N]
    SmallVector<int64_t> shape(gRank - 1, 0);
    shape.append({1, -1});
    g = gb.reshapeTo(g, shape);
  } else if (vecW) { // [batch.., M] -> [batch.., M, 1]
    SmallVector<int64_t> shape(gRank, 0);
    shape.push_back(1);
    g = gb.reshapeTo(g, shape);
  }
  if (vecA)
    a = gb.reshapeTo(a, {1, -1});
  if (vecW)
    w = gb.reshapeTo(w, {-1, 1});
  auto aType = rankedOf(a), wType = rankedOf(w);
  Value da = gb.accumulateIn(
      MatmulOp::create(b, getLoc(), g, gb.transposeLast2(w)), acc);
  Value dw;
  int64_t k = aType.getShape().back(), n = wType.getShape().back();
  if (aType.getRank() > 2 && wType.getRank() == 2 && !ShapedType::isDynamic(k) &&
      !ShapedType::isDynamic(n)) {
    auto flat = [&](Value v, int64_t cols) {
      return gb.reshape(v, {-1, cols},
                        RankedTensorType::get({ShapedType::kDynamic, cols}, elt));
    };
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(flat(a, k)),
                          flat(g, n));
  } else {
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(a), g);
  }
  dw = gb.accumulateIn(dw, acc);
  da = gb.castElements(gb.unbroadcast(da, a), elt);
  dw = gb.castElements(gb.unbroadcast(dw, w), elt);
  if (vecA)
    da = gb.reshapeTo(da, {-1});
  if (vecW)
    dw = gb.reshapeTo(dw, {-1});
  out.assign({da, dw});
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// An end that slices to the end of a dim of any size (ONNX clamps it).
static constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();

/// y = conv(x, w) + b, w [O, C/G, KH, KW], G groups.
/// dx: the transposed convolution (convInputGrad) with w's taps flipped and,
/// per group, its in/out channels swapped.
/// dw[o, c, kh, kw] = sum_{n,i,j} g[n, o, i, j] xpad[n, c, i s + kh d, ...]:
/// a convolution of x with g as the filter, the batch as its reduction
/// (channel) dim, the forward dilation as stride and stride as dilation.
/// Groups become the conv's groups: x [N, G, C/G, H, W] -> [C/G, G N, H, W],
/// g [N, G, O/G, ...] -> [O, N, ...].
/// db = sum of g over N, H, W (in the result's type, like the bias).
/// Mixed precision (bf16 x and w, f32 result): g is rounded to bf16 for the
/// convolutions, which accumulate in f32 like the forward one.
LogicalResult Conv2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), w = getFilter();
  auto xType = rankedOf(x), wType = rankedOf(w);
  Type elt = xType.getElementType(), acc = getType().getElementType();
  Value g = gb.castElements(grads[0], elt);
  auto gType = rankedOf(g);
  ArrayRef<int64_t> strides = getStrides(), pads = getPads(),
                    dil = getDilations();
  int64_t group = getGroup();
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3) ||
      wType.isDynamicDim(2) || wType.isDynamicDim(3))
    return emitOpError(
        "gradient of conv2d with dynamic spatial dims is not implemented");
  if (group > 1 && (wType.isDynamicDim(0) || wType.isDynamicDim(1)))
    return emitOpError("gradient of grouped conv2d needs static channels");
  int64_t k[] = {wType.getDimSize(2), wType.getDimSize(3)};
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {gType.getDimSize(2), gType.getDimSize(3)};
  int64_t o = wType.getDimSize(0), cg = wType.getDimSize(1);
  int64_t n = xType.isDynamicDim(0) ? 0 : xType.getDimSize(0);

  // d input.
  Value wt;
  if (group == 1) {
    wt = TransposeOp::create(b, getLoc(), w, ArrayRef<int64_t>{1, 0, 2, 3});
  } else {
    wt = gb.reshapeTo(w, {group, o / group, cg, k[0], k[1]});
    wt = TransposeOp::create(b, getLoc(), wt,
                             ArrayRef<int64_t>{0, 2, 1, 3, 4});
    wt = gb.reshapeTo(wt, {group * cg, o / group, k[0], k[1]});
  }
  Value flipped = gb.slice(wt, {0, 0, k[0] - 1, k[1] - 1},
                           {kToEnd, kToEnd, -k[0] - 1, -k[1] - 1},
                           {1, 1, -1, -1});
  Value dx =
      gb.convInputGrad(g, flipped, group, strides, pads, dil, k, in, acc);
  if (!dx)
    return emitOpError("gradient of conv2d: cannot spread the result "
                       "gradient by the stride");

  // d filter: pad x to exactly the span the windows read (the forward may
  // leave a tail of the padded input unread).
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t used = strides[i] * (outHW[i] - 1) + dil[i] * (k[i] - 1) + 1;
    lo.push_back(pads[i]);
    hi.push_back(used - in[i] - pads[i]);
  }
  Value xt, gt;
  if (group == 1) {
    xt = TransposeOp::create(b, getLoc(), x, ArrayRef<int64_t>{1, 0, 2, 3});
    gt = TransposeOp::create(b, getLoc(), g, ArrayRef<int64_t>{1, 0, 2, 3});
  } else {
    xt = gb.reshapeTo(x, {n, group, cg, in[0], in[1]});
    xt = TransposeOp::create(b, getLoc(), xt,
                             ArrayRef<int64_t>{2, 1, 0, 3, 4});
    xt = gb.reshapeTo(xt, {cg, -1, in[0], in[1]});
    gt = gb.reshapeTo(g, {n, group, o / group, outHW[0], outHW[1]});
    gt = TransposeOp::create(b, getLoc(), gt,
                             ArrayRef<int64_t>{1, 2, 0, 3, 4});
    gt = gb.reshapeTo(gt, {o, -1, outHW[0], outHW[1]});
  }
  int64_t noPads[] = {0, 0, 0, 0};
  Value dwt = gb.accumulateIn(
      Conv2dOp::create(b, getLoc(), gb.pad(xt, lo, hi), gt, Value(), dil,
                       noPads, strides, group),
      acc);
  Value dw = TransposeOp::create(b, getLoc(), dwt, ArrayRef<int64_t>{1, 0, 2, 3});

  out.assign({gb.castElements(dx, elt), gb.castElements(dw, elt)});
  if (getBias())
    out.push_back(ReduceSumOp::create(b, getLoc(), grads[0],
                                      ArrayRef<int64_t>{0, 2, 3},
                                      /*keepdims=*/false));
  return success();
}

/// max_pool2d's gradient when the windows tile the input without overlap or
/// padding (kernel = stride, dense, the usual 2x2/2): x viewed as
/// [N, C, OH, KH, OW, KW] holds each window in dims 3 and 5. The first tap
/// (row-major) equal to the max is found elementwise over [N, C, OH, 1, OW, 1]
/// from one slice of the view per tap (a select chain, no reduction), and g
/// goes where the tap index equals it: two fused loops over x's size, where
/// the general form spreads and pads a full-size tensor per tap. Rows and
/// columns past the last window get zeros. Returns null where the shapes do
/// not fit.
static Value nonOverlappingMaxPoolGrad(GradBuilder &gb, Value x, Value y,
                                       Value g, ArrayRef<int64_t> k,
                                       ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> pads,
                                       ArrayRef<int64_t> dil,
                                       ArrayRef<int64_t> in,
                                       ArrayRef<int64_t> outHW) {
  for (int i = 0; i < 2; ++i)
    if (strides[i] != k[i] || dil[i] != 1 || pads[i] != 0 ||
        pads[i + 2] != 0 || outHW[i] * k[i] > in[i])
      return Value();
  // One slice per tap in the select chain; tap indices exact in bf16.
  int64_t taps = k[0] * k[1];
  if (taps > 16)
    return Value();
  Type elt = rankedOf(x).getElementType();
  int64_t used[] = {outHW[0] * k[0], outHW[1] * k[1]};
  Value windows = gb.reshapeTo(
      gb.slice(x, {0, 0, 0, 0}, {kToEnd, kToEnd, used[0], used[1]},
               {1, 1, 1, 1}),
      {0, 0, outHW[0], k[0], outHW[1], k[1]});
  SmallVector<int64_t> windowShape = {0, 0, outHW[0], 1, outHW[1], 1};
  Value ym = gb.reshapeTo(y, windowShape);
  // first = the least tap whose value is the max; `taps` (none) if none is
  // (a NaN max): then no element gets g.
  Value first = gb.scalar(ym, (double)taps);
  for (int64_t t = taps - 1; t >= 0; --t) {
    int64_t a = t / k[1], c = t % k[1];
    Value tapValue = gb.slice(windows, {0, 0, 0, a, 0, c},
                              {kToEnd, kToEnd, kToEnd, a + 1, kToEnd, c + 1},
                              {1, 1, 1, 1, 1, 1});
    Value hit = EqualOp::create(gb.b, gb.loc, tapValue, ym);
    first = SelectOp::create(gb.b, gb.loc, hit, gb.scalar(ym, (double)t), first);
  }
  SmallVector<Attribute> tapIndices;
  for (int64_t t = 0; t < taps; ++t)
    tapIndices.push_back(gb.b.getFloatAttr(elt, (double)t));
  Value tap = ConstantOp::create(
      gb.b, gb.loc,
      DenseElementsAttr::get(
          RankedTensorType::get({1, 1, 1, k[0], 1, k[1]}, elt), tapIndices),
      StringAttr());
  Value chosen = EqualOp::create(gb.b, gb.loc, tap, first);
  Value dx = gb.reshapeTo(gb.where(chosen, gb.reshapeTo(g, windowShape)),
                          {0, 0, used[0], used[1]});
  return gb.pad(dx, {0, 0, 0, 0}, {0, 0, in[0] - used[0], in[1] - used[1]});
}

/// The gradient goes to the first element (row-major within the window)
/// equal to the window's max: for each tap, the strided slice of the padded
/// input it read is compared with y, taps already chosen are masked out,
/// and g where it hit is spread back to the tap's input positions.
LogicalResult MaxPool2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), y = getResult(), g = grads[0];
  auto xType = rankedOf(x), yType = rankedOf(y);
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3))
    return emitOpError(
        "gradient of max_pool2d with dynamic spatial dims is not implemented");
  ArrayRef<int64_t> k = getKernel(), strides = getStrides(), pads = getPads(),
                    dil = getDilations();
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {yType.getDimSize(2), yType.getDimSize(3)};
  if (Value dx = nonOverlappingMaxPoolGrad(gb, x, y, g, k, strides, pads, dil,
                                           in, outHW)) {
    out.assign(1, dx);
    return success();
  }
  // -inf padding up to the span the windows read (ceil mode reads past the
  // pads), so that every window is a plain strided slice.
  SmallVector<int64_t> lo = {0, 0, pads[0], pads[1]}, hi = {0, 0};
  for (int i = 0; i < 2; ++i)
    hi.push_back(strides[i] * (outHW[i] - 1) + dil[i] * (k[i] - 1) + 1 -
                 in[i] - pads[i]);
  Value padded =
      gb.pad(x, lo, hi, -std::numeric_limits<double>::infinity());
  Type floatTy = xType.getElementType();
  Value remaining, dx;
  for (int64_t kh = 0; kh < k[0]; ++kh) {
    for (int64_t kw = 0; kw < k[1]; ++kw) {
      int64_t off[] = {kh * dil[0], kw * dil[1]};
      Value window = gb.slice(
          padded, {0, 0, off[0], off[1]},
          {kToEnd, kToEnd, off[0] + strides[0] * (outHW[0] - 1) + 1,
           off[1] + strides[1] * (outHW[1] - 1) + 1},
          {1, 1, strides[0], strides[1]});
      Value eq = EqualOp::create(b, getLoc(), window, y);
      Value hit = CastOp::create(
          b, getLoc(),
          RankedTensorType::get(rankedOf(eq).getShape(), floatTy), eq);
      if (remaining)
        hit = gb.mul(hit, remaining);
      bool last = kh == k[0] - 1 && kw == k[1] - 1;
      if (!last)
        remaining = gb.sub(remaining ? remaining : gb.scalar(hit, 1.0), hit);
      Value spread = gb.dilate(gb.mul(g, hit), {1, 1, strides[0], strides[1]});
      if (!spread)
        return emitOpError("gradient of max_pool2d: cannot spread the result "
                           "gradient by the stride");
      SmallVector<int64_t> at = {0, 0}, rest = {0, 0};
      for (int i = 0; i < 2; ++i) {
        at.push_back(off[i] - pads[i]);
        rest.push_back(in[i] - at.back() - outHW[i] * strides[i]);
      }
      Value placed = gb.pad(spread, at, rest);
      dx = dx ? gb.add(dx, placed) : placed;
    }
  }
  out.assign(1, dx);
  return success();
}

/// g / count spread evenly over each window: the transposed convolution of
/// every channel with an all-ones filter. count is k_h k_w unless windows
/// are clipped (count_include_pad false with pads, or ceil mode), then one
/// constant per output position, as the lowering computes it.
LogicalResult AvgPool2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  auto xType = rankedOf(x), gType = rankedOf(g);
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3))
    return emitOpError(
        "gradient of avg_pool2d with dynamic spatial dims is not implemented");
  ArrayRef<int64_t> k = getKernel(), strides = getStrides(), pads = getPads();
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {gType.getDimSize(2), gType.getDimSize(3)};
  Type elt = xType.getElementType();
  bool hasPads = llvm::any_of(pads, [](int64_t p) { return p != 0; });
  bool includePad = getCountIncludePad();
  Value count;
  if (!getCeilMode() && (!hasPads || includePad)) {
    count = gb.scalar(x, (double)(k[0] * k[1]));
  } else {
    auto extent = [&](int i, int64_t o) {
      int64_t start = o * strides[i] - pads[i];
      int64_t lo = includePad ? start : std::max<int64_t>(start, 0);
      int64_t bound = includePad ? in[i] + pads[i + 2] : in[i];
      return std::min(start + k[i], bound) - lo;
    };
    SmallVector<Attribute> counts;
    for (int64_t i = 0; i < outHW[0]; ++i)
      for (int64_t j = 0; j < outHW[1]; ++j)
        counts.push_back(
            b.getFloatAttr(elt, (double)(extent(0, i) * extent(1, j))));
    count = ConstantOp::create(
        b, getLoc(),
        DenseElementsAttr::get(
            RankedTensorType::get({1, 1, outHW[0], outHW[1]}, elt), counts),
        StringAttr());
  }
  // Channels as batch: [N C, 1, out] against a [1, 1, k] filter of ones.
  Value perChannel =
      gb.reshapeTo(gb.div(g, count), {-1, 1, outHW[0], outHW[1]});
  Value ones = ConstantOp::create(
      b, getLoc(),
      DenseElementsAttr::get(RankedTensorType::get({1, 1, k[0], k[1]}, elt),
                             b.getFloatAttr(elt, 1.0)),
      StringAttr());
  int64_t noDilation[] = {1, 1};
  Value dx = gb.convInputGrad(perChannel, ones, /*group=*/1, strides, pads,
                              noDilation, k, in, elt);
  if (!dx)
    return emitOpError("gradient of avg_pool2d: cannot spread the result "
                       "gradient by the stride");
  out.assign(1, ReshapeOp::create(b, getLoc(), x.getType(), dx,
                                  buildShapeOf(b, getLoc(), x)));
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  out.assign(1, TransposeOp::create(b, getLoc(), grads[0], inverse));
  return success();
}

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, ValueRange grads,
                                  SmallVectorImpl<Value> &out) {
  Value x = getInput();
  out.assign({ReshapeOp::create(b, getLoc(), x.getType(), grads[0],
                                buildShapeOf(b, getLoc(), x)),
              Value()});
  return success();
}

LogicalResult ExpandOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  out.assign({unbroadcastGradient(b, getLoc(), grads[0], getInput()), Value()});
  return success();
}

/// Zeros with g at the positions the slice read: g reversed along dims with
/// negative steps (so that it runs in increasing index order), dilated by
/// |step|, padded from the first read index.
LogicalResult SliceOp::buildVjp(OpBuilder &b, ValueRange grads,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  auto xType = rankedOf(x), gType = rankedOf(g);
  ArrayRef<int64_t> starts = getStarts(), ends = getEnds(), steps = getSteps();
  int64_t rank = xType.getRank();
  SmallVector<int64_t> lo, hi, factors, revStarts, revEnds, revSteps;
  bool reverse = false;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = xType.getDimSize(d), step = steps[d];
    revStarts.push_back(0);
    revEnds.push_back(kToEnd);
    revSteps.push_back(1);
    if (ShapedType::isDynamic(dim)) {
      // A dynamic dim taken whole (the importer's "to the end") passes.
      if (step == 1 && starts[d] == 0 && ends[d] >= (int64_t)INT32_MAX) {
        lo.push_back(0);
        hi.push_back(0);
        factors.push_back(1);
        continue;
      }
      return emitOpError(
          "gradient of slice along a dynamic dim is not implemented");
    }
    int64_t n = gType.getDimSize(d);
    if (n == 0) {
      // Nothing read: the gradient is zero.
      noGradients(*this, out);
      return success();
    }
    int64_t start = starts[d] < 0 ? starts[d] + dim : starts[d];
    int64_t first = step > 0 ? std::clamp<int64_t>(start, 0, dim)
                             : std::clamp<int64_t>(start, -1, dim - 1) +
                                   (n - 1) * step;
    if (step < 0) {
      reverse = true;
      revStarts.back() = n - 1;
      revEnds.back() = -n - 1;
      revSteps.back() = -1;
    }
    int64_t f = std::abs(step);
    factors.push_back(f);
    lo.push_back(first);
    hi.push_back(dim - first - n * f);
  }
  if (reverse)
    g = gb.slice(g, revStarts, revEnds, revSteps);
  Value spread = gb.dilate(g, factors);
  if (!spread)
    return emitOpError("gradient of slice: cannot spread the result gradient "
                       "by the steps");
  out.assign(1, gb.pad(spread, lo, hi));
  return success();
}

/// Each input's gradient is its slab of g along the axis.
LogicalResult ConcatOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  int64_t axis = getAxis(), rank = rankedOf(getResult()).getRank();
  int64_t offset = 0;
  out.clear();
  for (Value v : getInputs()) {
    int64_t size = rankedOf(v).getDimSize(axis);
    if (ShapedType::isDynamic(size))
      return emitOpError(
          "gradient of concat along a dynamic dim is not implemented");
    SmallVector<int64_t> starts(rank, 0), ends(rank, kToEnd), steps(rank, 1);
    starts[axis] = offset;
    ends[axis] = offset + size;
    offset += size;
    out.push_back(gb.slice(grads[0], starts, ends, steps));
  }
  return success();
}

/// Padding's gradient crops what it added (and pads back what negative
/// pads cropped): a pad by the negated amounts.
LogicalResult PadOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  int64_t rank = rankedOf(getInput()).getRank();
  auto neg = llvm::map_to_vector(getPads(), [](int64_t p) { return -p; });
  out.assign(1, gb.pad(grads[0], ArrayRef(neg).take_front(rank),
                       ArrayRef(neg).drop_front(rank)));
  return success();
}

/// Gather of one constant index (ViT's qkv[0], x[:, 0]): the gradient is g
/// put back at that index, zeros elsewhere, i.e. a pad along the axis,
/// which, unlike the one-hot matmul below, allows dynamic dims (the batch).
/// Null when the index is not one constant or more than one dim is dynamic.
static Value gatherOneGradient(GradBuilder &gb, GatherOp op, Value g) {
  auto xType = rankedOf(op.getInput());
  int64_t axis = op.getAxis(), rows = xType.getDimSize(axis);
  std::optional<SmallVector<int64_t>> index = getConstantInts(op.getIndices());
  if (!index || index->size() != 1 || ShapedType::isDynamic(rows) ||
      llvm::count_if(xType.getShape(), ShapedType::isDynamic) > 1)
    return Value();
  int64_t i = (*index)[0] < 0 ? (*index)[0] + rows : (*index)[0];
  // g lacks the axis for a scalar index: give it back as a size-1 dim.
  if (rankedOf(g).getRank() != xType.getRank()) {
    SmallVector<int64_t> shape;
    for (auto [d, size] : llvm::enumerate(xType.getShape()))
      shape.push_back((int64_t)d == axis ? 1
                      : ShapedType::isDynamic(size) ? -1
                                                    : size);
    g = gb.reshapeTo(g, shape);
  }
  SmallVector<int64_t> lo(xType.getRank(), 0), hi(xType.getRank(), 0);
  lo[axis] = i;
  hi[axis] = rows - i - 1;
  return gb.pad(g, lo, hi);
}

/// Scatter-add of g into the gathered rows; repeated indices add up. vt has
/// no scatter, so it is a matmul with the one-hot matrix [D, M] of the
/// (wrapped) indices: dx [P, D, Q] = onehot x g [P, M, Q], with P, M, Q the
/// dims before, of and after the gathered ones. O(D M) memory: right for
/// vision's small tables, not for large embedding tables (those need a
/// scatter op).
LogicalResult GatherOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), idx = getIndices(), g = grads[0];
  auto xType = rankedOf(x), idxType = rankedOf(idx);
  int64_t axis = getAxis();
  if (Value dx = gatherOneGradient(gb, *this, g))
    return out.assign({dx, Value()}), success();
  if (!idxType.hasStaticShape() ||
      llvm::any_of(xType.getShape().drop_front(axis),
                   ShapedType::isDynamic))
    return emitOpError("gradient of gather needs static indices and static "
                       "dims from the axis on");
  int64_t rows = xType.getDimSize(axis), m = idxType.getNumElements();
  int64_t q = 1;
  for (int64_t d : xType.getShape().drop_front(axis + 1))
    q *= d;
  Type idxElt = idxType.getElementType();
  Value i = gb.reshapeTo(idx, {1, m});
  Value zero = gb.intConstant({}, {0}, idxElt);
  Value wrapped = gb.add(i, gb.intConstant({}, {rows}, idxElt));
  i = SelectOp::create(b, getLoc(), LessOp::create(b, getLoc(), i, zero),
                       wrapped, i);
  Value range = gb.intConstant(
      {rows, 1}, llvm::to_vector(llvm::seq<int64_t>(0, rows)), idxElt);
  Value eq = EqualOp::create(b, getLoc(), range, i);
  Value onehot = CastOp::create(
      b, getLoc(), RankedTensorType::get({rows, m}, xType.getElementType()),
      eq);
  Value dx = MatmulOp::create(b, getLoc(), onehot, gb.reshapeTo(g, {-1, m, q}));
  out.assign({ReshapeOp::create(b, getLoc(), x.getType(), dx,
                                buildShapeOf(b, getLoc(), x)),
              Value()});
  return success();
}

/// The sum over the copies: g [r0 d0, r1 d1, ...] -> [r0, d0, r1, d1, ...],
/// summed over the r dims.
LogicalResult TileOp::buildVjp(OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  auto xType = rankedOf(getInput());
  SmallVector<int64_t> shape, axes;
  bool inferred = false;
  for (auto [d, r] : llvm::enumerate(getRepeats())) {
    int64_t dim = xType.getDimSize(d);
    if (r == 0) {
      // An empty result: nothing flows back.
      noGradients(*this, out);
      return success();
    }
    if (ShapedType::isDynamic(dim)) {
      if (r != 1 || inferred)
        return emitOpError("gradient of tile with dynamic dims is only "
                           "implemented for one unrepeated dynamic dim");
      inferred = true;
      shape.push_back(-1);
      continue;
    }
    if (r > 1) {
      axes.push_back(shape.size());
      shape.push_back(r);
    }
    shape.push_back(dim);
  }
  if (axes.empty()) {
    out.assign(1, grads[0]);
    return success();
  }
  out.assign(1, ReduceSumOp::create(b, getLoc(), gb.reshapeTo(grads[0], shape),
                                    axes, /*keepdims=*/false));
  return success();
}
