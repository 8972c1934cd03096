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
// The function left, a straight line of calls, is compiled without
// optimisation (optnone). Models repeat their blocks (ViT-B/16's twelve
// layers, ResNet's stages), so
// many nests are the same code on different buffers: identical functions
// are folded into one, which LLVM then compiles once.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vitc {
#define GEN_PASS_DEF_OUTLINELOOPNESTS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {

/// Marks the functions this pass made (for folding identical ones).
constexpr llvm::StringLiteral kOutlinedAttr = "vitc.outlined";

/// Clones the constants a region uses from above into it, so that they
/// stay constants in the outlined function instead of becoming arguments.
void sinkConstants(RewriterBase &rewriter, Region &region) {
  SetVector<Value> captured;
  getUsedValuesDefinedAbove(region, captured);
  rewriter.setInsertionPointToStart(&region.front());
  IRMapping clones;
  for (Value value : captured) {
    Operation *def = value.getDefiningOp();
    if (!def || !def->hasTrait<OpTrait::ConstantLike>())
      continue;
    clones.map(value, rewriter.clone(*def)->getResult(0));
  }
  if (clones.getValueMap().empty())
    return;
  // One walk of the region, not replaceAllUsesInRegionWith per constant:
  // that visits every use of the constant in the function, and a constant
  // such as index 0 is used by every nest of the step, which made outlining
  // quadratic in the number of nests.
  region.walk([&](Operation *op) {
    for (OpOperand &operand : op->getOpOperands())
      if (Value clone = clones.lookupOrNull(operand.get()))
        operand.set(clone);
  });
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
      // What remains is glue: a straight line of calls and buffer views,
      // thousands of instructions in one basic block, on which LLVM's
      // instruction selection and schedulers (superlinear in a block's
      // size) took most of a MobileNetV2 step's compile time. It does no
      // arithmetic worth optimising: compile it as is.
      if (!nests.empty())
        func->setAttr("passthrough",
                      rewriter.getArrayAttr({rewriter.getStringAttr("noinline"),
                                             rewriter.getStringAttr("optnone")}));
    }
    foldIdenticalFunctions(module, symbols);
  }

  /// Keeps the first of each set of outlined functions with the same type
  /// and body (printed without names or locations), redirecting calls.
  void foldIdenticalFunctions(ModuleOp module, SymbolTable &symbols) {
    llvm::StringMap<func::FuncOp> firstOf;
    DenseMap<StringAttr, func::FuncOp> replacement;
    OpPrintingFlags flags;
    flags.printGenericOpForm().useLocalScope();
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>())) {
      if (!func->hasAttr(kOutlinedAttr))
        continue;
      std::string key;
      llvm::raw_string_ostream os(key);
      os << func.getFunctionType();
      for (Operation &op : func.getBody().front())
        op.print(os, flags);
      func->removeAttr(kOutlinedAttr);
      auto [it, inserted] = firstOf.try_emplace(key, func);
      if (!inserted)
        replacement[func.getSymNameAttr()] = it->second;
    }
    if (replacement.empty())
      return;
    module.walk([&](func::CallOp call) {
      auto it = replacement.find(call.getCalleeAttr().getAttr());
      if (it != replacement.end())
        call.setCallee(it->second.getSymName());
    });
    for (auto &[name, kept] : replacement)
      symbols.erase(symbols.lookup<func::FuncOp>(name));
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
    (*outlined)->setAttr(kOutlinedAttr, rewriter.getUnitAttr());
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
