//===- Pipelines.cpp - named pass pipelines ---------------------------------===//
#include "vitc/Compiler/Pipelines.h"

#include "vitc/Compiler/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Utils.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"

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

void buildLoweringPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  pm.addPass(createConvertVtToLinalg());
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // GPU kernels cannot read host globals: on CUDA every constant goes to the
  // weights section, which the runtime uploads to the device.
  ExternalizeWeightsOptions weights;
  if (opts.target == "cuda")
    weights.minBytes = 0;
  pm.addPass(createExternalizeWeights(weights));
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

/// The CUDA toolkit whose libdevice and ptxas the device code needs: the
/// `cuda-path` option, else MLIR's search ($CUDA_ROOT, $CUDA_HOME,
/// $CUDA_PATH), else /usr/local/cuda where it holds libdevice. Without
/// libdevice, math functions stay unresolved `__nv_*` calls in the PTX.
static std::string resolveCudaPath(const PipelineOptions &opts) {
  if (!opts.cudaPath.empty())
    return opts.cudaPath;
  if (StringRef path = NVVM::getCUDAToolkitPath(); !path.empty())
    return path.str();
  if (llvm::sys::fs::exists("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc"))
    return "/usr/local/cuda";
  return "";
}

void buildCudaCodegenPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  // Host side: each elementwise or fused linalg op becomes a kernel launch.
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addNestedPass<func::FuncOp>(createLowerStridedCopies());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createCanonicalizerPass());
  GpuMapParallelLoopsOptions mapping;
  mapping.blockSize = opts.gpuBlockSize;
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoops(mapping));
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addNestedPass<func::FuncOp>(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Device side: kernels -> NVVM -> PTX (or cubin through ptxas).
  GpuNVVMAttachTargetOptions target;
  target.chip = opts.gpuArch;
  target.features = opts.gpuFeatures;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createSCFToControlFlowPass());
  kernels.addPass(memref::createExpandStridedMetadataPass());
  kernels.addPass(createLowerAffinePass());
  kernels.addPass(createConvertGpuOpsToNVVMOps());
  kernels.addPass(createCanonicalizerPass());
  kernels.addPass(createCSEPass());
  kernels.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = opts.gpuFormat;
  binary.toolkitPath = resolveCudaPath(opts);
  pm.addPass(createGpuModuleToBinaryPass(binary));
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
      "vitc-cuda-codegen",
      "bufferized memrefs -> host code launching GPU kernels (PTX/cubin)",
      buildCudaCodegenPipeline);
  PassPipelineRegistration<PipelineOptions>(
      "vitc-full", "vt -> LLVM dialect: every stage", buildFullPipeline);
}

} // namespace vitc
