//===- PartitionDdp.cpp - data-parallel training step ---------------------===//
//
// DDP needs no change to the forward or backward graph: each rank computes
// on its slice of the batch, and only what leaves the step must agree
// across ranks. So the partition is a rewrite of the returned values: each
// gradient, updated buffer and metric goes through one shard.all_reduce on
// the data-parallel grid right before the return. The collectives are ops
// of the step like any other, so later stages can schedule them (start a
// gradient's reduction as soon as the backward pass has produced it).
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"
#include "compiler/Sharding/DataParallelUtils.h"

namespace vitc {
#define GEN_PASS_DEF_PARTITIONDDP
#include "compiler/Sharding/Passes.h.inc"

using namespace mlir;

namespace {

struct PartitionDdpPass : impl::PartitionDdpBase<PartitionDdpPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto funcs = selectFunctions(module, functions, "vitc-partition-ddp");
    if (failed(funcs))
      return signalPassFailure();

    if (failed(getOrCreateDataParallelGrid(module, grid,
                                           "vitc-partition-ddp")))
      return signalPassFailure();
    for (func::FuncOp f : *funcs)
      reduceResultsOverRanks(f, grid, /*gradients=*/true);
  }
};

} // namespace
} // namespace vitc
