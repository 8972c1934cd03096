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
// (mlir::shard::ReductionKind's value). The runtime, not the target, owns
// the collectives (MPI on CPU ranks, NCCL on GPUs), so this is part of the
// target-independent lowering.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/Passes.h"

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

/// `func.func private @name(memref<?xT>, i64)`, declared once per module.
func::FuncOp declareCollective(Operation *from, StringRef name,
                               MemRefType flat) {
  auto module = from->getParentOfType<ModuleOp>();
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto type = b.getFunctionType({flat, b.getI64Type()}, {});
  auto fn = func::FuncOp::create(b, module.getLoc(), name, type);
  fn.setPrivate();
  // The C symbol takes memref descriptors: _mlir_ciface_<name>.
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  // It never retains its argument (vitc-plan-memory relies on it).
  fn->setAttr("vitc.library_kernel", b.getUnitAttr());
  return fn;
}

struct AllReduceModel
    : BufferizableOpInterface::ExternalModel<AllReduceModel,
                                             shard::AllReduceOp> {
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
    func::FuncOp fn = declareCollective(
        op, ("vitc_coll_all_reduce_" + *dtype).str(), dynFlat);
    Value kind = arith::ConstantIntOp::create(
        rewriter, loc, static_cast<int64_t>(reduce.getReduction()), 64);
    func::CallOp::create(rewriter, loc, fn, ValueRange{flat, kind});
    replaceOpWithBufferizedValues(rewriter, op, *buffer);
    return success();
  }
};

} // namespace

void registerCollectiveBufferizationModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, shard::ShardDialect *) {
    shard::AllReduceOp::attachInterface<AllReduceModel>(*ctx);
  });
}

} // namespace vitc
