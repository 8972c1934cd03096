//===- ApproximateMath.cpp - vectorizable erf and exp ---------------------===//
//
// On CPU, math.erf and math.exp otherwise become calls to libm's erff and
// expf, one scalar call per element: GELU and softmax loops cannot be
// vectorised around them (17% of a small ViT's training step). MLIR's
// polynomial approximations are plain f32 arithmetic, which LLVM vectorises
// like the rest of the loop. Only erf and exp are rewritten: the functions
// these models spend time in, with approximations accurate to f32 rounding.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "compiler/Codegen/CPU/Passes.h.inc"

namespace {

struct ApproximateMathPass : impl::ApproximateMathBase<ApproximateMathPass> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // The predicate sees op names ("math.erf").
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      name.consume_front("math.");
      return name == "erf" || name == "exp";
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace vitc
