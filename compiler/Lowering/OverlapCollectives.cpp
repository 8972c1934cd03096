//===- OverlapCollectives.cpp - collectives that run while the step computes //
//
// After bufferization a collective is a blocking runtime call
// (CollectiveBufferization.cpp). This splits each into a start, where the
// call was, and a wait right before the first later op that touches one of
// its buffers (any view of them; the dealloc included):
//
//   %h = call @vitc_coll_start_all_reduce_f32(%buf, %kind) -> i64
//   ...  (the rest of the backward pass computes)
//   call @vitc_coll_wait_f32(%h, %buf, %buf)
//
// The runtime runs the collective on its communication thread (a stream on
// GPUs) meanwhile. The wait names the buffers so that memory planning and
// deallocation keep them alive until then. Where the sharding stage placed a
// collective early (a gradient's reduction right after the backward pass
// produced it, the next param's gather before the current one's compute),
// this is what makes it overlap.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/RuntimeCollectives.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"

namespace vitc {
#define GEN_PASS_DEF_OVERLAPCOLLECTIVES
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

/// A blocking collective call: its name's start form and the dtype suffix.
struct Collective {
  StringRef kind;  // "all_reduce", "all_gather", "reduce_scatter"
  StringRef dtype; // "f32", "bf16", "i64"
};

std::optional<Collective> matchCollective(func::CallOp call) {
  StringRef name = call.getCallee();
  if (!name.consume_front("vitc_coll_"))
    return std::nullopt;
  for (StringRef kind : {"all_reduce", "all_gather", "reduce_scatter"}) {
    StringRef rest = name;
    if (rest.consume_front(kind) && rest.consume_front("_"))
      return Collective{kind, rest};
  }
  return std::nullopt;
}

/// The memref `value` is a view of (through view-like ops), or itself.
Value rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

/// `roots` and every view of them.
llvm::SetVector<Value> viewsOf(ArrayRef<Value> roots) {
  llvm::SetVector<Value> all(roots.begin(), roots.end());
  for (size_t i = 0; i < all.size(); ++i)
    for (Operation *user : all[i].getUsers())
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == all[i])
        all.insert(user->result_begin(), user->result_end());
  return all;
}

struct OverlapCollectivesPass
    : impl::OverlapCollectivesBase<OverlapCollectivesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<func::CallOp, Collective>> calls;
    module.walk([&](func::CallOp call) {
      if (std::optional<Collective> c = matchCollective(call))
        calls.push_back({call, *c});
    });
    for (auto [call, c] : calls)
      split(module, call, c);
  }

  void split(ModuleOp module, func::CallOp call, Collective c) {
    OpBuilder b(call);
    Location loc = call.getLoc();
    SmallVector<Value> buffers = {call.getOperand(0)};
    if (c.kind != "all_reduce")
      buffers.push_back(call.getOperand(1));
    auto flat = cast<MemRefType>(buffers.front().getType());
    func::FuncOp start = declareRuntimeCollective(
        module, ("vitc_coll_start_" + c.kind + "_" + c.dtype).str(),
        b.getFunctionType(call.getOperandTypes(), {b.getI64Type()}));
    func::FuncOp wait = declareRuntimeCollective(
        module, ("vitc_coll_wait_" + c.dtype).str(),
                b.getFunctionType({b.getI64Type(), flat, flat}, {}));
    Value handle =
        func::CallOp::create(b, loc, start, call.getOperands()).getResult(0);

    // The first later op of this block that touches a view of the buffers.
    SmallVector<Value> roots;
    for (Value buffer : buffers)
      roots.push_back(rootOf(buffer));
    llvm::SetVector<Value> views = viewsOf(roots);
    Block *block = call->getBlock();
    Operation *waitBefore = block->getTerminator();
    for (Value view : views)
      for (Operation *user : view.getUsers()) {
        Operation *op = block->findAncestorOpInBlock(*user);
        if (op && op != call && call->isBeforeInBlock(op) &&
            op->isBeforeInBlock(waitBefore))
          waitBefore = op;
      }
    b.setInsertionPoint(waitBefore);
    Value second = buffers.size() > 1 ? buffers[1] : buffers[0];
    func::CallOp::create(b, loc, wait, ValueRange{handle, buffers[0], second});
    call.erase();
  }
};

} // namespace
} // namespace vitc
