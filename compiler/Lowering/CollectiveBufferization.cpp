//===- CollectiveBufferization.cpp - collectives on buffers ---------------===//
//
// One-shot bufferization of the sharding stage's collectives. A
// `shard.all_reduce` on tensors becomes a fresh buffer holding a copy of its
// input and a call that reduces that buffer in place across the ranks:
//
//   func.func private @vitc_coll_all_reduce_<dtype>(memref<?x<dtype>>, i64)
//
// (the C symbol `_mlir_ciface_vitc_coll_all_reduce_<dtype>` of the runtime,
// which runs it on the job's communicator). The buffer is contiguous, so the
// call sees it flattened to one dimension; the i64 is the reduction
// (mlir::shard::ReductionKind's value). FSDP's one-dimensional
// `shard.all_gather` and `shard.reduce_scatter` become a fresh result
// buffer (the input's size times, or over, the world size, which
// `vitc_coll_world_size()` gives) and a call from input to result:
//
//   func.func private @vitc_coll_all_gather_<dtype>(memref<?xT>, memref<?xT>)
//   func.func private @vitc_coll_reduce_scatter_<dtype>(memref<?xT>,
//                                                       memref<?xT>, i64) The runtime, not the target, owns
// the collectives (MPI on CPU ranks, NCCL on GPUs), so this is part of the
// target-independent lowering.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/Passes.h"
#include "compiler/Lowering/RuntimeCollectives.h"

#include <type_traits>

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace vitc {

namespace {

/// The dtype suffix of the runtime's collectives; nullopt for others.
std::optional<StringRef> collectiveDtype(Type type) {
  if (type.isF32())
    return StringRef("f32");
  if (type.isBF16())
    return StringRef("bf16");
  if (type.isInteger(64))
    return StringRef("i64");
  return std::nullopt;
}

/// A collective on tensors reads its input and allocates its result: the
/// analysis facts the models share.
template <typename Model, typename Op>
struct CollectiveModelBase
    : BufferizableOpInterface::ExternalModel<Model, Op> {
  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }
  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }
  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }
  bool bufferizesToAllocation(Operation *, Value) const { return true; }
};

struct AllReduceModel
    : CollectiveModelBase<AllReduceModel, shard::AllReduceOp> {

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto reduce = cast<shard::AllReduceOp>(op);
    auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
        op, reduce.getGridAttr());
    if (!grid || grid.getRank() != 1)
      return op->emitOpError("runs on one-dimensional grids only (the "
                             "job's world)");
    auto tensorType = cast<RankedTensorType>(reduce.getResult().getType());
    std::optional<StringRef> dtype =
        collectiveDtype(tensorType.getElementType());
    if (!dtype)
      return op->emitOpError("has no runtime collective for element type ")
             << tensorType.getElementType();

    FailureOr<Value> input =
        getBuffer(rewriter, reduce.getInput(), options, state);
    if (failed(input))
      return failure();
    Location loc = op->getLoc();
    SmallVector<Value> dynSizes;
    for (int64_t d = 0; d < tensorType.getRank(); ++d)
      if (tensorType.isDynamicDim(d))
        dynSizes.push_back(memref::DimOp::create(rewriter, loc, *input, d));
    auto bufferType =
        MemRefType::get(tensorType.getShape(), tensorType.getElementType());
    FailureOr<Value> buffer =
        options.createAlloc(rewriter, loc, bufferType, dynSizes);
    if (failed(buffer))
      return failure();
    if (failed(options.createMemCpy(rewriter, loc, *input, *buffer)))
      return failure();

    // The call sees the buffer as one flat dimension.
    Value flat = *buffer;
    if (tensorType.getRank() == 0) {
      flat = memref::ExpandShapeOp::create(
          rewriter, loc, MemRefType::get({1}, tensorType.getElementType()),
          flat, ArrayRef<ReassociationIndices>{},
          ArrayRef<OpFoldResult>{rewriter.getIndexAttr(1)});
    } else if (tensorType.getRank() > 1) {
      ReassociationIndices all;
      for (int64_t d = 0; d < tensorType.getRank(); ++d)
        all.push_back(d);
      flat = memref::CollapseShapeOp::create(rewriter, loc, flat,
                                             ArrayRef<ReassociationIndices>{all});
    }
    auto dynFlat =
        MemRefType::get({ShapedType::kDynamic}, tensorType.getElementType());
    if (flat.getType() != dynFlat)
      flat = memref::CastOp::create(rewriter, loc, dynFlat, flat);
    func::FuncOp fn = declareRuntimeCollective(
        op->getParentOfType<ModuleOp>(),
        ("vitc_coll_all_reduce_" + *dtype).str(),
        rewriter.getFunctionType({dynFlat, rewriter.getI64Type()}, {}));
    Value kind = arith::ConstantIntOp::create(
        rewriter, loc, static_cast<int64_t>(reduce.getReduction()), 64);
    func::CallOp::create(rewriter, loc, fn, ValueRange{flat, kind});
    replaceOpWithBufferizedValues(rewriter, op, *buffer);
    return success();
  }
};

/// The job's world size as an index (a call to the runtime).
Value worldSize(RewriterBase &rewriter, Operation *from) {
  func::FuncOp fn = declareWorldSize(from->getParentOfType<ModuleOp>());
  Location loc = from->getLoc();
  Value size = func::CallOp::create(rewriter, loc, fn, ValueRange{})
                   .getResult(0);
  return arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                    size);
}

/// `value`'s buffer as a contiguous memref<?xT> (copied if it has another
/// layout).
FailureOr<Value> contiguousBuffer(RewriterBase &rewriter, Value value,
                                  const BufferizationOptions &options,
                                  BufferizationState &state) {
  FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
  if (failed(buffer))
    return failure();
  auto type = cast<MemRefType>(buffer->getType());
  auto flat = MemRefType::get({ShapedType::kDynamic}, type.getElementType());
  Location loc = value.getLoc();
  if (type.getLayout().isIdentity())
    return type == flat
               ? *buffer
               : memref::CastOp::create(rewriter, loc, flat, *buffer).getResult();
  Value size = memref::DimOp::create(rewriter, loc, *buffer, 0);
  FailureOr<Value> copy = options.createAlloc(rewriter, loc, flat, {size});
  if (failed(copy) ||
      failed(options.createMemCpy(rewriter, loc, *buffer, *copy)))
    return failure();
  return *copy;
}

/// Shared checks of FSDP's collectives: 1-D tensors of a runtime dtype,
/// axis 0 of a one-dimensional grid.
FailureOr<StringRef> checkFlatCollective(Operation *op, StringAttr gridName,
                                         Type resultType, APInt axis) {
  auto grid =
      SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridName);
  if (!grid || grid.getRank() != 1)
    return op->emitOpError("runs on one-dimensional grids only (the "
                           "job's world)");
  auto type = cast<RankedTensorType>(resultType);
  if (type.getRank() != 1 || !axis.isZero())
    return op->emitOpError("runs on one-dimensional tensors (axis 0) only");
  std::optional<StringRef> dtype = collectiveDtype(type.getElementType());
  if (!dtype || *dtype == "i64")
    return op->emitOpError("has no runtime collective for element type ")
           << type.getElementType();
  return *dtype;
}

/// all_gather and reduce_scatter: read the input, write a new result of the
/// input's size times (gather) or over (scatter) the world size, through a
/// call `vitc_coll_<name>_<dtype>(input, result[, reduction kind])`.
template <typename Op>
struct FlatCollectiveModel
    : CollectiveModelBase<FlatCollectiveModel<Op>, Op> {
  static constexpr bool kGather = std::is_same_v<Op, shard::AllGatherOp>;

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto collective = cast<Op>(op);
    APInt axis;
    if constexpr (kGather)
      axis = collective.getGatherAxis();
    else
      axis = collective.getScatterAxis();
    FailureOr<StringRef> dtype =
        checkFlatCollective(op, collective.getGridAttr().getAttr(),
                            collective.getResult().getType(), axis);
    if (failed(dtype))
      return failure();
    FailureOr<Value> input =
        contiguousBuffer(rewriter, collective.getInput(), options, state);
    if (failed(input))
      return failure();
    Location loc = op->getLoc();
    auto flat = cast<MemRefType>(input->getType());
    Value inputCount = memref::DimOp::create(rewriter, loc, *input, 0);
    Value size = worldSize(rewriter, op);
    Value count =
        kGather ? arith::MulIOp::create(rewriter, loc, inputCount, size)
                      .getResult()
                : arith::DivUIOp::create(rewriter, loc, inputCount, size)
                      .getResult();
    FailureOr<Value> result =
        options.createAlloc(rewriter, loc, flat, ValueRange{count});
    if (failed(result))
      return failure();
    SmallVector<Value> args{*input, *result};
    if constexpr (!kGather)
      args.push_back(arith::ConstantIntOp::create(
          rewriter, loc, static_cast<int64_t>(collective.getReduction()), 64));
    std::string name = (Twine("vitc_coll_") +
                        (kGather ? "all_gather_" : "reduce_scatter_") + *dtype)
                           .str();
    func::FuncOp fn = declareRuntimeCollective(
        op->getParentOfType<ModuleOp>(), name,
        rewriter.getFunctionType(ValueRange(args).getTypes(), {}));
    func::CallOp::create(rewriter, loc, fn, args);
    Value out = *result;
    auto resultType = cast<RankedTensorType>(collective.getResult().getType());
    auto want = MemRefType::get(resultType.getShape(), flat.getElementType());
    if (want != flat)
      out = memref::CastOp::create(rewriter, loc, want, out);
    replaceOpWithBufferizedValues(rewriter, op, out);
    return success();
  }
};

} // namespace

void registerCollectiveBufferizationModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, shard::ShardDialect *) {
    shard::AllReduceOp::attachInterface<AllReduceModel>(*ctx);
    shard::AllGatherOp::attachInterface<
        FlatCollectiveModel<shard::AllGatherOp>>(*ctx);
    shard::ReduceScatterOp::attachInterface<
        FlatCollectiveModel<shard::ReduceScatterOp>>(*ctx);
  });
}

} // namespace vitc
