//===- SinkTransposes.cpp - tensor transposes next to their first user ----===//
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace vitc {
#define GEN_PASS_DEF_SINKTRANSPOSES
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {
struct SinkTransposesPass : impl::SinkTransposesBase<SinkTransposesPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp t) {
      if (t.hasPureTensorSemantics())
        transposes.push_back(t);
    });
    for (linalg::TransposeOp t : transposes) {
      Block *block = t->getBlock();
      Operation *first = nullptr;
      bool sameBlock = true;
      for (Operation *user : t->getUsers()) {
        // A user nested in a region of this block counts at its ancestor.
        Operation *at = block->findAncestorOpInBlock(*user);
        if (!at) {
          sameBlock = false;
          break;
        }
        if (!first || at->isBeforeInBlock(first))
          first = at;
      }
      if (sameBlock && first && first != t->getNextNode())
        t->moveBefore(first);
    }
  }
};
} // namespace
} // namespace vitc
