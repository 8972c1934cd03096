//===- GpuWrapSerialOps.cpp - linalg ops without a parallel dim -> 1 thread ===//
//
// A linalg op whose outermost loop is not parallel (a 0-d op, a reduction
// to a scalar such as a training step's loss, a reduction-first nest)
// would lower to host loops touching device memory. Wrapped in an
// scf.parallel whose first iteration runs it, it becomes a one-thread
// kernel instead:
// correct, and slow only where the work is small. Real GPU reductions (a
// warp or block per row) replace these next (issue #12, part 3).
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace vitc {
#define GEN_PASS_DEF_GPUWRAPSERIALOPS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

bool needsWrapping(linalg::LinalgOp op) {
  if (op->getParentOfType<scf::ParallelOp>() || !op.hasPureBufferSemantics())
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  return iterators.empty() || iterators.front() != utils::IteratorType::parallel;
}

struct GpuWrapSerialOpsPass
    : impl::GpuWrapSerialOpsBase<GpuWrapSerialOpsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> serial;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (needsWrapping(op))
        serial.push_back(op);
    });
    OpBuilder b(&getContext());
    for (linalg::LinalgOp op : serial) {
      // A one-warp loop whose lane 0 does the work: a one-iteration loop
      // would be folded away by the canonicalizer before it is mapped.
      b.setInsertionPoint(op);
      Location loc = op.getLoc();
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
  }
};

} // namespace
} // namespace vitc
