//===- PartitionFsdp.cpp - fully sharded data-parallel training step ------===//
//
// FSDP (ZeRO-3) holds each parameter as one block of its flattened values
// per rank: the step's param inputs become flat shards, tensor<?xT> (world
// size blocks of ceil(numel / size), zero-padded at the end). Where the step
// computes with a parameter it all-gathers the shards and takes the whole
// tensor back:
//
//   %g = shard.all_gather %shard on @dp gather_axis = 0   (size x block)
//   %w = expand_shape(extract_slice(%g, 0, numel))          (the param)
//
// once right before its first use, and again right before its first
// backward use, so that no gathered parameter lives from the forward pass
// into the backward pass: it is freed after its last forward use and
// gathered again when the backward pass needs it. A unit's (a layer's)
// params are gathered together, and the next unit's while the current one
// computes (prefetch). What the forward pass
// derives from the param alone (its transpose for a matmul, a bf16 cast) and
// the backward pass reads is recomputed there from the second gather, or the
// derived copy would keep the forward's gather alive. A gradient is flattened,
// zero-padded to size x block and reduce-scattered (averaged), so each rank
// holds its block of the global gradient; vt-apply-optimizer then updates
// each rank's shards of the params and the optimizer state (the state takes
// its param's shape, so it is sharded alike), all-reducing the gradient
// norm's partial sums. The loss, hits and buffers are reduced as under DDP.
//
// Mixed precision: a param the step only reads through a cast to bf16 (the
// autocast's matmul and convolution operands) is gathered in bf16, half
// the traffic, from its f32 master shard cast on each rank. Gradients are
// reduced in f32 unless `reduce-dtype=bf16` halves that traffic too.
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"
#include "compiler/Sharding/DataParallelUtils.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace vitc {
#define GEN_PASS_DEF_PARTITIONFSDP
#include "compiler/Sharding/Passes.h.inc"

using namespace mlir;

namespace {

/// The op of `f`'s entry block that holds `op` (itself, or an ancestor).
Operation *inEntryBlock(func::FuncOp f, Operation *op) {
  return f.getBody().front().findAncestorOpInBlock(*op);
}

/// The op that computes the loss, where the forward pass ends: later ops are
/// the backward pass. Null when `f` returns no loss.
Operation *endOfForward(func::FuncOp f) {
  for (unsigned i = 0; i < f.getNumResults(); ++i)
    if (auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
        name && name.getValue() == "loss") {
      Operation *ret = f.getBody().front().getTerminator();
      Value loss = ret->getOperand(i);
      if (Operation *def = loss.getDefiningOp())
        return inEntryBlock(f, def);
    }
  return nullptr;
}

struct PartitionFsdpPass : impl::PartitionFsdpBase<PartitionFsdpPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto funcs = selectFunctions(module, functions, "vitc-partition-fsdp");
    if (failed(funcs) || failed(getOrCreateDataParallelGrid(
                             module, grid, "vitc-partition-fsdp")))
      return signalPassFailure();
    for (func::FuncOp f : *funcs)
      if (failed(partition(f)))
        return signalPassFailure();
  }

  FlatSymbolRefAttr gridRef() {
    return FlatSymbolRefAttr::get(&getContext(), grid);
  }

  /// The whole param from its shard `shard`, built right before `at`.
  Value gather(OpBuilder &b, Operation *at, Value shard,
               RankedTensorType type) {
    b.setInsertionPoint(at);
    Location loc = shard.getLoc();
    auto flatType = cast<RankedTensorType>(shard.getType());
    Value all = shard::AllGatherOp::create(
        b, loc, flatType, gridRef(), b.getDenseI16ArrayAttr({0}), shard,
        b.getIndexAttr(0));
    int64_t numel = type.getNumElements();
    Value flat = tensor::ExtractSliceOp::create(
        b, loc,
        RankedTensorType::get({numel}, type.getElementType()), all,
        ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(numel)},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
    return unflatten(b, loc, flat, type);
  }

  /// The earliest user (in the entry block) of `uses`.
  static Operation *firstUser(func::FuncOp f,
                              iterator_range<Value::use_iterator> uses) {
    Operation *first = nullptr;
    for (OpOperand &use : uses) {
      Operation *user = inEntryBlock(f, use.getOwner());
      if (!first || user->isBeforeInBlock(first))
        first = user;
    }
    return first;
  }

  /// The backward pass's own copy of the param: what reads `whole`, or a
  /// value the forward pass derived from it alone, after `forwardEnd` reads
  /// a second gather and copies of the deriving ops instead.
  void regatherForBackward(func::FuncOp f, OpBuilder &b, Value shard,
                           RankedTensorType type, Value whole,
                           Operation *forwardEnd) {
    // Values derived from the param alone: pure ops without regions whose
    // operands are such values or constants, in block order.
    llvm::SetVector<Value> derived;
    derived.insert(whole);
    SmallVector<Operation *> chain;
    Operation *start = inEntryBlock(f, whole.getDefiningOp());
    for (Operation *op = start->getNextNode(); op && op != forwardEnd;
         op = op->getNextNode()) {
      if (op->getNumRegions() || !isMemoryEffectFree(op) ||
          op->getNumResults() == 0)
        continue;
      bool fromParam = false, onlyParam = true;
      for (Value operand : op->getOperands()) {
        if (derived.contains(operand))
          fromParam = true;
        else if (!matchPattern(operand, m_Constant()))
          onlyParam = false;
      }
      if (fromParam && onlyParam) {
        chain.push_back(op);
        derived.insert(op->result_begin(), op->result_end());
      }
    }
    // The backward pass's uses of them.
    auto isBackward = [&](OpOperand &use) {
      return forwardEnd->isBeforeInBlock(inEntryBlock(f, use.getOwner()));
    };
    Operation *first = nullptr;
    for (Value v : derived)
      for (OpOperand &use : v.getUses())
        if (isBackward(use)) {
          Operation *user = inEntryBlock(f, use.getOwner());
          if (!first || user->isBeforeInBlock(first))
            first = user;
        }
    if (!first)
      return;
    // Needed copies: values with backward uses and what they are made from.
    llvm::DenseSet<Operation *> needed;
    for (Operation *op : llvm::reverse(chain)) {
      bool need = false;
      for (Value r : op->getResults())
        for (OpOperand &use : r.getUses())
          need |= isBackward(use) || needed.contains(use.getOwner());
      if (need)
        needed.insert(op);
    }
    IRMapping copies;
    Value again = gather(b, first, shard, type);
    // Not the forward gather's twin: CSE would fold the two into one value
    // live across the whole step.
    for (Operation *op = again.getDefiningOp(); op;
         op = op->getNumOperands() ? op->getOperand(0).getDefiningOp() : nullptr)
      if (isa<shard::AllGatherOp>(op))
        op->setAttr("vitc.regather", UnitAttr::get(f.getContext()));
    copies.map(whole, again);
    b.setInsertionPoint(first);
    for (Operation *op : chain)
      if (needed.contains(op))
        b.clone(*op, copies);
    for (Value v : derived) {
      Value copy = copies.lookupOrNull(v);
      if (!copy)
        continue;
      v.replaceUsesWithIf(copy, [&](OpOperand &use) {
        return isBackward(use) && use.getOwner() != copy.getDefiningOp();
      });
    }
  }

  /// The whole param a gather chain ends in (past its slice and reshape).
  static Value wholeOf(shard::AllGatherOp gather) {
    Value whole = gather->getResult(0);
    while (whole.hasOneUse() &&
           isa<tensor::ExtractSliceOp, tensor::ExpandShapeOp,
               tensor::CollapseShapeOp>(*whole.getUsers().begin()))
      whole = whole.getUsers().begin()->getResult(0);
    return whole;
  }

  /// A param read only through casts to one narrower float type is gathered
  /// in that type: the shard is cast, the gather moves half the bytes, and
  /// the casts of the whole param go away.
  void gatherInLowPrecision(Block &body) {
    SmallVector<shard::AllGatherOp> gathers(body.getOps<shard::AllGatherOp>());
    for (shard::AllGatherOp gather : gathers) {
      Value whole = wholeOf(gather);
      auto wholeType = cast<RankedTensorType>(whole.getType());
      FloatType narrow;
      bool onlyCasts = !whole.use_empty();
      for (Operation *user : whole.getUsers()) {
        auto cast = dyn_cast<vt::CastOp>(user);
        auto type = cast ? dyn_cast<FloatType>(
                               getElementTypeOrSelf(cast.getType()))
                         : FloatType();
        if (!type || type.getWidth() >= wholeType.getElementTypeBitWidth() ||
            (narrow && type != narrow)) {
          onlyCasts = false;
          break;
        }
        narrow = type;
      }
      if (!onlyCasts)
        continue;
      OpBuilder b(gather);
      Location loc = gather.getLoc();
      auto flat = RankedTensorType::get({ShapedType::kDynamic}, narrow);
      Value shardNarrow =
          vt::CastOp::create(b, loc, flat, gather.getInput());
      auto narrowGather = shard::AllGatherOp::create(
          b, loc, flat, gather.getGridAttr(), gather.getGridAxesAttr(),
          shardNarrow, gather.getGatherAxisAttr());
      narrowGather->setDiscardableAttrs(gather->getDiscardableAttrDictionary());
      // The slice and reshape, in the narrow type, where they were.
      Value value = narrowGather;
      SmallVector<Operation *> chain;
      for (Operation *next = *gather->getUsers().begin();;
           next = *next->getResult(0).getUsers().begin()) {
        chain.push_back(next);
        if (next->getResult(0) == whole)
          break;
      }
      for (Operation *op : chain) {
        b.setInsertionPoint(op);
        Operation *copy = b.clone(*op);
        copy->setOperand(0, value);
        copy->getResult(0).setType(cast<RankedTensorType>(
            op->getResult(0).getType()).clone(narrow));
        value = copy->getResult(0);
      }
      for (Operation *user : llvm::to_vector(whole.getUsers())) {
        user->getResult(0).replaceAllUsesWith(value);
        user->erase();
      }
      for (Operation *op : llvm::reverse(chain))
        op->erase();
      gather->erase();
    }
  }

  /// The unit a gather's param belongs to: its layer, the param's name up
  /// to the last '.' ("blocks.3.attn" of "blocks.3.attn.qkv.weight" is one
  /// unit with its bias).
  static std::string unitOf(func::FuncOp f, shard::AllGatherOp gather) {
    Value shard = gather.getInput();
    if (auto cast = shard.getDefiningOp<vt::CastOp>())
      shard = cast.getInput();
    auto arg = dyn_cast<BlockArgument>(shard);
    auto name = arg ? f.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                     "vt.name")
                    : StringAttr();
    if (!name)
      return "";
    StringRef n = name.getValue();
    return n.substr(0, n.rfind('.')).str();
  }

  /// Gathers by unit: a unit's params are gathered together, right before
  /// the first use of any of them, and the next unit's gathers are issued
  /// while the current unit computes (right before its first use), so at
  /// most two gathered units are in flight. The forward gathers and the
  /// backward re-gathers are scheduled apart, each in block order.
  static void prefetch(func::FuncOp f, Block &body) {
    SmallVector<shard::AllGatherOp> forward, backward;
    for (auto gather : body.getOps<shard::AllGatherOp>())
      (gather->hasAttr("vitc.regather") ? backward : forward)
          .push_back(gather);
    for (ArrayRef<shard::AllGatherOp> gathers :
         {ArrayRef(forward), ArrayRef(backward)}) {
      // Units in the order their first gather comes.
      SmallVector<SmallVector<shard::AllGatherOp>> units;
      llvm::StringMap<size_t> index;
      for (shard::AllGatherOp gather : gathers) {
        auto [it, added] = index.try_emplace(unitOf(f, gather), units.size());
        if (added)
          units.emplace_back();
        units[it->second].push_back(gather);
      }
      auto firstUse = [&](ArrayRef<shard::AllGatherOp> unit) {
        Operation *first = nullptr;
        for (shard::AllGatherOp gather : unit)
          for (Operation *user : wholeOf(gather).getUsers())
            if (Operation *op = body.findAncestorOpInBlock(*user);
                op && (!first || op->isBeforeInBlock(first)))
              first = op;
        return first;
      };
      for (size_t k = 0; k < units.size(); ++k) {
        // Issue point: the previous unit's first use, or (the first unit)
        // its own earliest gather.
        Operation *at = k ? firstUse(units[k - 1]) : nullptr;
        if (!k)
          for (shard::AllGatherOp gather : units[k])
            if (!at || gather->isBeforeInBlock(at))
              at = gather;
        if (!at)
          continue;
        for (shard::AllGatherOp gather : units[k]) {
          // A bf16 gather moves with the cast of its shard.
          Operation *first = gather;
          if (auto cast = gather.getInput().getDefiningOp<vt::CastOp>())
            first = cast;
          if (at->isBeforeInBlock(first)) {
            first->moveBefore(at);
            if (first != gather.getOperation())
              gather->moveAfter(first);
          }
        }
      }
    }
  }

  LogicalResult partition(func::FuncOp f) {
    Block &body = f.getBody().front();
    Operation *forwardEnd = endOfForward(f);
    MLIRContext *ctx = f.getContext();
    OpBuilder b(ctx);
    llvm::StringMap<RankedTensorType> sharded; // param name -> whole type
    for (unsigned i = 0; i < f.getNumArguments(); ++i) {
      auto role = f.getArgAttrOfType<StringAttr>(i, "vt.role");
      if (!role || role.getValue() != "param")
        continue;
      BlockArgument p = f.getArgument(i);
      auto name = f.getArgAttrOfType<StringAttr>(i, "vt.name");
      auto type = dyn_cast<RankedTensorType>(p.getType());
      if (!name || !type || !type.hasStaticShape())
        return f.emitError("vitc-partition-fsdp: param #")
               << i << " of @" << f.getSymName()
               << " needs a name and a static shape, got " << p.getType();
      sharded[name.getValue()] = type;

      if (p.use_empty())
        return f.emitError("vitc-partition-fsdp: param '")
               << name.getValue() << "' of @" << f.getSymName()
               << " is not used";
      Operation *first = firstUser(f, p.getUses());
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : p.getUses())
        uses.push_back(&use);
      p.setType(RankedTensorType::get({ShapedType::kDynamic},
                                      type.getElementType()));
      f.setArgAttr(i, "vt.full_shape",
                   DenseI64ArrayAttr::get(ctx, type.getShape()));
      Value whole = gather(b, first, p, type);
      for (OpOperand *use : uses)
        use->set(whole);
      if (forwardEnd)
        regatherForBackward(f, b, p, type, whole, forwardEnd);
    }

    // Gradients: each rank keeps its block of the average.
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    Value size;
    for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
      auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
      if (!name || !name.getValue().starts_with("grad_"))
        continue;
      auto it = sharded.find(name.getValue().drop_front(5));
      if (it == sharded.end())
        continue;
      // Right where the gradient is computed, to overlap the rest of the
      // backward pass.
      b.setInsertionPointAfterValue(ret.getOperand(i));
      Location loc = ret.getOperand(i).getLoc();
      if (!size) {
        OpBuilder top = OpBuilder::atBlockBegin(&body);
        size = shard::GridShapeOp::create(top, f.getLoc(), grid,
                                          ArrayRef<shard::GridAxis>{0})
                   .getResult()[0];
      }
      RankedTensorType type = it->second;
      int64_t numel = type.getNumElements();
      // Padded to size x ceil(numel / size).
      Value count = arith::ConstantIndexOp::create(b, loc, numel);
      Value block = arith::CeilDivUIOp::create(b, loc, count, size);
      Value padded = arith::MulIOp::create(b, loc, block, size);
      Value high = arith::SubIOp::create(b, loc, padded, count);
      auto flatType = RankedTensorType::get({ShapedType::kDynamic},
                                            type.getElementType());
      Value zero = arith::ConstantOp::create(
          b, loc, b.getZeroAttr(type.getElementType()));
      Value pad = tensor::PadOp::create(
          b, loc, flatType, flatten(b, loc, ret.getOperand(i)),
          ArrayRef<OpFoldResult>{b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{high}, zero);
      FailureOr<Value> shardGrad =
          reduceIn(b, loc, pad, reduceDtype, [&](Value x) -> Value {
            return shard::ReduceScatterOp::create(
                b, loc, x.getType(), gridRef(), b.getDenseI16ArrayAttr({0}), x,
                shard::ReductionKindAttr::get(ctx,
                                              shard::ReductionKind::Average),
                b.getIndexAttr(0));
          });
      if (failed(shardGrad))
        return failure();
      ret.setOperand(i, *shardGrad);
      f.setResultAttr(i, "vt.full_shape",
                      DenseI64ArrayAttr::get(ctx, type.getShape()));
    }
    f.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                ret.getOperandTypes()));
    reduceResultsOverRanks(f, grid, /*gradients=*/false);
    gatherInLowPrecision(body);
    prefetch(f, body);
    return success();
  }
};

} // namespace
} // namespace vitc
