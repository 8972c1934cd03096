//===- EraseGrids.cpp - drop shard.grid declarations after bufferization --===//
#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/RuntimeCollectives.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"

namespace vitc {
#define GEN_PASS_DEF_ERASEGRIDS
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

/// `shard.grid_shape` of a one-dimensional grid: the runtime's
/// vitc_coll_world_size(). Fails on other grids.
LogicalResult lowerGridShapes(ModuleOp module) {
  SmallVector<shard::GridShapeOp> shapes;
  module.walk([&](shard::GridShapeOp op) { shapes.push_back(op); });
  if (shapes.empty())
    return success();
  func::FuncOp fn = declareWorldSize(module);
  for (shard::GridShapeOp op : shapes) {
    auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
        op, op.getGridAttr());
    if (!grid || grid.getRank() != 1 || op->getNumResults() != 1)
      return op.emitOpError("has no runtime lowering: only the size of a "
                            "one-dimensional grid (the job's world) does");
    OpBuilder b(op);
    Value size = func::CallOp::create(b, op.getLoc(), fn, ValueRange{})
                     .getResult(0);
    op->getResult(0).replaceAllUsesWith(arith::IndexCastOp::create(
        b, op.getLoc(), b.getIndexType(), size));
    op.erase();
  }
  return success();
}

struct EraseGridsPass : impl::EraseGridsBase<EraseGridsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(lowerGridShapes(module)))
      return signalPassFailure();
    for (auto grid :
         llvm::make_early_inc_range(module.getOps<shard::GridOp>())) {
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(grid, module);
      if (uses && !uses->empty()) {
        uses->begin()->getUser()->emitOpError("still uses grid @")
            << grid.getSymName()
            << " after bufferization: it has no runtime lowering";
        return signalPassFailure();
      }
      grid.erase();
    }
  }
};

} // namespace
} // namespace vitc
