//===- VtRandomExpectation.cpp - random keep masks by their expectation ---===//
//
// Stochastic depth (torchvision's StochasticDepth, in EfficientNet,
// ConvNeXt, Swin, MaxViT) exports in training mode as
//   mask = cast(less(u, p)) / p,   u = RandomUniformLike in [0, 1)
// (Bernoulli(p) imports as the same less). Its expectation is exactly 1,
// and PyTorch's eval() skips it: in an evaluation function the rescaled
// mask becomes ones. A mask that is not rescaled by its own probability is
// a sample the model means to draw, and stays random.
//
//===----------------------------------------------------------------------===//
#include "compiler/Graph/Passes.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_VTRANDOMEXPECTATION
#include "compiler/Graph/Passes.h.inc"

using namespace mlir;

namespace {

/// The value of a one-element float constant.
std::optional<double> scalarConstant(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

/// div(cast(less(u, p)), p) with u a uniform draw -> ones.
struct RescaledKeepMask : OpRewritePattern<vt::DivOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(vt::DivOp div,
                                PatternRewriter &rewriter) const override {
    auto mask = div.getLhs().getDefiningOp<vt::CastOp>();
    auto less = mask ? mask.getInput().getDefiningOp<vt::LessOp>() : nullptr;
    auto uniform =
        less ? less.getLhs().getDefiningOp<vt::RandomUniformOp>() : nullptr;
    if (!uniform)
      return failure();
    std::optional<double> keep = scalarConstant(less.getRhs());
    std::optional<double> scale = scalarConstant(div.getRhs());
    if (!keep || !scale || *keep != *scale || *keep <= 0.0)
      return failure();
    auto type = cast<RankedTensorType>(div.getType());
    Location loc = div.getLoc();
    Value one = vt::ConstantOp::create(
        rewriter, loc,
        DenseElementsAttr::get(RankedTensorType::get({}, type.getElementType()),
                               rewriter.getFloatAttr(type.getElementType(), 1.0)),
        StringAttr());
    // A static shape is a constant; else the draw's own shape operand, so
    // that the draw goes away with the mask, or the mask's.
    auto shapeType =
        RankedTensorType::get({type.getRank()}, rewriter.getI64Type());
    Value shape;
    if (type.hasStaticShape())
      shape = vt::ConstantOp::create(
          rewriter, loc,
          DenseElementsAttr::get(shapeType, type.getShape()), StringAttr());
    else if (uniform.getShape() &&
             cast<RankedTensorType>(uniform.getType()).getRank() ==
                 type.getRank())
      shape = uniform.getShape();
    else
      shape = vt::ShapeOfOp::create(rewriter, loc, shapeType, mask);
    rewriter.replaceOpWithNewOp<vt::ExpandOp>(div, type, one, shape);
    return success();
  }
};

struct VtRandomExpectationPass
    : impl::VtRandomExpectationBase<VtRandomExpectationPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RescaledKeepMask>(&getContext());
    FrozenRewritePatternSet frozen(std::move(patterns));
    // No folding: a draw of a constant seed and static shape would fold to
    // constants, and the mask's pattern with it.
    GreedyRewriteConfig config;
    config.enableFolding(false);
    for (const std::string &name : functions) {
      auto func = getOperation().lookupSymbol<func::FuncOp>(name);
      if (!func || func.isExternal())
        continue;
      if (failed(applyPatternsGreedily(func, frozen, config)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace vitc
