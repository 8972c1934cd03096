//===- ReductionGradients.cpp - gradients of vt reductions and softmax ----===//
//
// A reduction's gradient is the result gradient broadcast back over the
// reduced dims (GradBuilder::keepDims, broadcastLike), scaled for a mean and
// masked to the extremum's positions for max and min.
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

using namespace mlir;
using namespace vitc::vt;

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
