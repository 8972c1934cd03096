//===- LowerStridedCopies.cpp - strided memref.copy -> linalg.copy ----------===//
#include "compiler/Codegen/Common/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_LOWERSTRIDEDCOPIES
#include "compiler/Codegen/Common/Passes.h.inc"

using namespace mlir;

namespace {
/// A copy is contiguous (and becomes llvm.memcpy) when both sides have the
/// identity layout; everything else is rewritten to an explicit loop nest.
struct StridedCopyToLinalg : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op,
                                PatternRewriter &rewriter) const override {
    auto identity = [](Value v) {
      auto type = dyn_cast<MemRefType>(v.getType());
      return type && type.getLayout().isIdentity();
    };
    if (identity(op.getSource()) && identity(op.getTarget()))
      return failure();
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(),
                                                op.getTarget());
    return success();
  }
};

struct LowerStridedCopiesPass
    : impl::LowerStridedCopiesBase<LowerStridedCopiesPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StridedCopyToLinalg>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace vitc
