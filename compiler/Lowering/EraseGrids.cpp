//===- EraseGrids.cpp - drop shard.grid declarations after bufferization --===//
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"

namespace vitc {
#define GEN_PASS_DEF_ERASEGRIDS
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

struct EraseGridsPass : impl::EraseGridsBase<EraseGridsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
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
