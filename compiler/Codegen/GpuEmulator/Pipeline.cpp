//===- Pipeline.cpp - emulated-GPU code generation ------------------------===//
#include "compiler/Codegen/GpuEmulator/Passes.h"

#include "compiler/Codegen/CPU/Passes.h"
#include "compiler/Codegen/CUDA/Passes.h"

using namespace mlir;

namespace vitc {

void buildGpuEmulatorCodegenPipeline(OpPassManager &pm,
                                     const PipelineOptions &opts) {
  // The same kernels and schedule as on a GPU...
  addCudaHostPasses(pm, opts);
  pm.nest<gpu::GPUModuleOp>().addPass(createGpuLowerReductions());
  // ...with the kernels compiled for this CPU.
  pm.addPass(createGpuKernelsToHost());
  addCpuLoopsToLLVMPasses(pm);
}

void registerGpuEmulatorCodegen() {
  registerCodegenGpuEmulatorPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-cuda-emulator-codegen",
      "bufferized memrefs -> GPU schedules launching kernels compiled for the "
      "host (the emulated GPU, a test device)",
      buildGpuEmulatorCodegenPipeline);
}

} // namespace vitc
