//===- GpuMapParallelLoops.cpp - scf.parallel -> 1-D GPU grid mapping ------===//
//
// convert-linalg-to-parallel-loops leaves one multi-dimensional scf.parallel
// per elementwise or fused linalg op. Upstream gpu-map-parallel-loops maps
// the first three dimensions to blocks and leaves one thread per block; here
// each nest is collapsed to one dimension and tiled into blocks of
// `block-size` threads instead, which keeps every thread busy and the
// accesses of a warp contiguous, whatever the rank.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace vitc {
#define GEN_PASS_DEF_GPUMAPPARALLELLOOPS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

gpu::ParallelLoopDimMappingAttr mappingTo(MLIRContext *ctx,
                                          gpu::Processor processor) {
  AffineMap identity = AffineMap::getMultiDimIdentityMap(1, ctx);
  return gpu::ParallelLoopDimMappingAttr::get(ctx, processor, identity,
                                              identity);
}

/// Maps every dimension of `loop` to `processor`.
LogicalResult mapAll(scf::ParallelOp loop, gpu::Processor processor) {
  SmallVector<gpu::ParallelLoopDimMappingAttr> mapping(
      loop.getNumLoops(), mappingTo(loop.getContext(), processor));
  return gpu::setMappingAttr(loop, mapping);
}

/// Replaces `loop` (without reductions) by an scf.for nest over its dims.
LogicalResult sequentialize(IRRewriter &rewriter, scf::ParallelOp loop) {
  if (loop.getNumReductions() != 0)
    return loop.emitError("a nested scf.parallel with reductions has no GPU "
                          "mapping yet");
  rewriter.setInsertionPoint(loop);
  scf::LoopNest nest =
      scf::buildLoopNest(rewriter, loop.getLoc(), loop.getLowerBound(),
                         loop.getUpperBound(), loop.getStep());
  Block *body = loop.getBody();
  rewriter.eraseOp(body->getTerminator()); // scf.reduce
  SmallVector<Value> ivs;
  for (scf::ForOp forOp : nest.loops)
    ivs.push_back(forOp.getInductionVar());
  Block *innermost = nest.loops.back().getBody();
  rewriter.inlineBlockBefore(body, innermost->getTerminator(), ivs);
  rewriter.eraseOp(loop);
  return success();
}

struct GpuMapParallelLoopsPass
    : impl::GpuMapParallelLoopsBase<GpuMapParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (blockSize <= 0 || blockSize % 32 != 0) {
      func.emitError() << "block-size must be a positive multiple of 32, got "
                       << static_cast<int64_t>(blockSize);
      return signalPassFailure();
    }

    SmallVector<scf::ParallelOp> roots;
    func.walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
        roots.push_back(loop);
    });

    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp root : roots) {
      if (failed(mapRoot(rewriter, root)))
        return signalPassFailure();
    }

    // What stays outside a mapped loop runs on the host: loads and stores of
    // buffers there would read device memory from the CPU.
    WalkResult result = func.walk([&](Operation *op) {
      if (!isa<memref::LoadOp, memref::StoreOp>(op) ||
          op->getParentOfType<scf::ParallelOp>() ||
          op->getParentOfType<gpu::LaunchOp>())
        return WalkResult::advance();
      op->emitError("memory access outside a parallel loop would run on the "
                    "host against a device buffer");
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult mapRoot(IRRewriter &rewriter, scf::ParallelOp loop) {
    if (loop.getNumReductions() != 0)
      return loop.emitError("scf.parallel with reductions has no GPU mapping "
                            "yet");

    if (loop.getNumLoops() > 1) {
      // collapseParallelLoops replaces `loop` by a new scf.parallel inserted
      // right before it (after the bound computations).
      Operation *next = loop->getNextNode();
      std::vector<unsigned> dims(loop.getNumLoops());
      std::iota(dims.begin(), dims.end(), 0u);
      collapseParallelLoops(rewriter, loop, {dims});
      loop = cast<scf::ParallelOp>(next->getPrevNode());
    }

    // Tiles of exactly `blockSize` iterations with an in-bounds guard, so the
    // thread count is a constant.
    auto [blocks, threads] =
        scf::tileParallelLoop(loop, {blockSize}, /*noMinMaxBounds=*/true);
    if (failed(mapAll(blocks, gpu::Processor::BlockX)) ||
        failed(mapAll(threads, gpu::Processor::ThreadX)))
      return failure();

    // Nested parallel loops (inside reduction loops) run sequentially in
    // each thread: as scf.for nests, which convert-parallel-loops-to-gpu
    // accepts at any depth (it maps only directly nested scf.parallel).
    SmallVector<scf::ParallelOp> nested;
    threads.getBody()->walk([&](scf::ParallelOp inner) { nested.push_back(inner); });
    for (scf::ParallelOp inner : nested) // innermost first (post-order)
      if (failed(sequentialize(rewriter, inner)))
        return failure();
    return success();
  }
};

} // namespace
} // namespace vitc
