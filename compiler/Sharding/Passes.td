//===- Passes.td - sharding stage --------------------------*- tablegen -*-===//
//
// The sharding stage turns the global training step into the step one rank
// of a data-parallel (later: fully sharded, tensor-parallel) job runs, with
// the collectives as explicit ops (the upstream `shard` dialect's). It runs
// inside the training pipeline, between vt-autodiff and vt-apply-optimizer:
//   vitc-partition-ddp (shard=ddp)
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_SHARDING_PASSES
#define VITC_COMPILER_SHARDING_PASSES

include "mlir/Pass/PassBase.td"

def PartitionDdp : Pass<"vitc-partition-ddp", "mlir::ModuleOp"> {
  let summary = "Data parallelism: average gradients, losses and buffers over ranks";
  let description = [{
    Runs on the output of vt-autodiff, before vt-apply-optimizer. Declares
    a one-dimensional grid of data-parallel ranks, `shard.grid @dp(shape =
    ?)`, whose size the runtime knows (the MPI or NCCL world), and makes the
    listed functions' results global with `shard.all_reduce` on it:
    - every gradient (`grad_<param>`) and every updated float buffer (a
      result with `vt.updates`, e.g. BatchNorm's running statistics) is
      averaged (an integer one, a counter equal on all ranks, takes the max),
      as PyTorch's DDP averages gradients: the clipping norm and the
      optimizer that vt-apply-optimizer appends then compute the same
      values on every rank, and the replicated parameters stay identical;
    - `loss` is averaged and `correct` summed, so a rank reports the global
      batch (each rank holds an equal slice of it).
    Other results are left as they are. Parameters and optimizer state stay
    replicated: DDP shards only the data.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to partition (default: every defined function)">,
    Option<"grid", "grid", "std::string", "\"dp\"",
           "Name of the data-parallel grid">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect"];
}

#endif // VITC_COMPILER_SHARDING_PASSES
