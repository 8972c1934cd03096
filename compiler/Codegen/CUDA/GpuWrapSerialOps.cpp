//===- GpuWrapSerialOps.cpp - linalg ops without an outer parallel loop ---===//
//
// convert-linalg-to-parallel-loops makes one scf.parallel of a linalg op's
// outer parallel dims; an op whose outermost loop reduces would become host
// loops touching device memory. Each such op gets a GPU form here:
//   - a generic with parallel dims (a bias gradient: a sum over the rows
//     for each column) is interchanged so they come first: a thread per
//     output element, each reducing sequentially;
//   - a full reduction to one value (the loss, a gradient's squared norm,
//     the hit count) whose combiner is known is split in two: 1024 threads
//     each reduce a strided share of the elements into a partial, then one
//     thread combines the partials into the output;
//   - anything else (0-d ops, unknown combiners) runs as a one-thread
//     kernel, correct and slow only where the work is small.
// Warp- and block-level reductions (shuffles, shared memory) come next
// (issue #12, part 3).
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace vitc {
#define GEN_PASS_DEF_GPUWRAPSERIALOPS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

/// Threads of a split full reduction (four blocks of 256).
constexpr int64_t kPartials = 1024;

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

/// The combiner of a full reduction: the op yielded, combining the output's
/// old value (used only there) with an element; its neutral value.
struct Combiner {
  Operation *op;
  Value element;
  TypedAttr neutral;
};

std::optional<Combiner> matchCombiner(linalg::GenericOp op) {
  Block *body = op.getBody();
  BlockArgument out = body->getArguments().back();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combine = yield.getValues()[0].getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !out.hasOneUse() ||
      !llvm::is_contained(combine->getOperands(), Value(out)))
    return std::nullopt;
  Value element = combine->getOperand(combine->getOperand(0) == out ? 1 : 0);
  Type type = out.getType();
  Builder b(op.getContext());
  TypedAttr neutral;
  if (isa<arith::AddFOp>(combine))
    neutral = b.getFloatAttr(type, 0.0);
  else if (isa<arith::AddIOp, arith::OrIOp>(combine))
    neutral = b.getIntegerAttr(type, 0);
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combine))
    neutral = b.getFloatAttr(
        type, APFloat::getInf(cast<FloatType>(type).getFloatSemantics(), true));
  else if (isa<arith::MinimumFOp, arith::MinNumFOp>(combine))
    neutral = b.getFloatAttr(
        type, APFloat::getInf(cast<FloatType>(type).getFloatSemantics(), false));
  else
    return std::nullopt;
  return Combiner{combine, element, neutral};
}

/// Splits a full reduction into kPartials strided partial reductions (one
/// thread each) and a reduction of the partials into the output.
LogicalResult splitFullReduction(IRRewriter &rewriter, linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumParallelLoops() != 0 ||
      op.getNumLoops() == 0)
    return failure();
  auto outType = cast<MemRefType>(op.getDpsInits()[0].getType());
  if (outType.getRank() != 0)
    return failure();
  std::optional<Combiner> combiner = matchCombiner(op);
  if (!combiner)
    return failure();

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Type elementType = outType.getElementType();
  auto cst = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
  };
  SmallVector<Value> sizes;
  Value total = cst(1);
  for (Range range : cast<linalg::LinalgOp>(op.getOperation())
                          .createLoopRanges(rewriter, loc)) {
    Value size = getValueOrCreateConstantIndexOp(rewriter, loc, range.size);
    sizes.push_back(size);
    total = arith::MulIOp::create(rewriter, loc, total, size);
  }
  Value partials = memref::AllocOp::create(
      rewriter, loc, MemRefType::get({kPartials}, elementType));

  // Stage 1: thread t reduces elements t, t + kPartials, ...
  auto parallel = scf::ParallelOp::create(rewriter, loc, ValueRange{cst(0)},
                                          ValueRange{cst(kPartials)},
                                          ValueRange{cst(1)});
  rewriter.setInsertionPoint(parallel.getBody()->getTerminator());
  Value t = parallel.getInductionVars()[0];
  Value neutral = arith::ConstantOp::create(rewriter, loc, combiner->neutral);
  Block *body = op.getBody();
  auto loop = scf::ForOp::create(
      rewriter, loc, t, total, cst(kPartials), ValueRange{neutral},
      [&](OpBuilder &b, Location l, Value linear, ValueRange acc) {
        // The loop ivs of the linear index (the last dim fastest).
        SmallVector<Value> ivs(sizes.size());
        Value rest = linear;
        for (size_t d = sizes.size(); d-- > 0;) {
          ivs[d] = arith::RemUIOp::create(b, l, rest, sizes[d]);
          rest = arith::DivUIOp::create(b, l, rest, sizes[d]);
        }
        IRMapping mapping;
        for (OpOperand *input : op.getDpsInputOperands()) {
          Value operand = input->get();
          BlockArgument arg = body->getArgument(input->getOperandNumber());
          if (!isa<MemRefType>(operand.getType())) {
            mapping.map(arg, operand);
            continue;
          }
          // The indexing map's results as arithmetic on the loop ivs.
          SmallVector<Value> indices;
          for (AffineExpr expr : op.getMatchingIndexingMap(input).getResults())
            indices.push_back(
                affine::expandAffineExpr(b, l, expr, ivs, ValueRange{}));
          mapping.map(arg, memref::LoadOp::create(b, l, operand, indices));
        }
        mapping.map(body->getArguments().back(), acc[0]);
        for (Operation &inner : body->without_terminator()) {
          if (auto index = dyn_cast<linalg::IndexOp>(inner))
            mapping.map(index.getResult(), ivs[index.getDim()]);
          else
            b.clone(inner, mapping);
        }
        scf::YieldOp::create(b, l, mapping.lookup(combiner->op->getResult(0)));
      });
  rewriter.setInsertionPointAfter(loop);
  memref::StoreOp::create(rewriter, loc, loop.getResult(0), partials, t);

  // Stage 2: the output combined with every partial (a full reduction of
  // kPartials elements, left to one thread below).
  rewriter.setInsertionPointAfter(parallel);
  MLIRContext *ctx = op.getContext();
  AffineMap in = AffineMap::getMultiDimIdentityMap(1, ctx);
  AffineMap out = AffineMap::get(1, 0, {}, ctx);
  auto combine = linalg::GenericOp::create(
      rewriter, loc, TypeRange{}, ValueRange{partials},
      ValueRange{op.getDpsInits()[0]}, ArrayRef<AffineMap>{in, out},
      ArrayRef<utils::IteratorType>{utils::IteratorType::reduction},
      [&](OpBuilder &b, Location l, ValueRange args) {
        IRMapping pair;
        pair.map(combiner->element, args[0]);
        pair.map(body->getArguments().back(), args[1]);
        Operation *clone = b.clone(*combiner->op, pair);
        linalg::YieldOp::create(b, l, clone->getResult(0));
      });
  rewriter.setInsertionPointAfter(combine);
  memref::DeallocOp::create(rewriter, loc, partials);
  rewriter.eraseOp(op);
  return success();
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
      if (generic && succeeded(splitFullReduction(rewriter, generic)))
        continue;
      runOnOneThread(rewriter, op);
    }
    // The partials' final reductions, made above, run on one thread.
    SmallVector<linalg::LinalgOp> rest;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (outerLoopReduces(op))
        rest.push_back(op);
    });
    for (linalg::LinalgOp op : rest)
      runOnOneThread(rewriter, op);
  }
};

} // namespace
} // namespace vitc
