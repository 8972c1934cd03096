//===- PlanMemory.cpp - place temporaries in one arena by liveness ---------===//
//
// After bufferization a host function is straight-line code whose
// temporaries are memref.alloc ops. This pass gives every non-escaping
// temporary a slice of ONE arena allocated at entry:
//
//   1. live range of a buffer = [first use, last use] in the block's op
//      order, following aliases (views, subviews, casts, reshapes: any
//      side-effect-free op that returns a memref from it);
//   2. buffers that escape (returned, yielded, passed to a call that is not
//      a library kernel) keep their own allocation;
//   3. greedy placement, largest first (dynamic sizes ordered by their value
//      at batch = 1): offset = max over earlier-placed buffers with an
//      overlapping live range of (offset + size), sizes rounded up to 64
//      bytes. With static shapes everything folds to constants; with dynamic
//      (batch) dims the same formula is emitted as arith ops at entry;
//   4. each alloc becomes a memref.view into the arena.
//
// Deallocation: if the input already frees the planned buffers
// (memref.dealloc), those frees are replaced by one dealloc of the arena at
// exit; otherwise (the pipeline's case: this pass runs before the buffer
// deallocation pipeline) the arena is an ordinary non-escaping alloc that the
// deallocation pipeline frees.
//
// Device independent: only memref and arith ops are emitted.
//
//===----------------------------------------------------------------------===//
#include "compiler/ElementTypes.h"
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

#include <tuple>

namespace vitc {
#define GEN_PASS_DEF_PLANMEMORY
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

/// Functions whose calls never retain their memref arguments: the library
/// kernels that vitc-linalg-to-library declares.
bool isLibraryKernel(Operation *call) {
  auto callOp = dyn_cast<func::CallOp>(call);
  if (!callOp)
    return false;
  auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
      call, callOp.getCalleeAttr());
  return callee && callee->hasAttr("vitc.library_kernel");
}

/// A temporary buffer and what the plan needs to know about it.
struct Buffer {
  memref::AllocOp alloc;
  unsigned firstUse = ~0u, lastUse = 0;
  int64_t sizeAtBatch1 = 0; // Bytes, dynamic dims taken as 1.
  SmallVector<Operation *> deallocs;
  OpFoldResult bytes;       // Rounded up to kAlignment.
  OpFoldResult offset, end; // In the arena.

  bool overlaps(const Buffer &o) const {
    return firstUse <= o.lastUse && o.firstUse <= lastUse;
  }
};

/// Byte size of one element, or 0 when unknown.
/// Emits index arithmetic that folds when its operands are constants.
class IndexMath {
public:
  IndexMath(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  OpFoldResult cst(int64_t v) { return b.getIndexAttr(v); }

  Value value(OpFoldResult x) {
    if (auto v = dyn_cast<Value>(x))
      return v;
    int64_t c = *getConstantIntValue(x);
    Value &cached = constants[c];
    if (!cached)
      cached = arith::ConstantIndexOp::create(b, loc, c);
    return cached;
  }
  OpFoldResult add(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return cst(*cx + *cy);
    if (cx == 0)
      return y;
    if (cy == 0)
      return x;
    return memoized<arith::AddIOp>(x, y);
  }
  OpFoldResult mul(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return cst(*cx * *cy);
    if (cx == 1)
      return y;
    if (cy == 1)
      return x;
    return memoized<arith::MulIOp>(x, y);
  }
  OpFoldResult max(OpFoldResult x, OpFoldResult y) {
    auto cx = getConstantIntValue(x), cy = getConstantIntValue(y);
    if (cx && cy)
      return cst(std::max(*cx, *cy));
    if (cx == 0)
      return y;
    if (cy == 0)
      return x;
    // cmpi + select, not arith.maxui: the step's glue is compiled at -O0,
    // where FastISel selects compares and selects but not llvm.umax, and
    // each umax sent the rest of the glue's block to SelectionDAG.
    Value lhs = value(x), rhs = value(y);
    auto key = std::make_tuple(StringRef("max"), lhs, rhs);
    if (Value cached = memo.lookup(key))
      return cached;
    Value greater =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, lhs, rhs);
    return memo[key] = arith::SelectOp::create(b, loc, greater, lhs, rhs);
  }
  OpFoldResult alignUp(OpFoldResult x) {
    if (auto cx = getConstantIntValue(x))
      return cst(llvm::alignTo(*cx, kAlignment));
    return memoized<arith::AndIOp>(add(x, cst(kAlignment - 1)),
                                   cst(~(kAlignment - 1)));
  }

private:
  /// One op per (kind, operands): offsets and the arena size share terms.
  template <typename OpTy> Value memoized(OpFoldResult x, OpFoldResult y) {
    Value lhs = value(x), rhs = value(y);
    auto key = std::make_tuple(OpTy::getOperationName(), lhs, rhs);
    auto it = memo.find(key);
    if (it != memo.end())
      return it->second;
    Value result = OpTy::create(b, loc, lhs, rhs);
    memo[key] = result;
    return result;
  }

  OpBuilder &b;
  Location loc;
  llvm::DenseMap<int64_t, Value> constants;
  llvm::DenseMap<std::tuple<StringRef, Value, Value>, Value> memo;
};

class MemoryPlanner {
public:
  explicit MemoryPlanner(Block &block) : block(block) {
    unsigned i = 0;
    for (Operation &op : block)
      position[&op] = i++;
  }

  void run() {
    SmallVector<Buffer> buffers;
    for (Operation &op : block)
      if (auto alloc = dyn_cast<memref::AllocOp>(op))
        if (auto buffer = analyze(alloc))
          buffers.push_back(std::move(*buffer));
    if (buffers.empty())
      return;

    // Sizes and offsets are computed at entry, where the arena is allocated:
    // dynamic sizes are re-materialised there.
    OpBuilder b = OpBuilder::atBlockBegin(&block);
    Location loc = block.getParentOp()->getLoc();
    IndexMath math(b, loc);
    IRMapping hoisted;
    for (Buffer &buf : buffers) {
      MemRefType type = buf.alloc.getType();
      OpFoldResult bytes = math.cst(storageBytes(type.getElementType()));
      unsigned dynamicIndex = 0;
      for (int64_t dim : type.getShape()) {
        if (ShapedType::isDynamic(dim)) {
          Value size = buf.alloc.getDynamicSizes()[dynamicIndex++];
          bytes = math.mul(bytes, hoist(b, size, hoisted));
        } else {
          bytes = math.mul(bytes, math.cst(dim));
        }
      }
      buf.bytes = math.alignUp(bytes);
    }

    // Largest first; ties keep program order.
    SmallVector<Buffer *> order;
    for (Buffer &buf : buffers)
      order.push_back(&buf);
    llvm::stable_sort(order, [](const Buffer *x, const Buffer *y) {
      return x->sizeAtBatch1 > y->sizeAtBatch1;
    });
    // With static sizes a buffer takes the lowest gap that fits between the
    // overlapping buffers already placed (first fit); with dynamic sizes it
    // goes above all of them, the formula emitted as arith ops.
    bool allStatic = llvm::all_of(buffers, [](const Buffer &buf) {
      return getConstantIntValue(buf.bytes).has_value();
    });
    OpFoldResult arenaBytes = math.cst(0);
    SmallVector<Buffer *> placed;
    for (Buffer *buf : order) {
      SmallVector<Buffer *> conflicts;
      for (Buffer *other : placed)
        if (buf->overlaps(*other))
          conflicts.push_back(other);
      if (allStatic)
        buf->offset = math.cst(firstFit(conflicts, *getConstantIntValue(buf->bytes)));
      else {
        buf->offset = math.cst(0);
        for (Buffer *other : conflicts)
          buf->offset = math.max(buf->offset, other->end);
      }
      buf->end = math.add(buf->offset, buf->bytes);
      arenaBytes = math.max(arenaBytes, buf->end);
      placed.push_back(buf);
    }

    auto i8 = b.getI8Type();
    memref::AllocOp arena;
    if (auto staticBytes = getConstantIntValue(arenaBytes))
      arena = memref::AllocOp::create(b, loc, MemRefType::get({*staticBytes}, i8),
                                      ValueRange{}, b.getI64IntegerAttr(kAlignment));
    else
      arena = memref::AllocOp::create(
          b, loc, MemRefType::get({ShapedType::kDynamic}, i8),
          ValueRange{math.value(arenaBytes)}, b.getI64IntegerAttr(kAlignment));
    Value arenaValue = arena.getResult();

    // Offsets must be Values at entry, before the allocs they replace.
    SmallVector<Value> offsets;
    for (Buffer &buf : buffers)
      offsets.push_back(math.value(buf.offset));

    bool freedByInput = false;
    for (auto [buf, offset] : llvm::zip(buffers, offsets)) {
      OpBuilder at(buf.alloc);
      auto view = memref::ViewOp::create(at, buf.alloc.getLoc(),
                                         buf.alloc.getType(), arenaValue,
                                         offset, buf.alloc.getDynamicSizes());
      buf.alloc.getResult().replaceAllUsesWith(view.getResult());
      buf.alloc.erase();
      for (Operation *dealloc : buf.deallocs) {
        dealloc->erase();
        freedByInput = true;
      }
    }
    if (freedByInput) {
      OpBuilder atExit(block.getTerminator());
      memref::DeallocOp::create(atExit, loc, arenaValue);
    }
  }

private:
  /// The lowest offset where `bytes` fit between the (static) intervals of
  /// `conflicts`.
  static int64_t firstFit(SmallVector<Buffer *> &conflicts, int64_t bytes) {
    llvm::sort(conflicts, [](const Buffer *x, const Buffer *y) {
      return *getConstantIntValue(x->offset) < *getConstantIntValue(y->offset);
    });
    int64_t candidate = 0;
    for (Buffer *other : conflicts) {
      int64_t begin = *getConstantIntValue(other->offset);
      if (candidate + bytes <= begin)
        break;
      candidate = std::max(candidate, *getConstantIntValue(other->end));
    }
    return candidate;
  }

  /// The live range and escape analysis of one alloc; none if it cannot be
  /// placed in the arena.
  std::optional<Buffer> analyze(memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    int64_t elementBytes = storageBytes(type.getElementType());
    if (!type.getLayout().isIdentity() || type.getMemorySpace() ||
        elementBytes == 0)
      return std::nullopt;
    for (Value size : alloc.getDynamicSizes())
      if (!isHoistable(size))
        return std::nullopt;

    Buffer buf;
    buf.alloc = alloc;
    buf.sizeAtBatch1 = elementBytes;
    for (int64_t dim : type.getShape())
      buf.sizeAtBatch1 *= ShapedType::isDynamic(dim) ? 1 : dim;

    SmallVector<Value> worklist{alloc.getResult()};
    while (!worklist.empty()) {
      Value alias = worklist.pop_back_val();
      for (OpOperand &use : alias.getUses()) {
        Operation *user = use.getOwner();
        Operation *top = block.findAncestorOpInBlock(*user);
        if (!top)
          return std::nullopt;
        if (isa<memref::DeallocOp>(user)) {
          if (alias != alloc.getResult())
            return std::nullopt; // Freed through a view: leave it alone.
          buf.deallocs.push_back(user);
          continue;
        }
        if (escapes(user))
          return std::nullopt;
        unsigned pos = position.lookup(top);
        buf.firstUse = std::min(buf.firstUse, pos);
        buf.lastUse = std::max(buf.lastUse, pos);
        // Side-effect-free ops returning memrefs are views of the buffer.
        for (Value result : user->getResults())
          if (isa<BaseMemRefType>(result.getType()))
            worklist.push_back(result);
      }
    }
    if (buf.firstUse == ~0u) // Never used: still give it a (tiny) range.
      buf.firstUse = buf.lastUse = position.lookup(alloc);
    return buf;
  }

  /// Whether `user` may let the buffer outlive the function or be
  /// retained somewhere the plan cannot see.
  bool escapes(Operation *user) {
    if (user->hasTrait<OpTrait::ReturnLike>() ||
        isa<RegionBranchTerminatorOpInterface>(user))
      return true;
    if (isa<CallOpInterface>(user))
      return !isLibraryKernel(user);
    if (auto store = dyn_cast<memref::StoreOp>(user))
      return isa<BaseMemRefType>(store.getValueToStore().getType());
    // An op that makes new memrefs from the buffer must be a pure view.
    bool returnsMemref = llvm::any_of(user->getResultTypes(), [](Type t) {
      return isa<BaseMemRefType>(t);
    });
    return returnsMemref && !isMemoryEffectFree(user);
  }

  /// Whether `v` can be computed at block entry: a block argument, or a
  /// side-effect-free op of hoistable operands.
  bool isHoistable(Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v))
      return arg.getOwner() == &block;
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != &block || def->getNumRegions() != 0 ||
        !isMemoryEffectFree(def))
      return false;
    return llvm::all_of(def->getOperands(),
                        [&](Value operand) { return isHoistable(operand); });
  }

  /// Clones the computation of `v` to the builder's position.
  Value hoist(OpBuilder &b, Value v, IRMapping &mapping) {
    if (Value mapped = mapping.lookupOrNull(v))
      return mapped;
    if (isa<BlockArgument>(v))
      return v;
    Operation *def = v.getDefiningOp();
    for (Value operand : def->getOperands())
      hoist(b, operand, mapping);
    Operation *clone = b.clone(*def, mapping);
    for (auto [from, to] : llvm::zip(def->getResults(), clone->getResults()))
      mapping.map(from, to);
    return mapping.lookup(v);
  }

  Block &block;
  llvm::DenseMap<Operation *, unsigned> position;
};

struct PlanMemoryPass : impl::PlanMemoryBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Straight-line host code only: one block.
    if (func.isExternal() || !llvm::hasSingleElement(func.getBody()))
      return;
    MemoryPlanner(func.getBody().front()).run();
  }
};

} // namespace
} // namespace vitc
