//===- ElementwiseGradients.cpp - gradients of elementwise vt ops ---------===//
//
// Constants, casts, and the unary and binary elementwise ops. Unary rules
// read like the derivative they build, g * f'(x, y), reusing the result y
// where f' is a function of it; binary rules sum each operand's gradient back
// over the dims broadcasting stretched (GradBuilder::unbroadcast).
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

#include <cmath>

using namespace mlir;
using namespace vitc::vt;

//===----------------------------------------------------------------------===//
// Constants and casts
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::buildVjp(OpBuilder &, ValueRange,
                                   SmallVectorImpl<Value> &out) {
  noGradients(*this, out);
  return success();
}

/// Float to float: cast the gradient back; a gradient that a rule rounded
/// from the input's type (a mixed-precision anchor's, AnchorGradients.cpp) is
/// taken before that rounding. From or to integers the function is piecewise
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
VT_UNARY_VJP(SinOp, gb.mul(g, gb.unary<CosOp>(x)))
VT_UNARY_VJP(CosOp, gb.unary<NegOp>(gb.mul(g, gb.unary<SinOp>(x))))
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

/// The gradient passes strictly inside (min, max), as PyTorch's hardtanh
/// (ReLU6) does: 0 at the bounds themselves, like relu's at 0.
LogicalResult ClampOp::buildVjp(OpBuilder &b, ValueRange grads,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput();
  Value aboveMin = GreaterOp::create(b, getLoc(), x,
                                     gb.scalar(x, getMin().convertToDouble()));
  Value belowMax = LessOp::create(b, getLoc(), x,
                                  gb.scalar(x, getMax().convertToDouble()));
  out.assign(1, gb.where(aboveMin, gb.where(belowMax, grads[0])));
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
