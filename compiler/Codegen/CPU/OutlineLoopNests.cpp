//===- OutlineLoopNests.cpp - each loop nest a function of its own ---------===//
//
// After lowering, a model's step is one function holding every kernel's
// loop nest: thousands of loops for a training step. LLVM's function passes
// (loop strength reduction, SCEV, the vectorisers) then work on one huge
// function, and some of them grow faster than linearly with it: a
// MobileNetV2 training step did not finish compiling in ten minutes. Each
// top-level loop nest becomes a private function here, called where it
// was, marked noinline so that LLVM keeps it apart: compile time grows
// linearly with the model, and a call per kernel costs nothing at run time.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vitc {
#define GEN_PASS_DEF_OUTLINELOOPNESTS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {

/// Clones the constants a region uses from above into it, so that they
/// stay constants in the outlined function instead of becoming arguments.
void sinkConstants(RewriterBase &rewriter, Region &region) {
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(region, captured);
  rewriter.setInsertionPointToStart(&region.front());
  for (Value value : captured) {
    Operation *def = value.getDefiningOp();
    if (!def || !def->hasTrait<OpTrait::ConstantLike>())
      continue;
    Operation *clone = rewriter.clone(*def);
    replaceAllUsesInRegionWith(value, clone->getResult(0), region);
  }
}

struct OutlineLoopNestsPass
    : impl::OutlineLoopNestsBase<OutlineLoopNestsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isExternal())
        continue;
      SmallVector<Operation *> nests;
      for (Block &block : func.getBody())
        for (Operation &op : block)
          if (isa<scf::ForOp, scf::ParallelOp, scf::WhileOp>(op))
            nests.push_back(&op);
      for (auto [index, nest] : llvm::enumerate(nests))
        if (failed(outline(rewriter, symbols, func, nest, index)))
          return signalPassFailure();
    }
  }

  LogicalResult outline(IRRewriter &rewriter, SymbolTable &symbols,
                        func::FuncOp func, Operation *nest, size_t index) {
    Location loc = nest->getLoc();
    rewriter.setInsertionPoint(nest);
    auto region = scf::ExecuteRegionOp::create(rewriter, loc,
                                               nest->getResultTypes());
    Block *body = rewriter.createBlock(&region.getRegion());
    nest->replaceAllUsesWith(region.getResults());
    rewriter.moveOpBefore(nest, body, body->end());
    rewriter.setInsertionPointToEnd(body);
    scf::YieldOp::create(rewriter, loc, nest->getResults());
    sinkConstants(rewriter, region.getRegion());

    std::string name = (func.getName() + ".loops." + Twine(index)).str();
    func::CallOp call;
    FailureOr<func::FuncOp> outlined = outlineSingleBlockRegion(
        rewriter, loc, region.getRegion(), name, &call);
    if (failed(outlined))
      return nest->emitError("cannot outline this loop nest");
    outlined->setPrivate();
    // Kept apart by LLVM's inliner (compiler/Backend/CodeGen.cpp reads it).
    (*outlined)->setAttr("passthrough",
                         rewriter.getArrayAttr({rewriter.getStringAttr(
                             "noinline")}));
    // The execute_region now only calls: inline it where it stood.
    rewriter.setInsertionPoint(region);
    Block &inner = region.getRegion().front();
    auto yield = cast<scf::YieldOp>(inner.getTerminator());
    SmallVector<Value> results(yield.getOperands());
    rewriter.inlineBlockBefore(&inner, region);
    rewriter.replaceOp(region, results);
    rewriter.eraseOp(yield);
    symbols.insert(*outlined);
    return success();
  }
};

} // namespace
} // namespace vitc
