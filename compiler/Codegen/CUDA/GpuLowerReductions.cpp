//===- GpuLowerReductions.cpp - warp and block reductions -> shuffles ------===//
//
// The reductions of vitc-gpu-distribute-reductions, spelled out the way the
// hardware does them: gpu.subgroup_reduce becomes a butterfly of 32-bit
// gpu.shuffle xor; gpu.all_reduce becomes a subgroup reduction per warp,
// the warps' results through a workgroup buffer between two gpu.barrier,
// and a last subgroup reduction; 64-bit shuffles become two 32-bit ones.
// Run on the outlined kernels before NVVM lowering, and before the
// emulator compiles them for the host, so both run the same algorithm.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/Passes.h"

#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_GPULOWERREDUCTIONS
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

struct GpuLowerReductionsPass
    : impl::GpuLowerReductionsBase<GpuLowerReductionsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateGpuAllReducePatterns(patterns);
    populateGpuLowerSubgroupReduceToShufflePatterns(
        patterns, /*subgroupSize=*/32, /*shuffleBitwidth=*/32);
    populateGpuShufflePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult left = getOperation().walk([](Operation *op) {
      if (isa<gpu::AllReduceOp, gpu::SubgroupReduceOp>(op)) {
        op->emitError("reduction left after vitc-gpu-lower-reductions");
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace vitc
