//===- ConvertVtToLinalg.cpp - the vt -> linalg lowering pass ---------------===//
//
// 1. Composite ops left in the graph are decomposed (vt-decompose's patterns),
//    so the pass also accepts graphs that skipped the graph pipeline.
// 2. A dialect conversion lowers every vt op, including those inside
//    vt.fusion bodies, to linalg / tensor / arith / math on tensors. An op
//    without a lowering is an error at its location.
// 3. Each vt.fusion is inlined in place: its results become the values its
//    body yields. Linalg elementwise fusion, next in the pipeline, then
//    merges the generics of the region into one loop nest. (vt.scatter,
//    never fused, becomes an scf.for nest instead; the CUDA target refuses
//    it.)
// 4. A matmul whose B operand is a transpose of the last two dims (possibly
//    behind the collapse of batch dims) reads the transpose's input through
//    transposed indexing maps instead. The matmul lowering does this for
//    transposes it sees directly; this catches those that came out of a
//    fusion (attention's k^T).
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/Passes.h"

#include "compiler/Graph/Passes.h"
#include "compiler/Lowering/VtToLinalg.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_CONVERTVTTOLINALG
#include "compiler/Lowering/Passes.h.inc"

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

/// matmul(a, transpose(b)) -> matmul with transposed B maps; likewise
/// batch_matmul(a, collapse_shape(transpose(b))) when the collapse keeps the
/// last two dims.
template <typename MatmulTy>
struct FoldTransposeIntoMatmul : OpRewritePattern<MatmulTy> {
  using OpRewritePattern<MatmulTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulTy op,
                                PatternRewriter &rewriter) const override {
    constexpr bool batched = std::is_same_v<MatmulTy, linalg::BatchMatmulOp>;
    if (op.hasUserDefinedMaps() || !op.hasPureTensorSemantics())
      return failure();
    Value b = op.getDpsInputs()[1];
    auto collapse = b.getDefiningOp<tensor::CollapseShapeOp>();
    Value src = collapse ? collapse.getSrc() : b;
    auto transpose = src.getDefiningOp<linalg::TransposeOp>();
    if (!transpose || !swapsLastTwoDims(transpose.getPermutation()))
      return failure();
    Value newB = transpose.getInput();
    if (collapse) {
      auto groups = collapse.getReassociationIndices();
      int64_t rank = collapse.getSrcType().getRank();
      if (groups.size() < 2 || groups[groups.size() - 1].size() != 1 ||
          groups[groups.size() - 2].size() != 1 ||
          groups.back()[0] != rank - 1)
        return failure();
      newB = tensor::CollapseShapeOp::create(rewriter, collapse.getLoc(), newB,
                                             groups);
    }
    auto mm = MatmulTy::create(rewriter, op.getLoc(), op.getResultTypes(),
                               ValueRange{op.getDpsInputs()[0], newB},
                               op.getDpsInits());
    mm.setIndexingMapsAttr(transposedBMatmulMaps(rewriter.getContext(), batched));
    rewriter.replaceOp(op, mm->getResults());
    return success();
  }
};

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

    // A scatter is a sequential loop nest (VtToLinalgScatter.cpp), which
    // the GPU code generation cannot map to kernels: refuse it by name
    // rather than fail later on a loop outside a kernel.
    if (this->target.getValue() == "cuda") {
      WalkResult refused = module.walk([](vt::ScatterOp op) {
        op.emitOpError("is not supported on the CUDA target (a scatter with "
                       "indices computed at run time lowers to a sequential "
                       "loop nest, compiled for the CPU only)");
        return WalkResult::interrupt();
      });
      if (refused.wasInterrupted())
        return signalPassFailure();
    }

    ConversionTarget target(*ctx);
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           scf::SCFDialect, bufferization::BufferizationDialect,
                           func::FuncDialect>();
    target.addIllegalDialect<vt::VtDialect>();
    // Fusions are inlined once their bodies are lowered.
    target.addLegalOp<vt::FusionOp, vt::YieldOp>();
    RewritePatternSet patterns(ctx);
    populateVtElementwiseToLinalgPatterns(patterns,
                                          this->target.getValue() == "cuda");
    populateVtReductionToLinalgPatterns(patterns);
    populateVtAnchorToLinalgPatterns(patterns);
    populateVtMovementToLinalgPatterns(patterns);
    populateVtSlicingToLinalgPatterns(patterns);
    populateVtScatterToLinalgPatterns(patterns);
    if (failed(applyPartialConversion(module, target, std::move(patterns))))
      return signalPassFailure();

    inlineFusions(module);

    RewritePatternSet folds(ctx);
    folds.add<FoldTransposeIntoMatmul<linalg::MatmulOp>,
              FoldTransposeIntoMatmul<linalg::BatchMatmulOp>>(ctx);
    GreedyRewriteConfig foldConfig;
    foldConfig.enableFolding(false);
    if (failed(applyPatternsGreedily(module, std::move(folds), foldConfig)))
      return signalPassFailure();
  }
};

} // namespace
} // namespace vitc
