//===- Passes.h - sharding stage: passes --------------------------*- C++ -*-===//
//
// The global training step -> the step of one rank, with explicit
// collectives (shard dialect). Used by the training pipeline (`shard=`).
// Passes.td in this folder declares the passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_SHARDING_PASSES_H
#define VITC_COMPILER_SHARDING_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Sharding/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Sharding/Passes.h.inc"

/// How a training step is split across ranks.
enum class ShardStrategy {
  None, ///< one process
  Ddp,  ///< data parallel: replicated params, gradients averaged
  Fsdp, ///< fully sharded: params, gradients, optimizer state split
};

/// Adds the passes of `strategy` that partition `functions` (the training
/// pipeline runs them between autodiff and the optimizer); None adds none.
void addShardingPasses(mlir::OpPassManager &pm, ShardStrategy strategy,
                       const std::vector<std::string> &functions,
                       const std::string &reduceDtype = "f32");

} // namespace vitc

#endif // VITC_COMPILER_SHARDING_PASSES_H
