//===- ReductionsToLoops.cpp - reductions with register accumulators ------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_REDUCTIONSTOLOOPS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {

/// The indices `map` gives for loop ivs `ivs` (in loop-dim order).
SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ArrayRef<Value> ivs) {
  SmallVector<Value> indices;
  SmallVector<OpFoldResult> operands(ivs.begin(), ivs.end());
  for (AffineExpr expr : map.getResults()) {
    OpFoldResult index = affine::makeComposedFoldedAffineApply(
        b, loc, AffineMap::get(map.getNumDims(), 0, expr), operands);
    indices.push_back(getValueOrCreateConstantIndexOp(b, loc, index));
  }
  return indices;
}

struct ReductionToLoops : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1)
      return failure();
    SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
    if (iterators.empty() || iterators.back() != utils::IteratorType::reduction)
      return failure();
    Block &body = op.getRegion().front();
    if (llvm::any_of(body.getOperations(),
                     [](Operation &inner) { return inner.getNumRegions(); }))
      return failure();
    Location loc = op.getLoc();
    SmallVector<Range, 4> ranges =
        cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(rewriter, loc);
    SmallVector<unsigned> parallel, reduction;
    for (auto [d, it] : llvm::enumerate(iterators))
      (it == utils::IteratorType::parallel ? parallel : reduction).push_back(d);
    auto bounds = [&](ArrayRef<unsigned> dims, SmallVector<Value> &lbs,
                      SmallVector<Value> &ubs, SmallVector<Value> &steps) {
      for (unsigned d : dims) {
        lbs.push_back(getValueOrCreateConstantIndexOp(rewriter, loc,
                                                      ranges[d].offset));
        ubs.push_back(
            getValueOrCreateConstantIndexOp(rewriter, loc, ranges[d].size));
        steps.push_back(
            getValueOrCreateConstantIndexOp(rewriter, loc, ranges[d].stride));
      }
    };
    SmallVector<Value> pLbs, pUbs, pSteps, rLbs, rUbs, rSteps;
    bounds(parallel, pLbs, pUbs, pSteps);
    bounds(reduction, rLbs, rUbs, rSteps);
    Value out = op.getDpsInits()[0];
    AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    unsigned numLoops = iterators.size();

    // The parallel dims are an scf.parallel (vitc-cpu-parallel-kernels
    // splits it over threads), the reductions scf.for loops inside it.
    auto emitRow = [&](OpBuilder &b, Location l, ValueRange pIvs) {
      SmallVector<Value> ivs(numLoops);
      for (auto [d, iv] : llvm::zip(parallel, pIvs))
        ivs[d] = iv;
      // The output reads parallel dims only; give the reduction dims a
      // placeholder (the map does not use them).
      Value zero = arith::ConstantIndexOp::create(b, l, 0);
      SmallVector<Value> outIvs(ivs);
      for (unsigned d : reduction)
        outIvs[d] = zero;
      SmallVector<Value> outIndices = applyMap(b, l, outMap, outIvs);
      Value init = memref::LoadOp::create(b, l, out, outIndices);
      scf::LoopNest nest = scf::buildLoopNest(
          b, l, rLbs, rUbs, rSteps, ValueRange{init},
          [&](OpBuilder &ib, Location il, ValueRange rIvs,
              ValueRange acc) -> scf::ValueVector {
            for (auto [d, iv] : llvm::zip(reduction, rIvs))
              ivs[d] = iv;
            IRMapping map;
            for (OpOperand *input : op.getDpsInputOperands()) {
              Value arg = body.getArgument(input->getOperandNumber());
              if (!isa<MemRefType>(input->get().getType())) {
                map.map(arg, input->get()); // A scalar operand.
                continue;
              }
              SmallVector<Value> indices =
                  applyMap(ib, il, op.getMatchingIndexingMap(input), ivs);
              map.map(arg,
                      memref::LoadOp::create(ib, il, input->get(), indices));
            }
            map.map(body.getArgument(op.getNumDpsInputs()), acc[0]);
            for (Operation &inner : body.without_terminator()) {
              if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
                map.map(index.getResult(), ivs[index.getDim()]);
                continue;
              }
              ib.clone(inner, map);
            }
            auto yield = cast<linalg::YieldOp>(body.getTerminator());
            return {map.lookupOrDefault(yield.getOperand(0))};
          });
      memref::StoreOp::create(b, l, nest.results[0], out, outIndices);
    };
    if (parallel.empty())
      emitRow(rewriter, loc, ValueRange{});
    else
      scf::ParallelOp::create(rewriter, loc, pLbs, pUbs, pSteps, emitRow);
    rewriter.eraseOp(op);
    return success();
  }
};

struct ReductionsToLoopsPass
    : impl::ReductionsToLoopsBase<ReductionsToLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ReductionToLoops>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
} // namespace vitc
