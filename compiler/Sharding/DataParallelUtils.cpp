//===- DataParallelUtils.cpp - what DDP and FSDP partitions share ---------===//
#include "compiler/Sharding/DataParallelUtils.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/SymbolTable.h"

#include <optional>

namespace vitc {

using namespace mlir;

LogicalResult getOrCreateDataParallelGrid(ModuleOp module, StringRef name,
                                          StringRef pass) {
  if (Operation *existing = SymbolTable::lookupSymbolIn(module, name)) {
    auto dp = dyn_cast<shard::GridOp>(existing);
    if (!dp || dp.getRank() != 1)
      return existing->emitError(pass)
             << ": @" << name << " must be a one-dimensional shard.grid";
    return success();
  }
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  shard::GridOp::create(b, module.getLoc(), name,
                        ArrayRef<int64_t>{ShapedType::kDynamic});
  return success();
}

/// How result `i` of `f` becomes global, or nullopt to leave it.
static std::optional<shard::ReductionKind> reductionOf(func::FuncOp f,
                                                       unsigned i,
                                                       bool gradients) {
  auto name = f.getResultAttrOfType<StringAttr>(i, "vt.name");
  if (f.getResultAttr(i, "vt.updates"))
    return isa<FloatType>(getElementTypeOrSelf(f.getResultTypes()[i]))
               ? shard::ReductionKind::Average
               : shard::ReductionKind::Max;
  if (!name)
    return std::nullopt;
  if (name.getValue() == "correct")
    return shard::ReductionKind::Sum;
  if (name.getValue() == "loss" ||
      (gradients && name.getValue().starts_with("grad_")))
    return shard::ReductionKind::Average;
  return std::nullopt;
}

void reduceResultsOverRanks(func::FuncOp f, StringRef grid, bool gradients) {
  auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
  OpBuilder b(ret);
  for (unsigned i = 0, e = ret.getNumOperands(); i < e; ++i) {
    std::optional<shard::ReductionKind> kind = reductionOf(f, i, gradients);
    if (!kind)
      continue;
    Value value = ret.getOperand(i);
    // Right where the value is computed: a gradient's reduction then runs
    // while the rest of the backward pass computes.
    b.setInsertionPointAfterValue(value);
    auto reduced = shard::AllReduceOp::create(
        b, value.getLoc(), value, grid, ArrayRef<shard::GridAxis>{0}, *kind);
    ret.setOperand(i, reduced.getResult());
  }
}

/// All the dims of a rank-`rank` tensor in one group.
static SmallVector<ReassociationIndices> allDims(int64_t rank) {
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

FailureOr<Value> reduceIn(OpBuilder &b, Location loc, Value x, StringRef dtype,
                          function_ref<Value(Value)> reduce) {
  if (dtype == "f32")
    return reduce(x);
  if (dtype != "bf16")
    return emitError(loc, "reduce-dtype=") << dtype
                                           << ": expected f32 or bf16";
  auto type = cast<RankedTensorType>(x.getType());
  Value narrow =
      vt::CastOp::create(b, loc, type.clone(b.getBF16Type()), x);
  Value reduced = reduce(narrow);
  return vt::CastOp::create(
             b, loc, cast<RankedTensorType>(reduced.getType())
                         .clone(type.getElementType()),
             reduced)
      .getResult();
}

} // namespace vitc
