//===- Pipeline.cpp - CPU code generation, vitc-cpu-codegen ---------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "compiler/Codegen/Common/Passes.h"
#include "compiler/Lowering/LibraryCalls.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace vitc {

void addCpuLibraryCallPasses(OpPassManager &pm, const PipelineOptions &) {
  pm.addPass(createLinalgToLibrary());
  pm.addPass(createReorderHints());
}

void buildCpuCodegenPipeline(OpPassManager &pm, const PipelineOptions &) {
  addCommonCodegenPasses(pm);
  pm.addNestedPass<func::FuncOp>(createReassociateReductions());
  pm.addNestedPass<func::FuncOp>(createReductionsToLoops());
  // Parallel iterators become scf.parallel, reductions scf.for.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createOutlineLoopNests());
  // Large kernels take a range of their parallel loop; their calls go
  // through the runtime's vitc_parallel_for (on the OpenMP pool).
  pm.addPass(createParallelKernels());
  addCpuLoopsToLLVMPasses(pm);
  pm.addPass(createLowerParallelCalls());
}

void addCpuLoopsToLLVMPasses(OpPassManager &pm) {
  // The function-local steps run nested on each function, so the pass
  // manager spreads the thousands of outlined kernels over every core; as
  // module passes they ran on one (about 5 s of EfficientNet-B0's training
  // step on 2 cores). What adds declarations to the module (math functions,
  // libm, malloc) or changes signatures (func -> llvm) stays at the top.
  OpPassManager &loops = pm.nest<func::FuncOp>();
  loops.addPass(createLowerAffinePass());
  loops.addPass(createCanonicalizerPass());
  loops.addPass(memref::createExpandStridedMetadataPass());
  loops.addPass(createLowerAffinePass());
  loops.addPass(createSCFToControlFlowPass());
  // bf16 (mixed precision) computes in f32 and converts with integer code:
  // no CPU-specific instructions, no libcalls.
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  loops.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  loops.addPass(createExpandBf16());
  loops.addPass(createApproximateMath());
  // Integer powers (math.ipowi) have no LLVM intrinsic: emit them as functions.
  pm.addPass(createConvertMathToFuncs());
  pm.addNestedPass<func::FuncOp>(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addNestedPass<func::FuncOp>(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Folds and dead code only: merging and pruning blocks walks every region
  // of the module at each iteration (thousands of outlined kernels, the
  // largest MLIR pass of a training step), and LLVM's own simplifycfg does
  // it again where it matters, at O3 in the kernels.
  GreedyRewriteConfig config;
  config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
  pm.addNestedPass<LLVM::LLVMFuncOp>(createCanonicalizerPass(config));
}

void registerCpuTarget() {
  registerLibraryCallsHook("cpu", addCpuLibraryCallPasses);
}

void registerCpuCodegen() {
  registerCodegenCPUPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-cpu-codegen", "bufferized memrefs -> LLVM dialect",
      buildCpuCodegenPipeline);
}

} // namespace vitc
