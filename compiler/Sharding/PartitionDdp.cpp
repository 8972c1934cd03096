//===- PartitionDdp.cpp - data-parallel training step ---------------------===//
//
// DDP needs no change to the forward or backward graph: each rank computes
// on its slice of the batch, and only what leaves the step must agree
// across ranks. So the partition is a rewrite of the returned values: each
// gradient, updated buffer and metric goes through one shard.all_reduce on
// the data-parallel grid right before the return. The collectives are ops
// of the step like any other, so later stages can schedule them (start a
// gradient's reduction as soon as the backward pass has produced it).
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>

namespace vitc {
#define GEN_PASS_DEF_PARTITIONDDP
#include "compiler/Sharding/Passes.h.inc"

using namespace mlir;

namespace {

/// How result `i` of `f` becomes global: averaged (gradients, updated
/// buffers, the loss), summed (the hit count), or left alone. An integer
/// buffer (a step counter such as num_batches_tracked) is the same on every
/// rank: its max keeps it.
std::optional<shard::ReductionKind> reductionOf(func::FuncOp f, unsigned i) {
  auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
  if (f.getResultAttr(i, "vt.updates"))
    return isa<FloatType>(getElementTypeOrSelf(f.getResultTypes()[i]))
               ? shard::ReductionKind::Average
               : shard::ReductionKind::Max;
  if (!name)
    return std::nullopt;
  if (name.getValue() == "correct")
    return shard::ReductionKind::Sum;
  if (name.getValue() == "loss" || name.getValue().starts_with("grad_"))
    return shard::ReductionKind::Average;
  return std::nullopt;
}

struct PartitionDdpPass : impl::PartitionDdpBase<PartitionDdpPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto funcs = selectFunctions(module, functions, "vitc-partition-ddp");
    if (failed(funcs))
      return signalPassFailure();

    if (Operation *existing = SymbolTable::lookupSymbolIn(module, grid)) {
      auto dp = dyn_cast<shard::GridOp>(existing);
      if (!dp || dp.getRank() != 1) {
        existing->emitError("vitc-partition-ddp: @")
            << grid.getValue() << " must be a one-dimensional shard.grid";
        return signalPassFailure();
      }
    } else {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      // The size is the world's, known when the job starts.
      shard::GridOp::create(b, module.getLoc(), grid.getValue(),
                            ArrayRef<int64_t>{ShapedType::kDynamic});
    }

    for (func::FuncOp f : *funcs) {
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      OpBuilder b(ret);
      for (unsigned i = 0, e = ret.getNumOperands(); i < e; ++i) {
        std::optional<shard::ReductionKind> kind = reductionOf(f, i);
        if (!kind)
          continue;
        Value value = ret.getOperand(i);
        auto reduced = shard::AllReduceOp::create(
            b, value.getLoc(), value, grid.getValue(),
            ArrayRef<shard::GridAxis>{0}, *kind);
        ret.setOperand(i, reduced.getResult());
      }
    }
  }
};

} // namespace
} // namespace vitc
