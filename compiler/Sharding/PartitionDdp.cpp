//===- PartitionDdp.cpp - data-parallel training step ---------------------===//
//
// DDP needs no change to the forward or backward graph: each rank computes
// on its slice of the batch, and only what leaves the step must agree
// across ranks. So the partition is a rewrite of the returned values: each
// updated buffer and metric goes through a shard.all_reduce on the
// data-parallel grid right where it is computed, and the gradients through
// buckets, as PyTorch's DDP reduces them: in the order the backward pass
// produces them, consecutive gradients of one element type are flattened
// into one buffer of about `bucket-mb` megabytes, reduced by one collective
// right after its last gradient is computed (so it runs while the backward
// pass goes on, vitc-overlap-collectives), then sliced back. Fewer, larger
// collectives cost less latency than one per small gradient (a bias).
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"
#include "compiler/Sharding/DataParallelUtils.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace vitc {
#define GEN_PASS_DEF_PARTITIONDDP
#include "compiler/Sharding/Passes.h.inc"

using namespace mlir;

namespace {

struct PartitionDdpPass : impl::PartitionDdpBase<PartitionDdpPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto funcs = selectFunctions(module, functions, "vitc-partition-ddp");
    if (failed(funcs))
      return signalPassFailure();

    if (failed(getOrCreateDataParallelGrid(module, grid,
                                           "vitc-partition-ddp")))
      return signalPassFailure();
    for (func::FuncOp f : *funcs) {
      if (failed(reduceGradientsInBuckets(f)))
        return signalPassFailure();
      reduceResultsOverRanks(f, grid, /*gradients=*/false);
    }
  }

  /// The gradients (results `grad_<param>` of static shape), bucketed.
  LogicalResult reduceGradientsInBuckets(func::FuncOp f) {
    Block &body = f.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    // Result indices of the gradients, in the order they are computed.
    SmallVector<unsigned> grads;
    for (unsigned i = 0; i < ret.getNumOperands(); ++i) {
      auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
      auto type = dyn_cast<RankedTensorType>(ret.getOperand(i).getType());
      if (name && name.getValue().starts_with("grad_") && type &&
          type.hasStaticShape() && isa<FloatType>(type.getElementType()))
        grads.push_back(i);
    }
    auto definedAt = [&](unsigned i) -> Operation * {
      Value v = ret.getOperand(i);
      return v.getDefiningOp() ? body.findAncestorOpInBlock(*v.getDefiningOp())
                               : nullptr; // an argument: before everything
    };
    llvm::stable_sort(grads, [&](unsigned a, unsigned b) {
      Operation *x = definedAt(a), *y = definedAt(b);
      return x != y && (!x || (y && x->isBeforeInBlock(y)));
    });
    int64_t limit = static_cast<int64_t>(bucketMb * 1024 * 1024);
    SmallVector<unsigned> bucket;
    int64_t bytes = 0;
    Type elementType;
    bool ok = true;
    auto flush = [&] {
      if (!bucket.empty())
        ok &= succeeded(reduceBucket(f, ret, bucket, definedAt));
      bucket.clear();
      bytes = 0;
    };
    for (unsigned i : grads) {
      auto type = cast<RankedTensorType>(ret.getOperand(i).getType());
      if (!bucket.empty() && type.getElementType() != elementType)
        flush();
      elementType = type.getElementType();
      bucket.push_back(i);
      bytes += type.getNumElements() *
               static_cast<int64_t>(type.getElementTypeBitWidth() / 8);
      if (bytes >= limit)
        flush();
    }
    flush();
    return success(ok);
  }

  /// One all-reduce (average) for the gradients `bucket` of `f`, right after
  /// the last of them is computed.
  LogicalResult reduceBucket(func::FuncOp f, func::ReturnOp ret,
                    ArrayRef<unsigned> bucket,
                    llvm::function_ref<Operation *(unsigned)> definedAt) {
    OpBuilder b(f.getContext());
    Operation *last = definedAt(bucket.back());
    if (last)
      b.setInsertionPointAfter(last);
    else
      b.setInsertionPointToStart(&f.getBody().front());
    Location loc = ret.getOperand(bucket.back()).getLoc();
    auto reduce = [&](Value v) -> FailureOr<Value> {
      return reduceIn(b, loc, v, reduceDtype, [&](Value x) -> Value {
        return shard::AllReduceOp::create(b, loc, x, grid,
                                          ArrayRef<shard::GridAxis>{0},
                                          shard::ReductionKind::Average)
            .getResult();
      });
    };
    if (bucket.size() == 1) {
      FailureOr<Value> r = reduce(ret.getOperand(bucket[0]));
      if (failed(r))
        return failure();
      ret.setOperand(bucket[0], *r);
      return success();
    }
    SmallVector<Value> flats;
    for (unsigned i : bucket)
      flats.push_back(flatten(b, loc, ret.getOperand(i)));
    FailureOr<Value> reduced =
        reduce(tensor::ConcatOp::create(b, loc, /*dim=*/0, flats));
    if (failed(reduced))
      return failure();
    Value all = *reduced;
    int64_t offset = 0;
    for (unsigned i : bucket) {
      auto type = cast<RankedTensorType>(ret.getOperand(i).getType());
      int64_t numel = type.getNumElements();
      Value slice = tensor::ExtractSliceOp::create(
          b, loc, RankedTensorType::get({numel}, type.getElementType()), all,
          ArrayRef<OpFoldResult>{b.getIndexAttr(offset)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(numel)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
      ret.setOperand(i, unflatten(b, loc, slice, type));
      offset += numel;
    }
    return success();
  }
};

} // namespace
} // namespace vitc
