//===- CloneFillInits.cpp - one linalg.fill per destination-style init ----===//
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace vitc {
#define GEN_PASS_DEF_CLONEFILLINITS
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {
struct CloneFillInitsPass : impl::CloneFillInitsBase<CloneFillInitsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<linalg::FillOp> shared;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse())
        shared.push_back(fill);
    });
    OpBuilder b(&getContext());
    for (linalg::FillOp fill : shared) {
      Value filled = fill->getResult(0);
      // Inits only: an op that reads the fill as an input does not write
      // into its buffer.
      SmallVector<OpOperand *> inits;
      for (OpOperand &use : filled.getUses()) {
        auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (dps && dps.isDpsInit(&use))
          inits.push_back(&use);
      }
      for (OpOperand *use : inits) {
        b.setInsertionPoint(use->getOwner());
        use->set(b.clone(*fill)->getResult(0));
      }
      if (filled.use_empty())
        fill.erase();
    }
  }
};
} // namespace
} // namespace vitc
