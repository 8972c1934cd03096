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
  Option<int64_t> gpuBlockSize{*this, "gpu-block-size",
                               llvm::cl::desc("Threads per block of the "
                                              "elementwise kernels"),
                               llvm::cl::init(256)};
};

/// How `--mode train` turns forward graphs into a training step.
struct TrainingOptions : public mlir::PassPipelineOptions<TrainingOptions> {
  Option<std::string> loss{*this, "loss",
                           llvm::cl::desc("cross_entropy or mse"),
                           llvm::cl::init("cross_entropy")};
  Option<double> labelSmoothing{*this, "label-smoothing",
                                llvm::cl::desc("Label smoothing of "
                                               "cross_entropy"),
                                llvm::cl::init(0.0)};
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("adamw or sgd"),
                                llvm::cl::init("adamw")};
  Option<double> weightDecay{*this, "weight-decay",
                             llvm::cl::desc("Weight decay"),
                             llvm::cl::init(0.01)};
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"),
                          llvm::cl::init(0.0)};
  Option<bool> nesterov{*this, "nesterov", llvm::cl::desc("SGD Nesterov"),
                        llvm::cl::init(false)};
  Option<double> beta1{*this, "beta1", llvm::cl::desc("AdamW beta1"),
                       llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::desc("AdamW beta2"),
                       llvm::cl::init(0.999)};
  Option<double> epsilon{*this, "epsilon", llvm::cl::desc("AdamW epsilon"),
                         llvm::cl::init(1e-8)};
  Option<double> clipNorm{*this, "clip-norm",
                          llvm::cl::desc("Gradient clipping by global norm "
                                         "(0: off)"),
                          llvm::cl::init(0.0)};
  ListOption<std::string> freeze{*this, "freeze",
                                 llvm::cl::desc("Regexes of weights to keep "
                                                "fixed")};
  Option<std::string> precision{*this, "precision",
                                llvm::cl::desc("fp32 or bf16 (autocast "
                                               "before differentiation)"),
                                llvm::cl::init("fp32")};
};

/// Names of the training functions (the driver imports the model twice:
/// in training mode as @train_step and in inference mode as @eval_step).
inline constexpr const char *kTrainStep = "train_step";
inline constexpr const char *kEvalStep = "eval_step";

/// @train_step, @eval_step (forward graphs) -> the training step (params,
/// loss, backward, optimizer) and the evaluation step (params, loss, hits),
/// still in vt, ready for the graph stage.
void buildTrainingPipeline(mlir::OpPassManager &pm, const TrainingOptions &opts);

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
