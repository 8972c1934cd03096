//===- Passes.h - lowering stage: passes and pipeline ------------*- C++ -*-===//
//
// vt (after the graph stage) -> linalg on tensors -> bufferized memrefs with
// the weights externalised, the target's library calls and a memory plan.
// Target independent: the codegen target contributes its library calls
// through a hook (LibraryCalls.h). Passes.td in this folder declares the
// passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_LOWERING_PASSES_H
#define VITC_COMPILER_LOWERING_PASSES_H

#include "compiler/PipelineOptions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Lowering/Passes.h.inc"

/// The lowering stage (`vitc-lower`): vt -> linalg -> bufferized memrefs
/// with the target's library calls (opts.target) and a memory plan.
void buildLoweringPipeline(mlir::OpPassManager &pm,
                           const PipelineOptions &opts);

/// One-shot bufferization of the sharding stage's collectives
/// (shard.all_reduce -> a copy reduced in place by a runtime call).
void registerCollectiveBufferizationModels(mlir::DialectRegistry &registry);

/// Registers the stage's passes and its pipeline, vitc-lower.
void registerLoweringPipeline();

} // namespace vitc

#endif // VITC_COMPILER_LOWERING_PASSES_H
