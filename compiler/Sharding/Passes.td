//===- Passes.td - sharding stage --------------------------*- tablegen -*-===//
//
// The sharding stage turns the global training step into the step one rank
// of a data-parallel (later: fully sharded, tensor-parallel) job runs, with
// the collectives as explicit ops (the upstream `shard` dialect's). It runs
// inside the training pipeline, between vt-autodiff and vt-apply-optimizer:
//   vitc-key-random-by-sample, vitc-partition-ddp (shard=ddp)
//   vitc-key-random-by-sample, vitc-partition-fsdp (shard=fsdp)
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
      each right where it is computed, the gradients in buckets: in the
      order the backward pass computes them, consecutive gradients of one
      element type, flattened and concatenated up to `bucket-mb`, share one
      all-reduce placed right after the last of them, then are sliced back,
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
    Option<"reduceDtype", "reduce-dtype", "std::string", "\"f32\"",
           "Element type gradients are reduced in: f32 (default) or bf16 "
           "(half the traffic; cast back to f32 after)">,
    Option<"bucketMb", "bucket-mb", "double", "25.0",
           "Gradients reduced together, in megabytes (PyTorch DDP's "
           "bucket_cap_mb); 0: one collective per gradient">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PartitionFsdp : Pass<"vitc-partition-fsdp", "mlir::ModuleOp"> {
  let summary = "Fully sharded data parallelism: params, gradients and optimizer state split over ranks";
  let description = [{
    Runs on the output of vt-autodiff, before vt-apply-optimizer, on the
    one-dimensional grid of data-parallel ranks (`shard.grid @dp(shape =
    ?)`). Every `param` input of the listed functions becomes this rank's
    shard, `tensor<?xT>` with `vt.full_shape` (the whole shape): one block
    of the flattened param, world size blocks of ceil(numel / size),
    zero-padded at the end. The param is gathered where it is used
    (`shard.all_gather`, then the first numel values reshaped): right before
    its first forward use and again right before its first backward use (an
    op after the one that computes `loss`), so no gathered param lives from
    the forward into the backward pass; what the forward pass derived from
    the param alone (a transpose, a cast) is recomputed from the second
    gather (marked `vitc.regather`, so CSE keeps the two apart). A unit's
    params (a layer's: names up to the last '.') are gathered together, and
    the next unit's gathers are issued right before the current unit's
    first use (prefetch: two units in flight). A param read only through
    casts to bf16 is gathered in bf16. Each `grad_<param>` result is
    flattened, zero-padded and `shard.reduce_scatter`ed (average): the rank
    returns its block of the global gradient (in bf16 with
    `reduce-dtype=bf16`), which vt-apply-optimizer updates the param and
    optimizer-state shards with. The loss, hit count
    and updated buffers are reduced as under vitc-partition-ddp.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to partition (default: every defined function)">,
    Option<"grid", "grid", "std::string", "\"dp\"",
           "Name of the data-parallel grid">,
    Option<"reduceDtype", "reduce-dtype", "std::string", "\"f32\"",
           "Element type gradients are reduced in: f32 (default) or bf16 "
           "(half the traffic; cast back to f32 after)">,
  ];
  let dependentDialects = ["::mlir::shard::ShardDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KeyRandomBySample : Pass<"vitc-key-random-by-sample", "mlir::ModuleOp"> {
  let summary = "Dropout masks keyed by the global sample index";
  let description = [{
    Makes each `vt.random_uniform` of the listed functions draw the values
    its elements get in one process over the global batch, so that dropout
    does not depend on how many ranks split the batch. The function gets a
    new input `sample_offset` (tensor<i64>, role "sample_offset"): the
    position in the global batch of the rank's first sample. Each
    random_uniform without a `first` gets first = sample_offset x (its
    elements / the batch), the batch being dim 0 of the "data" input: every
    element belongs to one sample, samples contiguous (batch-major
    activations). In one process the offset is 0 and the masks are the
    unsharded step's. A function with no random_uniform is left as it is.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to key (default: every defined function)">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // VITC_COMPILER_SHARDING_PASSES
