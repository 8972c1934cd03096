//===- TrainingModule.cpp - the two forward graphs of a training step -----===//
//
// An ONNX graph means different things in training and in evaluation
// (Dropout, BatchNormalization), so the driver imports it twice; both
// imports name weights by their initializers, which is how
// vt-promote-params gives the two functions one parameter list.
//
//===----------------------------------------------------------------------===//
#include "compiler/Training/TrainingModule.h"

#include "compiler/Training/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

using namespace mlir;

namespace vitc {

static func::FuncOp lookupMain(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.isExternal())
    module.emitError("the model has no func.func @main to train");
  return main;
}

LogicalResult makeTrainingModule(ModuleOp trainModule, ModuleOp evalModule) {
  func::FuncOp train = lookupMain(trainModule);
  if (!train)
    return failure();
  for (StringRef name : {kTrainStep, kEvalStep})
    if (trainModule.lookupSymbol(name))
      return trainModule.emitError("the module already has a symbol @")
             << name << "; --mode train builds @" << kTrainStep << " and @"
             << kEvalStep << " from @main";
  func::FuncOp eval;
  if (evalModule) {
    eval = lookupMain(evalModule);
    if (!eval)
      return failure();
    eval->remove();
  } else {
    eval = train.clone();
  }
  train.setSymName(kTrainStep);
  eval.setSymName(kEvalStep);
  trainModule.push_back(eval);
  return success();
}

} // namespace vitc
