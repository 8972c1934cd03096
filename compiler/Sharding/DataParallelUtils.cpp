//===- DataParallelUtils.cpp - what DDP and FSDP partitions share ---------===//
#include "compiler/Sharding/DataParallelUtils.h"

#include "mlir/IR/SymbolTable.h"

#include <optional>

namespace vitc {

using namespace mlir;

LogicalResult getOrCreateDataParallelGrid(ModuleOp module, StringRef name,
                                          StringRef pass) {
  if (Operation *existing = SymbolTable::lookupSymbolIn(module, name)) {
    auto dp = dyn_cast<shard::GridOp>(existing);
    if (!dp || dp.getRank() != 1)
      return existing->emitError(pass)
             << ": @" << name << " must be a one-dimensional shard.grid";
    return success();
  }
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  shard::GridOp::create(b, module.getLoc(), name,
                        ArrayRef<int64_t>{ShapedType::kDynamic});
  return success();
}

/// How result `i` of `f` becomes global, or nullopt to leave it.
static std::optional<shard::ReductionKind> reductionOf(func::FuncOp f,
                                                       unsigned i,
                                                       bool gradients) {
  auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
  if (f.getResultAttr(i, "vt.updates"))
    return isa<FloatType>(getElementTypeOrSelf(f.getResultTypes()[i]))
               ? shard::ReductionKind::Average
               : shard::ReductionKind::Max;
  if (!name)
    return std::nullopt;
  if (name.getValue() == "correct")
    return shard::ReductionKind::Sum;
  if (name.getValue() == "loss" ||
      (gradients && name.getValue().starts_with("grad_")))
    return shard::ReductionKind::Average;
  return std::nullopt;
}

void reduceResultsOverRanks(func::FuncOp f, StringRef grid, bool gradients) {
  auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
  OpBuilder b(ret);
  for (unsigned i = 0, e = ret.getNumOperands(); i < e; ++i) {
    std::optional<shard::ReductionKind> kind = reductionOf(f, i, gradients);
    if (!kind)
      continue;
    Value value = ret.getOperand(i);
    // Right where the value is computed: a gradient's reduction then runs
    // while the rest of the backward pass computes.
    b.setInsertionPointAfterValue(value);
    auto reduced = shard::AllReduceOp::create(
        b, value.getLoc(), value, grid, ArrayRef<shard::GridAxis>{0}, *kind);
    ret.setOperand(i, reduced.getResult());
  }
}

} // namespace vitc
