//===- Pipeline.cpp - CUDA code generation, vitc-cuda-codegen -------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "compiler/Codegen/CPU/Passes.h"
#include "compiler/Codegen/CUDA/GpuSchedule.h"
#include "compiler/Codegen/Common/Passes.h"
#include "compiler/Lowering/LibraryCalls.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Target/LLVM/NVVM/Utils.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"

using namespace mlir;

namespace vitc {

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

void addCudaHostPasses(OpPassManager &pm, const PipelineOptions &opts) {
  // Each elementwise or fused linalg op becomes a kernel launch.
  addCommonCodegenPasses(pm);
  pm.addNestedPass<func::FuncOp>(createGpuDistributeReductions());
  pm.addNestedPass<func::FuncOp>(createGpuWrapSerialOps());
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
  pm.addPass(createGpuBuildSchedule());
}

void buildCudaCodegenPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  addCudaHostPasses(pm, opts);
  // Device side: kernels -> NVVM -> PTX (or cubin through ptxas).
  // One target per architecture (gpu-arch=sm_80,sm_90): gpu-module-to-binary
  // then makes one object per target, each a section of the artifact.
  for (StringRef arch : llvm::split(StringRef(opts.gpuArch), ',')) {
    GpuNVVMAttachTargetOptions target;
    target.chip = arch.trim().str();
    target.features = opts.gpuFeatures;
    target.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(target));
  }
  OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
  kernels.addPass(createGpuLowerReductions());
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

void addCudaLibraryCallPasses(OpPassManager &pm, const PipelineOptions &) {
  // Matmuls and convolutions become library calls (cuBLASLt and cuDNN on a
  // GPU); the same matching as the CPU's, with the GPU's names, in the forms
  // cuDNN takes. Pools stay generated kernels.
  LinalgToLibraryOptions options;
  options.kernelPrefix = kGpuLibraryPrefix;
  options.pools = false;
  options.cudnnConventions = true;
  pm.addPass(createLinalgToLibrary(options));
}

void registerCudaTarget() {
  registerLibraryCallsHook("cuda", addCudaLibraryCallPasses);
}

void registerCudaCodegen() {
  registerCodegenCUDAPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-cuda-codegen",
      "bufferized memrefs -> GPU schedules launching kernels (PTX/cubin)",
      buildCudaCodegenPipeline);
}

} // namespace vitc
