//===- Pipeline.cpp - CPU code generation, vitc-cpu-codegen ---------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "compiler/Codegen/Common/Passes.h"
#include "compiler/Lowering/LibraryCalls.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
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
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // bf16 (mixed precision) computes in f32 and converts with integer code:
  // no CPU-specific instructions, no libcalls.
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  pm.addPass(createExpandBf16());
  pm.addPass(createApproximateMath());
  // Integer powers (math.ipowi) have no LLVM intrinsic: emit them as functions.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
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
  pm.addPass(createCanonicalizerPass(config));
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
