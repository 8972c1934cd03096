//===- ConvertVtToLinalg.cpp - the vt -> linalg lowering pass ---------------===//
//
// 1. Composite ops left in the graph are decomposed (vt-decompose's patterns),
//    so the pass also accepts graphs that skipped the graph pipeline.
// 2. A dialect conversion lowers every vt op, including those inside
//    vt.fusion bodies, to linalg / tensor / arith / math on tensors. An op
//    without a lowering is an error at its location.
// 3. Each vt.fusion is inlined in place: its results become the values its
//    body yields. Linalg elementwise fusion, next in the pipeline, then
//    merges the generics of the region into one loop nest.
//
//===----------------------------------------------------------------------===//
#include "VtToLinalg.h"

#include "vitc/Compiler/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_CONVERTVTTOLINALG
#include "vitc/Compiler/Passes.h.inc"

namespace {

/// Replaces each vt.fusion by its body, innermost first.
static void inlineFusions(ModuleOp module) {
  SmallVector<vt::FusionOp> fusions;
  module.walk([&](vt::FusionOp op) { fusions.push_back(op); });
  IRRewriter rewriter(module.getContext());
  for (vt::FusionOp fusion : fusions) {
    Block &body = fusion.getBody().front();
    auto yield = cast<vt::YieldOp>(body.getTerminator());
    SmallVector<Value> results(yield.getValues());
    rewriter.eraseOp(yield);
    rewriter.inlineBlockBefore(&body, fusion, fusion.getInputs());
    rewriter.replaceOp(fusion, results);
  }
}

struct ConvertVtToLinalgPass
    : impl::ConvertVtToLinalgBase<ConvertVtToLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();

    RewritePatternSet decompose(ctx);
    populateVtDecomposePatterns(decompose);
    GreedyRewriteConfig config;
    config.enableFolding(false);
    (void)applyPatternsGreedily(module, std::move(decompose), config);

    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           func::FuncDialect>();
    target.addIllegalDialect<vt::VtDialect>();
    // Fusions are inlined once their bodies are lowered.
    target.addLegalOp<vt::FusionOp, vt::YieldOp>();
    RewritePatternSet patterns(ctx);
    populateVtElementwiseToLinalgPatterns(patterns);
    populateVtReductionToLinalgPatterns(patterns);
    populateVtAnchorToLinalgPatterns(patterns);
    populateVtMovementToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    inlineFusions(module);
  }
};

} // namespace
} // namespace vitc
