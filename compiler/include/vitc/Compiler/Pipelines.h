//===- Pipelines.h - named pass pipelines -------------------------*- C++ -*-===//
#ifndef VITC_COMPILER_PIPELINES_H
#define VITC_COMPILER_PIPELINES_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace vitc {

struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cpu or cuda"),
                             llvm::cl::init("cpu")};
  // CUDA code generation.
  Option<std::string> gpuArch{*this, "gpu-arch",
                              llvm::cl::desc("CUDA SM architecture (sm_80, "
                                             "sm_90, ...)"),
                              llvm::cl::init("sm_90")};
  Option<std::string> gpuFeatures{
      *this, "gpu-features",
      llvm::cl::desc("NVPTX features; the PTX version must support gpu-arch "
                     "(sm_90 needs +ptx78 or later)"),
      llvm::cl::init("+ptx80")};
  Option<std::string> gpuFormat{
      *this, "gpu-format",
      llvm::cl::desc("Kernel code format: isa (PTX text), bin (cubin, runs "
                     "ptxas), fatbin"),
      llvm::cl::init("isa")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit (libdevice; ptxas for bin, fatbin); "
                     "default: $CUDA_ROOT, $CUDA_HOME, $CUDA_PATH, else "
                     "/usr/local/cuda"),
      llvm::cl::init("")};
  Option<int64_t> gpuBlockSize{*this, "gpu-block-size",
                               llvm::cl::desc("Threads per block of the "
                                              "elementwise kernels"),
                               llvm::cl::init(256)};
};

/// Graph stage: shape inference, canonicalisation, decomposition, fusion.
void buildGraphPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// vt (after the graph stage) -> linalg -> bufferized memrefs with library
/// calls and a memory plan.
void buildLoweringPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// Bufferized memrefs -> LLVM dialect (CPU code and host code).
void buildCpuCodegenPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);
/// Bufferized memrefs -> host functions launching outlined GPU kernels
/// (gpu.launch_func) whose code is in gpu.binary ops (PTX or cubin). Library
/// calls, allocations and copies stay host operations on memrefs.
void buildCudaCodegenPipeline(mlir::OpPassManager &pm,
                              const PipelineOptions &opts);
/// All of the above (CPU codegen).
void buildFullPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);

/// vt plus every upstream dialect the pipelines produce.
void registerAllDialects(mlir::DialectRegistry &registry);
/// vitc's passes, the named pipelines, and the upstream passes lit uses.
void registerAllPasses();

} // namespace vitc

#endif // VITC_COMPILER_PIPELINES_H
