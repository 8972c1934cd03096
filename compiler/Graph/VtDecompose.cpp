//===- VtDecompose.cpp - composite vt ops -> elementwise ops + reductions -===//
//
// softmax, layer_norm, batch_norm, gelu, hard_sigmoid and hard_swish are
// rewritten into the small core (elementwise ops, reductions, broadcasting),
// which vt-fuse regroups into one kernel per normalisation. Scalars are
// rank-0 vt.constants that broadcast.
//
//===----------------------------------------------------------------------===//

#include "compiler/Graph/Passes.h"
#include "vitc/Dialect/Vt/VtBuilder.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTDECOMPOSE
#include "compiler/Graph/Passes.h.inc"

namespace {

/// Builds core vt ops at one location (vt::VtBuilder), plus what the
/// decompositions here need of the rewriter.
struct DecomposeBuilder : vt::VtBuilder {
  DecomposeBuilder(PatternRewriter &rewriter, Location loc)
      : vt::VtBuilder{rewriter, loc}, rewriter(rewriter) {}
  PatternRewriter &rewriter;

  /// max(0, min(1, alpha x + beta)).
  Value hardSigmoid(Value x, double alpha, double beta) {
    Type elt = getElementTypeOrSelf(x.getType());
    Value v = add(mul(x, scalar(elt, alpha)), scalar(elt, beta));
    return vt::ClampOp::create(b, loc, v.getType(), v, b.getF64FloatAttr(0.0),
                               b.getF64FloatAttr(1.0));
  }

  /// Replaces `op` by `v`, with a tensor.cast where inference gave `v` a
  /// more precise type than the op declared (vt-infer-shapes normally makes
  /// them equal).
  void replace(Operation *op, Value v) {
    Type type = op->getResult(0).getType();
    if (v.getType() != type)
      v = tensor::CastOp::create(b, loc, type, v);
    rewriter.replaceOp(op, v);
  }
};

/// Whether `op` (a composite op) has what its decomposition needs; with
/// `diag`, says why not at the op. Patterns ask silently (the greedy driver
/// retries them), the pass reports what is left over once.
static LogicalResult checkDecomposable(Operation *op, bool diag = false) {
  auto fail = [&](const Twine &msg) {
    if (diag)
      op->emitOpError("cannot be decomposed: ") << msg;
    return failure();
  };
  if (!isa<FloatType>(getElementTypeOrSelf(op->getOperand(0).getType())))
    return fail("expects a float tensor");
  int64_t rank = cast<RankedTensorType>(op->getOperand(0).getType()).getRank();
  if (auto softmax = dyn_cast<vt::SoftmaxOp>(op);
      softmax && ((int64_t)softmax.getAxis() < 0 ||
                  (int64_t)softmax.getAxis() >= rank))
    return fail("axis out of range");
  if (auto ln = dyn_cast<vt::LayerNormOp>(op);
      ln && ((int64_t)ln.getAxis() < 0 || (int64_t)ln.getAxis() >= rank))
    return fail("axis out of range");
  if (auto bn = dyn_cast<vt::BatchNormOp>(op)) {
    if (rank < 2)
      return fail("expects an input of rank >= 2 (N, C, ...)");
    for (Value p : {bn.getScale(), bn.getBias(), bn.getMean(), bn.getVariance()})
      if (cast<RankedTensorType>(p.getType()).getRank() != 1)
        return fail("expects 1-D per-channel parameters");
  }
  return success();
}

/// softmax(x) = e / sum(e) with e = exp(x - max(x)): subtracting the max
/// keeps exp from overflowing. log-softmax = (x - max) - log(sum(e)).
/// A decomposition of OpTy: patterns ask checkDecomposable silently (the
/// greedy driver retries them), then build the replacement with a
/// DecomposeBuilder.
template <typename OpTy>
struct DecomposePattern : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const final {
    if (failed(checkDecomposable(op)))
      return rewriter.notifyMatchFailure(op, "not decomposable");
    DecomposeBuilder vb(rewriter, op.getLoc());
    return decompose(op, vb);
  }
  virtual LogicalResult decompose(OpTy op, DecomposeBuilder &vb) const = 0;
};

struct DecomposeSoftmax : DecomposePattern<vt::SoftmaxOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::SoftmaxOp op, DecomposeBuilder &vb) const override {
    int64_t axes[] = {(int64_t)op.getAxis()};
    Value shifted = vb.sub(op.getInput(), vb.reduceMax(op.getInput(), axes));
    Value e = vb.unary<vt::ExpOp>(shifted);
    Value sum = vb.reduceSum(e, axes);
    if (op.getLog())
      vb.replace(op, vb.sub(shifted, vb.unary<vt::LogOp>(sum)));
    else
      vb.replace(op, vb.div(e, sum));
    return success();
  }
};

/// (x - mean) * rsqrt(var + eps) * scale + bias over dims axis..rank-1,
/// with the biased variance mean((x - mean)^2).
struct DecomposeLayerNorm : DecomposePattern<vt::LayerNormOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::LayerNormOp op, DecomposeBuilder &vb) const override {
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t axis = op.getAxis();
    auto axes = llvm::to_vector(llvm::seq<int64_t>(axis, type.getRank()));
    Type elt = type.getElementType();
    Value centered = vb.sub(x, vb.reduceMean(x, axes));
    Value var = vb.reduceMean(vb.mul(centered, centered), axes);
    Value inv = vb.unary<vt::RsqrtOp>(
        vb.add(var, vb.scalar(elt, op.getEpsilon().convertToDouble())));
    Value y = vb.mul(centered, inv);
    if (op.getScale())
      y = vb.mul(y, op.getScale());
    if (op.getBias())
      y = vb.add(y, op.getBias());
    vb.replace(op, y);
    return success();
  }
};

/// Inference batch norm as one multiply-add per element: the per-channel
/// multiplier scale / sqrt(var + eps) and shift bias - mean * multiplier
/// are vt ops on the [C] parameters (folded when small, else computed once
/// per run), reshaped to [C, 1, ...] to broadcast over dim 1.
struct DecomposeBatchNorm : DecomposePattern<vt::BatchNormOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::BatchNormOp op, DecomposeBuilder &vb) const override {
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type elt = type.getElementType();
    Value mult = vb.mul(
        op.getScale(),
        vb.unary<vt::RsqrtOp>(vb.add(
            op.getVariance(), vb.scalar(elt, op.getEpsilon().convertToDouble()))));
    Value shift = vb.sub(op.getBias(), vb.mul(op.getMean(), mult));
    int64_t trailing = type.getRank() - 2;
    if (trailing > 0) {
      PatternRewriter &rewriter = vb.rewriter;
      // ONNX reshape: 0 keeps the channel count, the 1s broadcast.
      SmallVector<int64_t> dims(1 + trailing, 1);
      dims[0] = 0;
      auto shapeType =
          RankedTensorType::get({(int64_t)dims.size()}, rewriter.getI64Type());
      Value shape = vt::ConstantOp::create(
          rewriter, op.getLoc(), DenseIntElementsAttr::get(shapeType, dims),
          StringAttr());
      SmallVector<int64_t> chanShape(1 + trailing, 1);
      chanShape[0] = cast<RankedTensorType>(mult.getType()).getDimSize(0);
      auto chanType = RankedTensorType::get(chanShape, elt);
      mult = vt::ReshapeOp::create(rewriter, op.getLoc(), chanType, mult, shape);
      shift =
          vt::ReshapeOp::create(rewriter, op.getLoc(), chanType, shift, shape);
    }
    vb.replace(op, vb.add(vb.mul(x, mult), shift));
    return success();
  }
};

/// gelu(x) = x/2 (1 + erf(x / sqrt 2)); the tanh approximation is
/// x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct DecomposeGelu : DecomposePattern<vt::GeluOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::GeluOp op, DecomposeBuilder &vb) const override {
    Value x = op.getInput();
    Type elt = getElementTypeOrSelf(x.getType());
    Value inner;
    if (op.getApproximateTanh()) {
      Value cube = vb.mul(vb.mul(x, x), x);
      Value poly = vb.add(x, vb.mul(cube, vb.scalar(elt, 0.044715)));
      inner = vb.unary<vt::TanhOp>(
          vb.mul(poly, vb.scalar(elt, std::sqrt(2.0 / M_PI))));
    } else {
      inner = vb.unary<vt::ErfOp>(vb.mul(x, vb.scalar(elt, M_SQRT1_2)));
    }
    Value halfX = vb.mul(x, vb.scalar(elt, 0.5));
    vb.replace(op, vb.mul(halfX, vb.add(inner, vb.scalar(elt, 1.0))));
    return success();
  }
};

struct DecomposeHardSigmoid : DecomposePattern<vt::HardSigmoidOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::HardSigmoidOp op, DecomposeBuilder &vb) const override {
    vb.replace(op, vb.hardSigmoid(op.getInput(), op.getAlpha().convertToDouble(),
                                  op.getBeta().convertToDouble()));
    return success();
  }
};

/// hard_swish(x) = x * hard_sigmoid(x) with alpha 1/6, beta 1/2.
struct DecomposeHardSwish : DecomposePattern<vt::HardSwishOp> {
  using DecomposePattern::DecomposePattern;
  LogicalResult decompose(vt::HardSwishOp op, DecomposeBuilder &vb) const override {
    Value x = op.getInput();
    vb.replace(op, vb.mul(x, vb.hardSigmoid(x, 1.0 / 6.0, 0.5)));
    return success();
  }
};

struct VtDecomposePass : impl::VtDecomposeBase<VtDecomposePass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateVtDecomposePatterns(patterns);
    // No folding here: the canonicalizer after this pass does it, and a
    // failed decomposition (bad axis) must stay visible.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)))
      return signalPassFailure();
    bool leftOver = false;
    getOperation().walk([&](Operation *op) {
      if (!isa<vt::SoftmaxOp, vt::LayerNormOp, vt::BatchNormOp, vt::GeluOp,
               vt::HardSigmoidOp, vt::HardSwishOp>(op))
        return;
      leftOver = true;
      if (succeeded(checkDecomposable(op, /*diag=*/true)))
        op->emitOpError("was not decomposed");
    });
    if (leftOver)
      signalPassFailure();
  }
};

} // namespace

void populateVtDecomposePatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeSoftmax, DecomposeLayerNorm, DecomposeBatchNorm,
               DecomposeGelu, DecomposeHardSigmoid, DecomposeHardSwish>(
      patterns.getContext());
}

} // namespace vitc
