//===- DataParallelUtils.h - what DDP and FSDP partitions share --*- C++ -*-===//
//
// Both data-parallel partitions run on a one-dimensional grid of the job's
// ranks and make the step's metrics and buffers global the same way; they
// differ in how params and gradients are held.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_SHARDING_DATAPARALLELUTILS_H
#define VITC_COMPILER_SHARDING_DATAPARALLELUTILS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace vitc {

/// Declares `shard.grid @<name>(shape = ?)` (the world's size is known when
/// the job starts) unless the module has it; an error, naming `pass`, when
/// the symbol is something else.
mlir::LogicalResult getOrCreateDataParallelGrid(mlir::ModuleOp module,
                                                llvm::StringRef name,
                                                llvm::StringRef pass);

/// Reduces over the grid, right after it is computed, each result of `f`
/// that must agree across ranks, except gradients when `gradients` is false:
/// gradients (`grad_<param>`), updated float buffers and the loss are
/// averaged, the hit count (`correct`) summed, an updated integer buffer
/// (a counter equal on every rank) takes the max.
void reduceResultsOverRanks(mlir::func::FuncOp f, llvm::StringRef grid,
                            bool gradients);

/// Reduces the float tensor `x` over the grid (`kind`) in `dtype` ("f32",
/// or "bf16": cast there and back, half the traffic); an error for another
/// name.
mlir::FailureOr<mlir::Value> reduceIn(mlir::OpBuilder &b, mlir::Location loc,
                                      mlir::Value x, llvm::StringRef dtype,
                                      llvm::function_ref<mlir::Value(mlir::Value)> reduce);

/// `x` (static shape) as a tensor<numel x T>, and back: collectives run on
/// flat buffers.
mlir::Value flatten(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);
mlir::Value unflatten(mlir::OpBuilder &b, mlir::Location loc, mlir::Value flat,
                      mlir::RankedTensorType type);

} // namespace vitc

#endif // VITC_COMPILER_SHARDING_DATAPARALLELUTILS_H
