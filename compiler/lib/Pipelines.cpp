//===- Pipelines.cpp - named pass pipelines ---------------------------------===//
#include "vitc/Compiler/Pipelines.h"

#include "vitc/Compiler/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace vitc {

void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &) {
  pm.addPass(createVtInferShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createVtDecompose());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createVtFuse());
}

void buildLoweringPipeline(OpPassManager &pm, const PipelineOptions &) {
  pm.addPass(createConvertVtToLinalg());
  pm.addNestedPass<func::FuncOp>(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  pm.addPass(createExternalizeWeights());
  pm.addPass(createLinalgToLibrary());
  pm.addNestedPass<func::FuncOp>(createPlanMemory());
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}

void buildCpuCodegenPipeline(OpPassManager &pm, const PipelineOptions &) {
  // Clones the deallocation pipeline inserted (results aliasing arguments or
  // weights) become alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopies());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  // Integer powers (math.ipowi) have no LLVM intrinsic: emit them as functions.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void buildFullPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  buildGraphPipeline(pm, opts);
  buildLoweringPipeline(pm, opts);
  buildCpuCodegenPipeline(pm, opts);
}

void registerAllDialects(DialectRegistry &registry) {
  registry.insert<vt::VtDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void registerAllPasses() {
  mlir::registerAllPasses();
  vitc::registerVitcPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-graph", "vt graph stage: shapes, decomposition, fusion",
      buildGraphPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "vitc-lower", "vt -> linalg -> bufferized memrefs with a memory plan",
      buildLoweringPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "vitc-cpu-codegen", "bufferized memrefs -> LLVM dialect",
      buildCpuCodegenPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "vitc-full", "vt -> LLVM dialect: every stage", buildFullPipeline);
}

} // namespace vitc
