//===- ReorderHints.cpp - which convolution operands to keep reordered ----===//
//
// oneDNN convolutions run on blocked layouts: each call reorders its input
// and filter first. In a training step a convolution and its two gradients
// read the same x and g up to three times, so the kernels can keep a
// reordered copy between calls, if they know the memory did not change and
// will be read again. This pass, run after vitc-linalg-to-library, tells
// them, in the last (hints) argument of every vitc_cpu_conv2d_* call.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "compiler/Codegen/CPU/BufferAnalysis.h"

namespace vitc {
#define GEN_PASS_DEF_REORDERHINTS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;
using namespace cpu;

namespace {


/// The value a kernel operand reads memory of, looking through views that
/// keep its address (casts, transposes): two operands with the same origin
/// start at the same address.
Value getOrigin(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<memref::CastOp, memref::TransposeOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// Whether a convolution call reads `origin` as its input or filter.
bool convReads(Operation *op, Value origin) {
  return isKernelCall(op, "vitc_cpu_conv2d_") &&
         (getOrigin(op->getOperand(0)) == origin ||
                            getOrigin(op->getOperand(1)) == origin);
}

/// Whether, walking from `call` in `forward` direction within its block, a
/// convolution call reads the same origin before anything writes its buffer
/// (reads by other ops leave the content as it is).
bool convReadsUnchanged(Operation *call, Value origin, bool forward) {
  Value root = getRootBuffer(origin);
  for (Operation *op = forward ? call->getNextNode() : call->getPrevNode(); op;
       op = forward ? op->getNextNode() : op->getPrevNode()) {
    if (convReads(op, origin))
      return true;
    if (mayAccess(op, root, /*writesOnly=*/true))
      return false;
  }
  return false;
}

/// Sets the last operand of every convolution call to its reorder hints, two
/// bits per read operand (input: bits 0-1, filter: bits 2-3). The kernels
/// reorder their operands into oneDNN's blocked layouts; a convolution and
/// its gradients read the same x and g two or three times in one step.
///  - reuse (bit 0 / 2): the previous convolution that read this memory read
///    it at the same address, and nothing wrote it since: a copy it kept in
///    the chosen layout still holds the same values;
///  - keep (bit 1 / 3): a later convolution reads it unchanged, so keeping
///    the reordered copy pays.
/// The kernel drops its copies of an address on any read without `reuse`,
/// so a copy is only ever used by the chain of unchanged reads that made it.
void assignReorderHints(ModuleOp module) {
  module.walk([&](func::CallOp call) {
    if (!isKernelCall(call, "vitc_cpu_conv2d_"))
      return;
    int64_t hints = 0;
    for (unsigned i = 0; i < 2; ++i) {
      Value origin = getOrigin(call.getOperand(i));
      if (convReadsUnchanged(call, origin, /*forward=*/false))
        hints |= int64_t(1) << (2 * i);
      if (convReadsUnchanged(call, origin, /*forward=*/true))
        hints |= int64_t(2) << (2 * i);
    }
    if (hints == 0)
      return;
    OpBuilder b(call);
    call->setOperand(call->getNumOperands() - 1,
                     arith::ConstantIntOp::create(b, call.getLoc(), hints, 64));
  });
}

struct ReorderHintsPass : impl::ReorderHintsBase<ReorderHintsPass> {
  using Base::Base;
  void runOnOperation() override { assignReorderHints(getOperation()); }
};

} // namespace
} // namespace vitc
