//===- ReassociateReductions.cpp - reassoc on linalg reduction combiners --===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace vitc {
#define GEN_PASS_DEF_REASSOCIATEREDUCTIONS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {
struct ReassociateReductionsPass
    : impl::ReassociateReductionsBase<ReassociateReductionsPass> {
  using Base::Base;
  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      op->walk([](Operation *inner) {
        if (!isa<arith::AddFOp, arith::MulFOp>(inner))
          return;
        auto fm = cast<arith::ArithFastMathInterface>(inner);
        arith::FastMathFlags flags =
            fm.getFastMathFlagsAttr().getValue() | arith::FastMathFlags::reassoc;
        inner->setAttr(fm.getFastMathAttrName(),
                       arith::FastMathFlagsAttr::get(inner->getContext(), flags));
      });
    });
  }
};
} // namespace
} // namespace vitc
