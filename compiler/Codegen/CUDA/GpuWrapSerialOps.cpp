//===- GpuWrapSerialOps.cpp - linalg ops without an outer parallel loop ---===//
//
// convert-linalg-to-parallel-loops makes one scf.parallel of a linalg op's
// outer parallel dims; an op whose outermost loop reduces would become host
// loops touching device memory. The reductions that threads can share have
// their own kernels by now (vitc-gpu-distribute-reductions); each op left
// gets a GPU form here:
//   - a generic with parallel dims (a column reduction such as a bias
//     gradient: a sum over the rows for each column) is interchanged so they
//     come first: a thread per output element, each reducing sequentially,
//     the loads of a warp contiguous;
//   - anything else (0-d ops, unknown combiners) runs as a one-thread
//     kernel, correct and slow only where the work is small.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace vitc {
#define GEN_PASS_DEF_GPUWRAPSERIALOPS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

bool outerLoopReduces(linalg::LinalgOp op) {
  if (op->getParentOfType<scf::ParallelOp>() || !op.hasPureBufferSemantics())
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  return iterators.empty() || iterators.front() != utils::IteratorType::parallel;
}

/// Moves the parallel dims of `op` first; fails without parallel dims.
LogicalResult parallelDimsFirst(IRRewriter &rewriter, linalg::GenericOp op) {
  SmallVector<unsigned> order, reductions;
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    (iterator == utils::IteratorType::parallel ? order : reductions)
        .push_back(d);
  if (order.empty())
    return failure();
  order.append(reductions);
  rewriter.setInsertionPoint(op);
  return interchangeGenericOp(rewriter, op, order);
}

/// Runs `op` in the first iteration of a 32-iteration scf.parallel (a
/// one-iteration loop would be folded away before it is mapped): a kernel
/// with one working thread.
void runOnOneThread(OpBuilder &b, Operation *op) {
  b.setInsertionPoint(op);
  Location loc = op->getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value warp = arith::ConstantIndexOp::create(b, loc, 32);
  auto loop = scf::ParallelOp::create(b, loc, ValueRange{zero},
                                      ValueRange{warp}, ValueRange{one});
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                      loop.getInductionVars()[0], zero);
  auto guard = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  op->moveBefore(guard.thenBlock()->getTerminator());
}

struct GpuWrapSerialOpsPass
    : impl::GpuWrapSerialOpsBase<GpuWrapSerialOpsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> serial;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (outerLoopReduces(op))
        serial.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : serial) {
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (generic && succeeded(parallelDimsFirst(rewriter, generic)))
        continue;
      runOnOneThread(rewriter, op);
    }
  }
};

} // namespace
} // namespace vitc
