//===- FuseElementwise.cpp - one loop nest per fused region -----------------===//
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

bool allParallel(linalg::GenericOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// A body worth recomputing instead of storing: plain arithmetic only.
/// Transcendentals (math dialect) and divisions cost more than a load.
bool isCheapToRecompute(linalg::GenericOp op) {
  for (Operation &inner : op.getRegion().front().without_terminator()) {
    if (inner.getDialect()->getNamespace() != "arith" ||
        isa<arith::DivFOp, arith::DivSIOp, arith::DivUIOp, arith::RemFOp>(inner))
      return false;
  }
  return true;
}

/// Whether fusing `producer` into `consumer` would hide a contraction from
/// vitc-linalg-to-library: the library kernels read their operands from
/// memory, so a producer that computes (e.g. rounds a weight to bf16) must
/// stay a loop nest of its own. Producers that only move data (transposes,
/// broadcasts: bodies that yield an input) become indexing maps, which the
/// kernels do read.
bool computesIntoContraction(Operation *producer, Operation *consumer) {
  auto contraction = dyn_cast<linalg::LinalgOp>(consumer);
  auto generic = dyn_cast<linalg::GenericOp>(producer);
  return contraction && linalg::isaContractionOpInterface(contraction) &&
         !(generic && generic.getBody()->without_terminator().empty());
}

/// Whether fusing `producer` into a consumer that reads it through a
/// broadcasting map would recompute a sizeable body for every element it is
/// broadcast to (e.g. the first-hit select chain of a max-pool gradient, read
/// once per window tap): a producer with several inputs or a long body is
/// cheaper stored once and loaded.
bool recomputedPerBroadcast(OpOperand *fused) {
  auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::LinalgOp>(fused->getOwner());
  if (!producer || !consumer ||
      consumer.getMatchingIndexingMap(fused).isPermutation())
    return false;
  auto ops = producer.getRegion().front().without_terminator();
  return producer.getNumDpsInputs() >= 3 ||
         std::distance(ops.begin(), ops.end()) >= 6;
}

/// Upstream's rule (a single-use producer), plus: a cheap all-parallel
/// producer fuses into all-parallel consumers whatever its use count.
/// Computations stay out of contractions (computesIntoContraction) and out
/// of consumers that would recompute them per broadcast element.
bool shouldFuse(OpOperand *fused) {
  Operation *producerOp = fused->get().getDefiningOp();
  if (!producerOp || computesIntoContraction(producerOp, fused->getOwner()) ||
      recomputedPerBroadcast(fused))
    return false;
  if (producerOp->hasOneUse())
    return true;
  auto producer = dyn_cast<linalg::GenericOp>(producerOp);
  auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
  return producer && consumer && allParallel(producer) && allParallel(consumer) &&
         isCheapToRecompute(producer);
}

struct FuseElementwisePass : impl::FuseElementwiseBase<FuseElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    linalg::populateElementwiseOpsFusionPatterns(patterns, shouldFuse);
    // The rest as upstream's pass has it, with upstream's single-use control.
    linalg::ControlFusionFn singleUse = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse();
    };
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, singleUse);
    linalg::populateConstantFoldLinalgOperations(patterns, singleUse);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(patterns);
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      signalPassFailure();
  }
};
} // namespace
} // namespace vitc
