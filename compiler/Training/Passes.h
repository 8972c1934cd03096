//===- Passes.h - training stage: passes and pipeline ------------*- C++ -*-===//
//
// vt -> vt: forward graphs become a whole training step (parameters, loss,
// backward graph, optimizer update) and an evaluation step. Passes.td in
// this folder declares the passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_TRAINING_PASSES_H
#define VITC_COMPILER_TRAINING_PASSES_H

#include "compiler/Sharding/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Training/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Training/Passes.h.inc"

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
  Option<ShardStrategy> shard{
      *this, "shard", llvm::cl::desc("How the step is split across ranks"),
      llvm::cl::init(ShardStrategy::None),
      llvm::cl::values(
          clEnumValN(ShardStrategy::None, "none", "one process"),
          clEnumValN(ShardStrategy::Ddp, "ddp",
                     "data parallel: gradients averaged over ranks "
                     "(vitc-partition-ddp)"),
          clEnumValN(ShardStrategy::Fsdp, "fsdp",
                     "fully sharded data parallel: params, gradients and "
                     "optimizer state split over ranks "
                     "(vitc-partition-fsdp)"))};
  Option<std::string> reduceDtype{
      *this, "reduce-dtype",
      llvm::cl::desc("Element type gradients are reduced in across ranks: "
                     "f32 (default) or bf16"),
      llvm::cl::init("f32")};
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

/// Registers the stage's passes and its pipeline, vitc-training.
void registerTrainingPipeline();

} // namespace vitc

#endif // VITC_COMPILER_TRAINING_PASSES_H
