//===- Pipeline.cpp - the training stage's pipeline, vitc-training --------===//
#include "compiler/Training/Passes.h"

#include "compiler/Graph/Passes.h"
#include "compiler/Sharding/Passes.h"

using namespace mlir;

namespace vitc {

void buildTrainingPipeline(OpPassManager &pm, const TrainingOptions &opts) {
  // Evaluation keeps every sample that stochastic depth drops in training.
  VtRandomExpectationOptions expectation;
  expectation.functions = {kEvalStep};
  pm.addPass(createVtRandomExpectation(expectation));
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
  // Across ranks, the gradients are reduced before the optimizer sees them.
  addShardingPasses(pm, opts.shard, {kTrainStep, kEvalStep},
                    opts.reduceDtype);
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

void registerTrainingPipeline() {
  registerTrainingPasses();
  PassPipelineRegistration<TrainingOptions>(
      "vitc-training", "@train_step/@eval_step forward graphs -> training "
      "and evaluation steps (params, loss, backward, optimizer) in vt",
      buildTrainingPipeline);
}

} // namespace vitc
