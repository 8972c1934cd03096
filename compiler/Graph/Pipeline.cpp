//===- Pipeline.cpp - the graph stage's pipeline, vitc-graph --------------===//
#include "compiler/Graph/Passes.h"

#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace vitc {

void addShapesAndDecomposition(OpPassManager &pm) {
  pm.addPass(createVtInferShapes());
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createVtDecompose());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void buildGraphPipeline(OpPassManager &pm, const PipelineOptions &opts) {
  // An inference @main evaluates stochastic-depth masks deterministically
  // (a training module has no @main; its eval_step gets the same in the
  // training stage).
  VtRandomExpectationOptions expectation;
  expectation.functions = {"main"};
  pm.addPass(createVtRandomExpectation(expectation));
  if (opts.precision == "bf16")
    pm.addNestedPass<func::FuncOp>(createVtAutocastBf16());
  addShapesAndDecomposition(pm);
  pm.addNestedPass<func::FuncOp>(createVtFuse());
}

void registerGraphPipeline() {
  registerGraphPasses();
  PassPipelineRegistration<PipelineOptions>(
      "vitc-graph", "vt graph stage: shapes, decomposition, fusion",
      buildGraphPipeline);
}

} // namespace vitc
