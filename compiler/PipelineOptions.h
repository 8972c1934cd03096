//===- PipelineOptions.h - options of the named pipelines --------*- C++ -*-===//
//
// One set of options for every stage's pipeline (vitc-graph, vitc-lower,
// vitc-cpu-codegen, vitc-cuda-codegen, vitc-full), so a driver configures
// the whole compiler once and vitc-opt accepts the same spelling for each.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_PIPELINEOPTIONS_H
#define VITC_COMPILER_PIPELINEOPTIONS_H

#include "mlir/Pass/PassOptions.h"

namespace vitc {

struct PipelineOptions : public mlir::PassPipelineOptions<PipelineOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cpu or cuda"),
                             llvm::cl::init("cpu")};
  Option<std::string> precision{
      *this, "precision",
      llvm::cl::desc("fp32, or bf16: matmuls and convolutions in bf16 with "
                     "f32 accumulation (vt-autocast-bf16), the rest in f32"),
      llvm::cl::init("fp32")};
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
  Option<bool> gpuEmulator{
      *this, "gpu-emulator",
      llvm::cl::desc("With target=cuda: compile the kernels for the host "
                     "CPU, for the runtime's emulated GPU (a test device)"),
      llvm::cl::init(false)};
  Option<int64_t> gpuBlockSize{*this, "gpu-block-size",
                               llvm::cl::desc("Threads per block of the "
                                              "elementwise kernels"),
                               llvm::cl::init(256)};
};

} // namespace vitc

#endif // VITC_COMPILER_PIPELINEOPTIONS_H
