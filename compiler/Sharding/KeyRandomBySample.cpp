//===- KeyRandomBySample.cpp - dropout masks that do not depend on ranks --===//
//
// A dropout mask is vt.random_uniform over the activation's shape: element i
// of the batch's tensor takes the stream's i-th value. A data-parallel rank
// holds samples [s, s + b) of the global batch, so its element i is element
// s * (elements per sample) + i of the one-process tensor; giving each
// random_uniform that index as its `first` makes every sample's mask the one
// it gets in one process, whatever the number of ranks. The rank's s comes
// in as a new input of role "sample_offset" (the trainer binds it); the
// elements per sample are the mask's elements over the batch (dim 0 of the
// "data" input), computed in the step since both are dynamic.
//
//===----------------------------------------------------------------------===//
#include "compiler/Sharding/Passes.h"

#include "compiler/FunctionUtils.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace vitc {
#define GEN_PASS_DEF_KEYRANDOMBYSAMPLE
#include "compiler/Sharding/Passes.h.inc"

using namespace mlir;

namespace {

/// The input of `f` with vt.role `role`, or null.
BlockArgument argumentWithRole(func::FuncOp f, StringRef role) {
  for (unsigned i = 0; i < f.getNumArguments(); ++i)
    if (auto r = f.getArgAttrOfType<StringAttr>(i, "vt.role");
        r && r.getValue() == role)
      return f.getArgument(i);
  return {};
}

/// The elements of `op`'s result, as an i64 (dims from the shape operand
/// where dynamic).
Value elementCount(OpBuilder &b, vt::RandomUniformOp op) {
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  Value count;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    Value dim;
    if (type.isDynamicDim(d)) {
      Value pos = arith::ConstantIndexOp::create(b, loc, d);
      dim = tensor::ExtractOp::create(b, loc, op.getShape(), ValueRange{pos});
    } else {
      dim = arith::ConstantIntOp::create(b, loc, type.getDimSize(d), 64);
    }
    count = count ? arith::MulIOp::create(b, loc, count, dim).getResult() : dim;
  }
  return count ? count : arith::ConstantIntOp::create(b, loc, 1, 64);
}

struct KeyRandomBySamplePass
    : impl::KeyRandomBySampleBase<KeyRandomBySamplePass> {
  using Base::Base;

  void runOnOperation() override {
    auto funcs =
        selectFunctions(getOperation(), functions, "vitc-key-random-by-sample");
    if (failed(funcs))
      return signalPassFailure();
    for (func::FuncOp f : *funcs)
      if (failed(keyBySample(f)))
        return signalPassFailure();
  }

  LogicalResult keyBySample(func::FuncOp f) {
    SmallVector<vt::RandomUniformOp> randoms;
    f.walk([&](vt::RandomUniformOp op) {
      if (!op.getFirst())
        randoms.push_back(op);
    });
    if (randoms.empty())
      return success();
    BlockArgument data = argumentWithRole(f, "data");
    auto dataType =
        data ? dyn_cast<RankedTensorType>(data.getType()) : RankedTensorType();
    if (!dataType || dataType.getRank() == 0)
      return f.emitError("vitc-key-random-by-sample: @")
             << f.getSymName()
             << " draws random numbers but has no batched \"data\" input";

    MLIRContext *ctx = f.getContext();
    Builder attrs(ctx);
    auto scalar = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    unsigned index = f.getNumArguments();
    if (failed(f.insertArgument(index, scalar,
                                nameAndRole(attrs, "sample_offset",
                                            "sample_offset"),
                                NameLoc::get(attrs.getStringAttr(
                                    "sample_offset")))))
      return failure();
    Value offsetTensor = f.getArgument(index);

    // The batch and the offset, once, at the top of the function.
    OpBuilder b = OpBuilder::atBlockBegin(&f.getBody().front());
    Location loc = f.getLoc();
    Value batch = arith::IndexCastOp::create(
        b, loc, b.getI64Type(), tensor::DimOp::create(b, loc, data, 0));
    Value offset = tensor::ExtractOp::create(b, loc, offsetTensor, ValueRange{});

    for (vt::RandomUniformOp op : randoms) {
      b.setInsertionPoint(op);
      Location l = op.getLoc();
      // Elements per sample: every element belongs to one sample of the
      // batch (vision activations are batch-major).
      Value perSample =
          arith::DivSIOp::create(b, l, elementCount(b, op), batch);
      Value first = arith::MulIOp::create(b, l, offset, perSample);
      Value firstTensor =
          tensor::FromElementsOp::create(b, l, scalar, ValueRange{first});
      op.getFirstMutable().assign(firstTensor);
    }
    return success();
  }
};

} // namespace
} // namespace vitc
