//===- ExpandBf16.cpp - bf16 conversions as integer code ------------------===//
//
// Upstream's bf16 expansion patterns (those of arith-expand with
// include-bf16) without its other rewrites, applied greedily.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_EXPANDBF16
#include "compiler/Codegen/CPU/Passes.h.inc"

namespace {

struct ExpandBf16Pass : impl::ExpandBf16Base<ExpandBf16Pass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    arith::populateExpandBFloat16Patterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace vitc
