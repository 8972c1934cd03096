//===- GpuDistributeReductions.cpp - reductions across a warp or a block ---===//
//
// A reduction left to convert-linalg-to-parallel-loops becomes a thread per
// output element looping over its whole row: softmax and layer-norm rows,
// batch-norm statistics over N*H*W, the loss. Here each such reduction gets
// its own kernel in which many threads share a row:
//   - a row of a statically known, modest length (softmax over the tokens,
//     layer norm over the features): a warp per row, eight rows a block,
//     the lanes combined with gpu.subgroup_reduce (shuffles);
//   - a long or dynamic row (batch-norm statistics, a bias gradient's rows):
//     a block of 256 threads per row, combined with gpu.all_reduce (shuffles,
//     then the warps' results through workgroup memory);
//   - a full reduction to one value (the loss, a gradient's squared norm):
//     kPartialBlocks blocks each reduce a contiguous chunk into a partial,
//     then one block reduces the partials into the output.
// Lanes stride through the row, so a warp's loads are contiguous when the
// row is. Partial results are kept in f32 (or the type's own width when
// wider), which is also more accurate for bf16 rows.
//
// What is distributed: a linalg.generic on buffers with one output indexed
// by exactly its parallel dims, at least one reduction dim, a known
// combiner (add, or, min, max), and inputs that each read an element once
// (an input using a reduction dim uses every dim). Contractions (an input
// broadcast along a parallel dim) are not reductions of this kind, and a
// column reduction (the innermost dim parallel) stays a thread per column,
// whose loads are contiguous across the warp; both are left to the passes
// after this one.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <functional>

namespace vitc {
#define GEN_PASS_DEF_GPUDISTRIBUTEREDUCTIONS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

constexpr int64_t kWarp = 32;
/// Rows of a warp-per-row kernel's block (eight warps).
constexpr int64_t kRowsPerBlock = 8;
/// Threads of a block-per-row kernel.
constexpr int64_t kBlockThreads = 256;
/// Rows of at least this length, or of unknown length, get a block.
constexpr int64_t kBlockRowLength = 4096;
/// Rows shorter than a warp keep a thread per row.
constexpr int64_t kMinRowLength = kWarp;
/// Blocks of a full reduction's first stage (about one per SM).
constexpr int64_t kPartialBlocks = 128;

/// A reduction that this pass distributes.
struct Reduction {
  linalg::GenericOp op;
  gpu::AllReduceOperation kind;
  Operation *combiner;
  Value element; // the combiner's other operand
  SmallVector<unsigned> parallelDims, reductionDims;
};

std::optional<gpu::AllReduceOperation> combinerKind(Operation *op) {
  if (isa<arith::AddFOp, arith::AddIOp>(op))
    return gpu::AllReduceOperation::ADD;
  if (isa<arith::OrIOp>(op))
    return gpu::AllReduceOperation::OR;
  if (isa<arith::MaximumFOp>(op))
    return gpu::AllReduceOperation::MAXIMUMF;
  if (isa<arith::MaxNumFOp>(op))
    return gpu::AllReduceOperation::MAXNUMF;
  if (isa<arith::MinimumFOp>(op))
    return gpu::AllReduceOperation::MINIMUMF;
  if (isa<arith::MinNumFOp>(op))
    return gpu::AllReduceOperation::MINNUMF;
  return std::nullopt;
}

/// The type partial results are kept in: f32 for narrower floats, i32 for
/// narrower integers (shuffles move 32-bit words), else the type itself.
Type accumulatorType(Type type) {
  if (auto f = dyn_cast<FloatType>(type); f && f.getWidth() < 32)
    return Float32Type::get(type.getContext());
  if (auto i = dyn_cast<IntegerType>(type); i && i.getWidth() < 32)
    return IntegerType::get(type.getContext(), 32);
  return type;
}

Value convert(OpBuilder &b, Location loc, Value value, Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  if (isa<FloatType>(to))
    return cast<FloatType>(to).getWidth() > cast<FloatType>(from).getWidth()
               ? Value(arith::ExtFOp::create(b, loc, to, value))
               : Value(arith::TruncFOp::create(b, loc, to, value));
  return to.getIntOrFloatBitWidth() > from.getIntOrFloatBitWidth()
             ? Value(arith::ExtUIOp::create(b, loc, to, value))
             : Value(arith::TruncIOp::create(b, loc, to, value));
}

Value combine(OpBuilder &b, Location loc, gpu::AllReduceOperation kind,
              Value lhs, Value rhs) {
  bool isFloat = isa<FloatType>(lhs.getType());
  switch (kind) {
  case gpu::AllReduceOperation::ADD:
    return isFloat ? Value(arith::AddFOp::create(b, loc, lhs, rhs))
                   : Value(arith::AddIOp::create(b, loc, lhs, rhs));
  case gpu::AllReduceOperation::OR:
    return arith::OrIOp::create(b, loc, lhs, rhs);
  case gpu::AllReduceOperation::MAXIMUMF:
    return arith::MaximumFOp::create(b, loc, lhs, rhs);
  case gpu::AllReduceOperation::MAXNUMF:
    return arith::MaxNumFOp::create(b, loc, lhs, rhs);
  case gpu::AllReduceOperation::MINIMUMF:
    return arith::MinimumFOp::create(b, loc, lhs, rhs);
  default:
    return arith::MinNumFOp::create(b, loc, lhs, rhs);
  }
}

TypedAttr neutralValue(Builder &b, gpu::AllReduceOperation kind, Type type) {
  if (auto f = dyn_cast<FloatType>(type)) {
    switch (kind) {
    case gpu::AllReduceOperation::ADD:
      return b.getFloatAttr(type, 0.0);
    case gpu::AllReduceOperation::MAXIMUMF:
    case gpu::AllReduceOperation::MAXNUMF:
      return b.getFloatAttr(
          type, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/true));
    default:
      return b.getFloatAttr(
          type, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/false));
    }
  }
  return b.getIntegerAttr(type, 0); // add, or
}

std::optional<Reduction> match(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op->getParentOfType<scf::ParallelOp>() ||
      op->getParentOfType<gpu::LaunchOp>())
    return std::nullopt;
  Reduction r{op, {}, nullptr, {}, {}, {}};
  for (auto [d, iterator] : llvm::enumerate(op.getIteratorTypesArray()))
    (iterator == utils::IteratorType::parallel ? r.parallelDims
                                               : r.reductionDims)
        .push_back(d);
  if (r.reductionDims.empty())
    return std::nullopt;

  // The output: indexed by exactly the parallel dims.
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap outMap = op.getMatchingIndexingMap(init);
  if (!outMap.isProjectedPermutation() ||
      outMap.getNumResults() != r.parallelDims.size())
    return std::nullopt;
  for (unsigned d : r.reductionDims)
    if (outMap.isFunctionOfDim(d))
      return std::nullopt;

  // Every input read once per iteration: one using a reduction dim uses
  // every dim, and the innermost of them reduces (or there is no parallel
  // dim), so the lanes of a warp read neighbouring elements.
  bool readsRows = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (!isa<MemRefType>(input->get().getType()))
      continue;
    AffineMap map = op.getMatchingIndexingMap(input);
    bool usesReduction = llvm::any_of(r.reductionDims, [&](unsigned d) {
      return map.isFunctionOfDim(d);
    });
    if (!usesReduction)
      continue;
    if (!map.isPermutation())
      return std::nullopt;
    auto innermost = cast<AffineDimExpr>(map.getResults().back());
    if (!llvm::is_contained(r.reductionDims, innermost.getPosition()) &&
        !r.parallelDims.empty())
      return std::nullopt;
    readsRows = true;
  }
  if (!readsRows)
    return std::nullopt;

  // The combiner: the op yielded, combining the output's old value (used
  // only there) with an element.
  Block *body = op.getBody();
  BlockArgument out = body->getArguments().back();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combiner = yield.getValues()[0].getDefiningOp();
  if (!combiner || combiner->getNumOperands() != 2 || !out.hasOneUse() ||
      !llvm::is_contained(combiner->getOperands(), Value(out)) ||
      combiner->getOperand(0) == combiner->getOperand(1))
    return std::nullopt;
  std::optional<gpu::AllReduceOperation> kind = combinerKind(combiner);
  Type type = out.getType();
  if (!kind || !(isa<FloatType>(type) || type.isSignlessInteger()) ||
      type.getIntOrFloatBitWidth() > 64)
    return std::nullopt;
  r.kind = *kind;
  r.combiner = combiner;
  r.element = combiner->getOperand(combiner->getOperand(0) == out ? 1 : 0);
  return r;
}

/// One kernel of `rows` reductions: a warp or a block per row.
struct RowKernel {
  int64_t lanes;       // threads sharing a row (32: a warp, else a block)
  int64_t rowsPerBlock;
  Value rows;          // on the host
  /// The row's length and element `k` (in the accumulator type), built in
  /// the kernel for a row index.
  std::function<Value(OpBuilder &, Location, Value row)> length;
  std::function<Value(OpBuilder &, Location, Value row, Value k)> element;
  /// Stores the row's total.
  std::function<void(OpBuilder &, Location, Value row, Value total)> store;
};

void emitRowKernel(OpBuilder &b, Location loc, gpu::AllReduceOperation kind,
                   Type accType, const RowKernel &kernel) {
  auto cst = [&](OpBuilder &builder, int64_t v) {
    return arith::ConstantIndexOp::create(builder, loc, v).getResult();
  };
  Value grid = kernel.rowsPerBlock == 1
                   ? kernel.rows
                   : arith::CeilDivSIOp::create(b, loc, kernel.rows,
                                                cst(b, kernel.rowsPerBlock))
                         .getResult();
  Value one = cst(b, 1);
  auto launch = gpu::LaunchOp::create(b, loc, grid, one, one,
                                      cst(b, kernel.lanes),
                                      cst(b, kernel.rowsPerBlock), one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  gpu::KernelDim3 block = launch.getBlockIds(), thread = launch.getThreadIds();

  // The row, clamped into range so that every lane of a warp takes part in
  // its shuffles; the rows past the end store nothing.
  Value row = block.x, inRange;
  if (kernel.rowsPerBlock > 1) {
    row = arith::AddIOp::create(
        b, loc,
        arith::MulIOp::create(b, loc, block.x, cst(b, kernel.rowsPerBlock)),
        thread.y);
    inRange = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                                    kernel.rows);
    Value last = arith::SubIOp::create(b, loc, kernel.rows, cst(b, 1));
    row = arith::SelectOp::create(b, loc, inRange, row, last);
  }

  Value neutral = arith::ConstantOp::create(
      b, loc, neutralValue(b, kind, accType));
  Value length = kernel.length(b, loc, row);
  auto loop = scf::ForOp::create(
      b, loc, thread.x, length, cst(b, kernel.lanes), ValueRange{neutral},
      [&](OpBuilder &lb, Location l, Value k, ValueRange acc) {
        Value e = kernel.element(lb, l, row, k);
        scf::YieldOp::create(lb, l, combine(lb, l, kind, acc[0], e));
      });
  Value partial = loop.getResult(0);
  auto kindAttr = gpu::AllReduceOperationAttr::get(b.getContext(), kind);
  Value total =
      kernel.lanes == kWarp
          ? gpu::SubgroupReduceOp::create(b, loc, partial, kind,
                                          /*uniform=*/true)
                .getResult()
          : gpu::AllReduceOp::create(b, loc, partial, kindAttr,
                                     /*uniform=*/true)
                .getResult();

  Value writer = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                       thread.x, cst(b, 0));
  if (inRange)
    writer = arith::AndIOp::create(b, loc, writer, inRange);
  auto ifOp = scf::IfOp::create(b, loc, writer, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    kernel.store(b, loc, row, total);
  }
  gpu::TerminatorOp::create(b, loc);
}

/// The sizes of `dims` and index `linear` split into them (the last dim
/// fastest).
SmallVector<Value> delinearize(OpBuilder &b, Location loc, Value linear,
                               ArrayRef<Value> sizes) {
  SmallVector<Value> ivs(sizes.size());
  for (size_t d = sizes.size(); d-- > 0;) {
    if (d == 0) {
      ivs[d] = linear;
      break;
    }
    ivs[d] = arith::RemUIOp::create(b, loc, linear, sizes[d]);
    linear = arith::DivUIOp::create(b, loc, linear, sizes[d]);
  }
  return ivs;
}

Value product(OpBuilder &b, Location loc, ArrayRef<Value> sizes) {
  Value total = arith::ConstantIndexOp::create(b, loc, 1);
  for (Value size : sizes)
    total = arith::MulIOp::create(b, loc, total, size);
  return total;
}

/// The generic's element at loop indices `ivs`: the body up to the
/// combiner, converted to `accType`.
Value elementAt(OpBuilder &b, Location loc, Reduction &r,
                ArrayRef<Value> ivs, Type accType) {
  linalg::GenericOp op = r.op;
  Block *body = op.getBody();
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value operand = input->get();
    BlockArgument arg = body->getArgument(input->getOperandNumber());
    if (!isa<MemRefType>(operand.getType())) {
      mapping.map(arg, operand);
      continue;
    }
    SmallVector<Value> indices;
    for (AffineExpr expr : op.getMatchingIndexingMap(input).getResults())
      indices.push_back(
          affine::expandAffineExpr(b, loc, expr, ivs, ValueRange{}));
    mapping.map(arg, memref::LoadOp::create(b, loc, operand, indices));
  }
  for (Operation &inner : body->without_terminator()) {
    if (&inner == r.combiner)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(inner))
      mapping.map(index.getResult(), ivs[index.getDim()]);
    else
      b.clone(inner, mapping);
  }
  return convert(b, loc, mapping.lookupOrDefault(r.element), accType);
}

/// Stores combine(out[indices], total) in the output's type.
void storeCombined(OpBuilder &b, Location loc, gpu::AllReduceOperation kind,
                   Value out, ValueRange indices, Value total) {
  Type type = cast<MemRefType>(out.getType()).getElementType();
  Value old = memref::LoadOp::create(b, loc, out, indices);
  Value sum = combine(b, loc, kind, convert(b, loc, old, total.getType()),
                      total);
  memref::StoreOp::create(b, loc, convert(b, loc, sum, type), out, indices);
}

/// A reduction with parallel dims: a warp or a block per output element.
void distributeRows(OpBuilder &b, Reduction &r,
                    ArrayRef<Value> loopSizes, Type accType) {
  Location loc = r.op.getLoc();
  SmallVector<Value> parallelSizes, reductionSizes;
  std::optional<int64_t> staticLength = 1;
  for (unsigned d : r.parallelDims)
    parallelSizes.push_back(loopSizes[d]);
  for (unsigned d : r.reductionDims) {
    reductionSizes.push_back(loopSizes[d]);
    std::optional<int64_t> size = getConstantIntValue(loopSizes[d]);
    staticLength = size && staticLength ? std::optional(*staticLength * *size)
                                        : std::nullopt;
  }
  bool warp = staticLength && *staticLength < kBlockRowLength;

  RowKernel kernel;
  kernel.lanes = warp ? kWarp : kBlockThreads;
  kernel.rowsPerBlock = warp ? kRowsPerBlock : 1;
  kernel.rows = product(b, loc, parallelSizes);
  kernel.length = [&](OpBuilder &kb, Location l, Value) {
    return product(kb, l, reductionSizes);
  };
  auto ivsOf = [&](OpBuilder &kb, Location l, Value row, Value k) {
    SmallVector<Value> ivs(loopSizes.size());
    for (auto [d, iv] : llvm::zip(r.parallelDims,
                                  delinearize(kb, l, row, parallelSizes)))
      ivs[d] = iv;
    if (k)
      for (auto [d, iv] : llvm::zip(r.reductionDims,
                                    delinearize(kb, l, k, reductionSizes)))
        ivs[d] = iv;
    return ivs;
  };
  kernel.element = [&](OpBuilder &kb, Location l, Value row, Value k) {
    return elementAt(kb, l, r, ivsOf(kb, l, row, k), accType);
  };
  kernel.store = [&](OpBuilder &kb, Location l, Value row, Value total) {
    SmallVector<Value> ivs = ivsOf(kb, l, row, nullptr);
    OpOperand *init = r.op.getDpsInitOperand(0);
    SmallVector<Value> indices;
    for (AffineExpr expr : r.op.getMatchingIndexingMap(init).getResults())
      indices.push_back(ivs[cast<AffineDimExpr>(expr).getPosition()]);
    storeCombined(kb, l, r.kind, init->get(), indices, total);
  };
  emitRowKernel(b, loc, r.kind, accType, kernel);
}

/// A reduction to one value: kPartialBlocks blocks reduce contiguous chunks
/// into partials, then one block reduces the partials into the output.
void distributeFull(OpBuilder &b, Reduction &r,
                    ArrayRef<Value> loopSizes, Type accType) {
  Location loc = r.op.getLoc();
  auto cst = [&](OpBuilder &builder, int64_t v) {
    return arith::ConstantIndexOp::create(builder, loc, v).getResult();
  };
  Value total = product(b, loc, loopSizes);
  Value chunk = arith::CeilDivSIOp::create(b, loc, total,
                                           cst(b, kPartialBlocks));
  Value partials = memref::AllocOp::create(
      b, loc, MemRefType::get({kPartialBlocks}, accType));

  RowKernel stage1;
  stage1.lanes = kBlockThreads;
  stage1.rowsPerBlock = 1;
  stage1.rows = cst(b, kPartialBlocks);
  // Block `row` reduces [row * chunk, min((row + 1) * chunk, total)).
  stage1.length = [&](OpBuilder &kb, Location l, Value row) {
    Value begin = arith::MulIOp::create(kb, l, row, chunk);
    Value left = arith::SubIOp::create(kb, l, total, begin);
    Value zero = arith::ConstantIndexOp::create(kb, l, 0);
    Value rest = arith::MaxSIOp::create(kb, l, left, zero);
    return arith::MinSIOp::create(kb, l, rest, chunk).getResult();
  };
  stage1.element = [&](OpBuilder &kb, Location l, Value row, Value k) {
    Value linear = arith::AddIOp::create(
        kb, l, arith::MulIOp::create(kb, l, row, chunk), k);
    return elementAt(kb, l, r, delinearize(kb, l, linear, loopSizes),
                     accType);
  };
  stage1.store = [&](OpBuilder &kb, Location l, Value row, Value sum) {
    memref::StoreOp::create(kb, l, sum, partials, row);
  };
  emitRowKernel(b, loc, r.kind, accType, stage1);

  RowKernel stage2;
  stage2.lanes = kBlockThreads;
  stage2.rowsPerBlock = 1;
  stage2.rows = cst(b, 1);
  stage2.length = [&](OpBuilder &kb, Location l, Value) {
    return arith::ConstantIndexOp::create(kb, l, kPartialBlocks).getResult();
  };
  stage2.element = [&](OpBuilder &kb, Location l, Value, Value k) {
    return memref::LoadOp::create(kb, l, partials, k).getResult();
  };
  stage2.store = [&](OpBuilder &kb, Location l, Value, Value sum) {
    storeCombined(kb, l, r.kind, r.op.getDpsInits()[0], ValueRange{}, sum);
  };
  emitRowKernel(b, loc, r.kind, accType, stage2);
  memref::DeallocOp::create(b, loc, partials);
}

struct GpuDistributeReductionsPass
    : impl::GpuDistributeReductionsBase<GpuDistributeReductionsPass> {
  void runOnOperation() override {
    SmallVector<Reduction> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Reduction> r = match(op))
        reductions.push_back(*r);
    });
    IRRewriter rewriter(&getContext());
    for (Reduction &r : reductions) {
      rewriter.setInsertionPoint(r.op);
      Location loc = r.op.getLoc();
      SmallVector<Value> sizes;
      for (Range range : cast<linalg::LinalgOp>(r.op.getOperation())
                             .createLoopRanges(rewriter, loc))
        sizes.push_back(
            getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
      // Short rows stay a thread per row.
      std::optional<int64_t> length = 1;
      for (unsigned d : r.reductionDims) {
        std::optional<int64_t> size = getConstantIntValue(sizes[d]);
        length = size && length ? std::optional(*length * *size) : std::nullopt;
      }
      if (!r.parallelDims.empty() && length && *length < kMinRowLength)
        continue;
      Type accType = accumulatorType(
          cast<MemRefType>(r.op.getDpsInits()[0].getType()).getElementType());
      if (r.parallelDims.empty())
        distributeFull(rewriter, r, sizes, accType);
      else
        distributeRows(rewriter, r, sizes, accType);
      rewriter.eraseOp(r.op);
    }
  }
};

} // namespace
} // namespace vitc
