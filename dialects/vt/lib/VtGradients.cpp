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
// Not covered yet (the pass reports "no gradient rule"): conv2d, pools,
// layer_norm and batch_norm (run vt-decompose first), slice, concat, pad,
// gather, tile, hard_sigmoid/swish, 1-D matmul operands.
//
//===----------------------------------------------------------------------===//
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
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
  auto type = rankedOf(operand);
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

/// Builds vt ops at one location; binary results are inferred, unary ones
/// keep their operand's type.
struct GradBuilder {
  OpBuilder &b;
  Location loc;

  /// A rank-0 constant of `like`'s element type.
  Value scalar(Value like, double v) {
    Type elt = getElementTypeOrSelf(like.getType());
    auto type = RankedTensorType::get({}, elt);
    return ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getFloatAttr(elt, v)),
        StringAttr());
  }
  Value add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
  Value mul(Value x, double c) { return mul(x, scalar(x, c)); }
  template <typename OpTy>
  Value unary(Value x) {
    return OpTy::create(b, loc, x.getType(), x);
  }
  /// cond ? x : 0 (or 0 : x with `swap`), broadcast three ways.
  Value where(Value cond, Value x, bool swap = false) {
    Value zero = scalar(x, 0.0);
    return swap ? SelectOp::create(b, loc, cond, zero, x).getResult()
                : SelectOp::create(b, loc, cond, x, zero).getResult();
  }
  Value unbroadcast(Value grad, Value operand) {
    return unbroadcastGradient(b, loc, grad, operand);
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

/// Float to float: cast the gradient back. From or to integers the function
/// is piecewise constant: no gradient.
LogicalResult CastOp::buildVjp(OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out) {
  noGradients(*this, out);
  if (isFloatTensor(getInput()) && isFloatTensor(getResult()))
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
LogicalResult MatmulOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value a = getLhs(), w = getRhs(), g = grads[0];
  auto aType = rankedOf(a), wType = rankedOf(w);
  if (aType.getRank() < 2 || wType.getRank() < 2)
    return emitOpError("gradient of 1-D matmul operands is not implemented");
  Value da = MatmulOp::create(b, getLoc(), g, gb.transposeLast2(w));
  Value dw;
  int64_t k = aType.getShape().back(), n = wType.getShape().back();
  if (aType.getRank() > 2 && wType.getRank() == 2 && !ShapedType::isDynamic(k) &&
      !ShapedType::isDynamic(n)) {
    Type elt = aType.getElementType();
    auto flat = [&](Value v, int64_t cols) {
      return gb.reshape(v, {-1, cols},
                        RankedTensorType::get({ShapedType::kDynamic, cols}, elt));
    };
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(flat(a, k)),
                          flat(g, n));
  } else {
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(a), g);
  }
  out.assign({gb.unbroadcast(da, a), gb.unbroadcast(dw, w)});
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
