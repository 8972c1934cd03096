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
// once right before its first forward use, and again right before its first
// backward use, so that no gathered parameter lives from the forward pass
// into the backward pass: it is freed after its last forward use and
// gathered again when the backward pass needs it. A gradient is flattened,
// zero-padded to size x block and reduce-scattered (averaged), so each rank
// holds its block of the global gradient; vt-apply-optimizer then updates
// each rank's shards of the params and the optimizer state (the state takes
// its param's shape, so it is sharded alike), all-reducing the gradient
// norm's partial sums. The loss, hits and buffers are reduced as under DDP.
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"
#include "compiler/Sharding/DataParallelUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

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

/// All the dims of a rank-`rank` tensor in one group.
SmallVector<ReassociationIndices> allDims(int64_t rank) {
  if (rank == 0)
    return {};
  ReassociationIndices all;
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  return {all};
}

/// `x` (static shape) as a tensor<numel x T>.
Value flatten(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  auto flat = RankedTensorType::get({type.getNumElements()},
                                    type.getElementType());
  if (type.getRank() == 1)
    return x;
  if (type.getRank() == 0)
    return tensor::ExpandShapeOp::create(b, loc, flat, x, allDims(0),
                                         ArrayRef<OpFoldResult>{
                                             b.getIndexAttr(1)});
  return tensor::CollapseShapeOp::create(b, loc, flat, x,
                                         allDims(type.getRank()));
}

/// The flat tensor<numel x T> `flat` as `type`.
Value unflatten(OpBuilder &b, Location loc, Value flat,
                RankedTensorType type) {
  if (type.getRank() == 1)
    return flat;
  if (type.getRank() == 0)
    return tensor::CollapseShapeOp::create(b, loc, type, flat, allDims(0));
  SmallVector<OpFoldResult> dims;
  for (int64_t d : type.getShape())
    dims.push_back(b.getIndexAttr(d));
  return tensor::ExpandShapeOp::create(b, loc, type, flat,
                                       allDims(type.getRank()), dims);
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

      // Its uses before and after the end of the forward pass.
      SmallVector<OpOperand *> forward, backward;
      for (OpOperand &use : p.getUses()) {
        Operation *user = inEntryBlock(f, use.getOwner());
        bool isBackward = forwardEnd && forwardEnd->isBeforeInBlock(user);
        (isBackward ? backward : forward).push_back(&use);
      }
      p.setType(RankedTensorType::get({ShapedType::kDynamic},
                                      type.getElementType()));
      f.setArgAttr(i, "vt.full_shape",
                   DenseI64ArrayAttr::get(ctx, type.getShape()));
      for (ArrayRef<OpOperand *> uses : {ArrayRef(forward), ArrayRef(backward)}) {
        if (uses.empty())
          continue;
        Operation *first = inEntryBlock(f, uses.front()->getOwner());
        for (OpOperand *use : uses)
          if (Operation *user = inEntryBlock(f, use->getOwner());
              user->isBeforeInBlock(first))
            first = user;
        Value whole = gather(b, first, p, type);
        for (OpOperand *use : uses)
          use->set(whole);
      }
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
      b.setInsertionPoint(ret);
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
      Value shardGrad = shard::ReduceScatterOp::create(
          b, loc, flatType, gridRef(), b.getDenseI16ArrayAttr({0}), pad,
          shard::ReductionKindAttr::get(ctx, shard::ReductionKind::Average),
          b.getIndexAttr(0));
      ret.setOperand(i, shardGrad);
      f.setResultAttr(i, "vt.full_shape",
                      DenseI64ArrayAttr::get(ctx, type.getShape()));
    }
    f.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                ret.getOperandTypes()));
    reduceResultsOverRanks(f, grid, /*gradients=*/false);
    return success();
  }
};

} // namespace
} // namespace vitc
