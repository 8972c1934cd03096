//===- Pipelines.cpp - named pass pipelines ---------------------------------===//
#include "vitc/Compiler/Pipelines.h"

#include "vitc/Compiler/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
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

/// Shapes refined, exporter shape arithmetic folded, composite ops
/// decomposed into the core that fusion and autodiff understand.
static void addShapesAndDecomposition(OpPassManager &pm) {
  pm.addPass(createVtInferShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createVtDecompose());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  if (opts.precision == "bf16")
    pm.addNestedPass<func::FuncOp>(createVtAutocastBf16());
  addShapesAndDecomposition(pm);
  pm.addNestedPass<func::FuncOp>(createVtFuse());
}

void buildTrainingPipeline(OpPassManager &pm, const TrainingOptions &opts) {
  // Weights become arguments first: canonicalisation folds small constants,
  // and a folded weight would silently stop being trainable.
  VtPromoteParamsOptions params;
  params.functions = {kTrainStep, kEvalStep};
  params.freeze.assign(opts.freeze.begin(), opts.freeze.end());
  pm.addPass(createVtPromoteParams(params));
  VtAppendLossOptions loss;
  loss.functions = {kTrainStep, kEvalStep};
  loss.loss = opts.loss;
  loss.labelSmoothing = opts.labelSmoothing;
  pm.addPass(createVtAppendLoss(loss));
  // Autocast before autodiff: the backward products inherit bf16 through
  // the gradient rules, the master weights stay f32 arguments.
  if (opts.precision == "bf16")
    pm.addNestedPass<func::FuncOp>(createVtAutocastBf16());
  // Composite ops (layer_norm, batch_norm) differentiate once decomposed.
  addShapesAndDecomposition(pm);
  VtAutodiffOptions autodiff;
  autodiff.function = kTrainStep;
  autodiff.wrtRole = "param";
  autodiff.replace = true;
  pm.addPass(createVtAutodiff(autodiff));
  VtApplyOptimizerOptions optimizer;
  optimizer.function = kTrainStep;
  optimizer.optimizer = opts.optimizer;
  optimizer.weightDecay = opts.weightDecay;
  optimizer.momentum = opts.momentum;
  optimizer.nesterov = opts.nesterov;
  optimizer.beta1 = opts.beta1;
  optimizer.beta2 = opts.beta2;
  optimizer.epsilon = opts.epsilon;
  optimizer.clipNorm = opts.clipNorm;
  pm.addPass(createVtApplyOptimizer(optimizer));
}

void buildLoweringPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  ConvertVtToLinalgOptions toLinalg;
  toLinalg.target = opts.target;
  pm.addPass(createConvertVtToLinalg(toLinalg));
  pm.addNestedPass<func::FuncOp>(createFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createCloneFillInits());
  pm.addNestedPass<func::FuncOp>(createSinkTransposes());
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
  pm.addNestedPass<func::FuncOp>(createReassociateReductions());
  pm.addNestedPass<func::FuncOp>(createReductionsToLoops());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
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
  PassPipelineRegistration<TrainingOptions>(
      "vitc-training", "@train_step/@eval_step forward graphs -> training "
      "and evaluation steps (params, loss, backward, optimizer) in vt",
      buildTrainingPipeline);
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
