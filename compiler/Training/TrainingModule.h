//===- TrainingModule.h - the two forward graphs of a training step -*- C++ -*-===//
#ifndef VITC_COMPILER_TRAINING_TRAININGMODULE_H
#define VITC_COMPILER_TRAINING_TRAININGMODULE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace vitc {

/// Turns an imported or parsed module whose @main is the forward graph in
/// training mode (dropout active, batch statistics) into one holding
/// @train_step (that graph) and @eval_step (`evalModule`'s @main, the
/// forward graph in inference mode), the input of the vitc-training
/// pipeline. `evalModule` may be null: @eval_step is then a copy of @main
/// (a graph without dropout or batch-norm is the same in both modes).
/// Emits an error and fails if a module has no @main.
mlir::LogicalResult makeTrainingModule(mlir::ModuleOp trainModule,
                                       mlir::ModuleOp evalModule);

} // namespace vitc

#endif // VITC_COMPILER_TRAINING_TRAININGMODULE_H
