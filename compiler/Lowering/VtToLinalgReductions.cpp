//===- VtToLinalgReductions.cpp - vt reductions -> linalg.generic ---------===//
//
// A reduction becomes a linalg.generic with reduction iterators into a
// linalg.fill'ed accumulator (the combiner's identity), written with the
// reduced dims dropped; keepdims re-inserts them with tensor.expand_shape,
// which is free after bufferization.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/VtToLinalg.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/AffineMap.h"

#include <cmath>

using namespace mlir;

namespace vitc {
namespace {

/// The identity of `kind` (Sum, Max or Min) for element type `t`: 0, -inf or
/// +inf (the extreme integers for integer tensors; false and true for bools).
static Value identityOf(OpBuilder &b, Location loc, Combiner kind, Type t) {
  if (kind == Combiner::Sum)
    return scalarConstant(b, loc, t, 0);
  bool lowest = kind == Combiner::Max;
  if (t.isInteger(1))
    return arith::ConstantOp::create(b, loc, b.getBoolAttr(!lowest));
  if (auto ft = dyn_cast<FloatType>(t))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(t, APFloat::getInf(ft.getFloatSemantics(), lowest)));
  unsigned w = t.getIntOrFloatBitWidth();
  APInt v = lowest ? APInt::getSignedMinValue(w) : APInt::getSignedMaxValue(w);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, v));
}

/// The loop structure shared by all reductions over `axes` of `input`:
/// the kept dims' shape and dynamic sizes, the accumulator's indexing map,
/// and the iterator types.
struct ReductionNest {
  SmallVector<int64_t> keptShape;
  SmallVector<Value> keptDynSizes;
  AffineMap inputMap, outputMap;
  SmallVector<utils::IteratorType> iterators;
};

static ReductionNest reductionNest(OpBuilder &b, Location loc, Value input,
                                   ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(input.getType());
  MLIRContext *ctx = b.getContext();
  ReductionNest nest;
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (llvm::is_contained(axes, d)) {
      nest.iterators.push_back(utils::IteratorType::reduction);
      continue;
    }
    nest.iterators.push_back(utils::IteratorType::parallel);
    nest.keptShape.push_back(type.getDimSize(d));
    if (type.isDynamicDim(d))
      nest.keptDynSizes.push_back(tensor::DimOp::create(b, loc, input, d));
    outExprs.push_back(getAffineDimExpr(d, ctx));
  }
  nest.inputMap = AffineMap::getMultiDimIdentityMap(type.getRank(), ctx);
  nest.outputMap = AffineMap::get(type.getRank(), 0, outExprs, ctx);
  return nest;
}

/// Re-inserts the reduced `axes` of `input` as unit dims of `reduced`.
static Value keepDims(OpBuilder &b, Location loc, Value reduced, Value input,
                      ArrayRef<int64_t> axes) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto redType = cast<RankedTensorType>(reduced.getType());
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> sizes;
  SmallVector<ReassociationIndices> groups;
  // Each kept dim opens a group; reduced dims join the group to their left
  // (or the first group, when they lead).
  int64_t pendingLeading = 0;
  for (int64_t d = 0; d < inType.getRank(); ++d) {
    bool isReduced = llvm::is_contained(axes, d);
    shape.push_back(isReduced ? 1 : inType.getDimSize(d));
    if (isReduced) {
      sizes.push_back(b.getIndexAttr(1));
      if (groups.empty())
        ++pendingLeading;
      else
        groups.back().push_back(d);
      continue;
    }
    sizes.push_back(tensor::getMixedSize(b, loc, input, d));
    ReassociationIndices group;
    for (int64_t p = 0; groups.empty() && p < pendingLeading; ++p)
      group.push_back(p);
    group.push_back(d);
    groups.push_back(group);
  }
  auto type = RankedTensorType::get(shape, redType.getElementType());
  return tensor::ExpandShapeOp::create(b, loc, type, reduced, groups, sizes);
}

/// The number of elements reduced, as a scalar of `eltType`.
static Value reducedCount(OpBuilder &b, Location loc, Value input,
                          ArrayRef<int64_t> axes, Type eltType) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t a : axes)
    count = arith::MulIOp::create(b, loc, count, dimValue(b, loc, input, a));
  Value i64 = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(eltType))
    return arith::SIToFPOp::create(b, loc, eltType, i64);
  if (eltType.getIntOrFloatBitWidth() < 64)
    return arith::TruncIOp::create(b, loc, eltType, i64);
  return i64;
}

template <typename OpTy, Combiner Kind, bool IsMean = false>
struct ReduceToGeneric : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    Type elt = inType.getElementType();
    // Bools reduce by max (any) and min (all) only.
    if (!elt.isIntOrFloat() ||
        (elt.isInteger(1) && (Kind == Combiner::Sum || IsMean)))
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << elt;
    ArrayRef<int64_t> axes = op.getAxes();
    if (axes.empty()) {
      rewriter.replaceOp(op, castTo(rewriter, loc, input, op.getType()));
      return success();
    }
    ReductionNest nest = reductionNest(rewriter, loc, input, axes);
    Value init = filledLike(
        rewriter, loc, RankedTensorType::get(nest.keptShape, elt),
        nest.keptDynSizes, identityOf(rewriter, loc, Kind, elt));
    Value reduced =
        linalg::GenericOp::create(
            rewriter, loc, init.getType(), input, init,
            ArrayRef<AffineMap>{nest.inputMap, nest.outputMap}, nest.iterators,
            [&](OpBuilder &b, Location nloc, ValueRange args) {
              linalg::YieldOp::create(
                  b, nloc, combineScalars(b, nloc, Kind, args[0], args[1]));
            })
            .getResult(0);
    if constexpr (IsMean) {
      Value count = reducedCount(rewriter, loc, input, axes, elt);
      reduced = buildElementwise(
          rewriter, loc, reduced, elt,
          [&](OpBuilder &b, Location nloc, ValueRange args) -> Value {
            if (isa<FloatType>(elt))
              return arith::DivFOp::create(b, nloc, args[0], count);
            return arith::DivSIOp::create(b, nloc, args[0], count);
          });
    }
    if (op.getKeepdims())
      reduced = keepDims(rewriter, loc, reduced, input, axes);
    rewriter.replaceOp(op, castTo(rewriter, loc, reduced, op.getType()));
    return success();
  }
};

/// argmax: a reduction into a (value, index) pair; a strictly greater
/// element replaces the running maximum, so ties keep the first index.
struct ArgMaxToGeneric : OpConversionPattern<vt::ArgMaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::ArgMaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    Type elt = inType.getElementType();
    int64_t axis = op.getAxis();
    if (axis < 0 || axis >= inType.getRank())
      return op.emitOpError("axis ") << axis << " out of range";
    if (!elt.isIntOrFloat() || elt.isInteger(1))
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << elt;
    int64_t axes[] = {axis};
    ReductionNest nest = reductionNest(rewriter, loc, input, axes);
    Type i64 = rewriter.getI64Type();
    Value values = filledLike(
        rewriter, loc, RankedTensorType::get(nest.keptShape, elt),
        nest.keptDynSizes, identityOf(rewriter, loc, Combiner::Max, elt));
    Value indices =
        filledLike(rewriter, loc, RankedTensorType::get(nest.keptShape, i64),
                   nest.keptDynSizes, scalarConstant(rewriter, loc, i64, 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{values.getType(), indices.getType()}, input,
        ValueRange{values, indices},
        ArrayRef<AffineMap>{nest.inputMap, nest.outputMap, nest.outputMap},
        nest.iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value x = args[0], best = args[1], bestIdx = args[2];
          Value idx = arith::IndexCastOp::create(
              b, nloc, i64, linalg::IndexOp::create(b, nloc, axis));
          Value greater =
              isa<FloatType>(elt)
                  ? (Value)arith::CmpFOp::create(
                        b, nloc, arith::CmpFPredicate::OGT, x, best)
                  : (Value)arith::CmpIOp::create(
                        b, nloc, arith::CmpIPredicate::sgt, x, best);
          linalg::YieldOp::create(
              b, nloc,
              ValueRange{
                  arith::SelectOp::create(b, nloc, greater, x, best),
                  arith::SelectOp::create(b, nloc, greater, idx, bestIdx)});
        });
    Value result = generic.getResult(1);
    if (op.getKeepdims())
      result = keepDims(rewriter, loc, result, input, axes);
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

} // namespace

Value combineScalars(OpBuilder &b, Location loc, Combiner kind, Value x,
                           Value y) {
  if (x.getType().isInteger(1)) // Bools are unsigned: max is "any", min "all".
    return kind == Combiner::Sum || kind == Combiner::Max
               ? (Value)arith::OrIOp::create(b, loc, x, y)
               : (Value)arith::AndIOp::create(b, loc, x, y);
  bool f = isa<FloatType>(x.getType());
  switch (kind) {
  case Combiner::Sum:
    return f ? (Value)arith::AddFOp::create(b, loc, x, y)
             : (Value)arith::AddIOp::create(b, loc, x, y);
  case Combiner::Mul:
    return f ? (Value)arith::MulFOp::create(b, loc, x, y)
             : (Value)arith::MulIOp::create(b, loc, x, y);
  // NaN propagates (maximumf/minimumf), as numpy's maximum/minimum.
  case Combiner::Max:
    return f ? (Value)arith::MaximumFOp::create(b, loc, x, y)
             : (Value)arith::MaxSIOp::create(b, loc, x, y);
  case Combiner::Min:
    return f ? (Value)arith::MinimumFOp::create(b, loc, x, y)
             : (Value)arith::MinSIOp::create(b, loc, x, y);
  }
  llvm_unreachable("unknown combiner");
}

void populateVtReductionToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceToGeneric<vt::ReduceSumOp, Combiner::Sum>,
               ReduceToGeneric<vt::ReduceMaxOp, Combiner::Max>,
               ReduceToGeneric<vt::ReduceMinOp, Combiner::Min>,
               ReduceToGeneric<vt::ReduceMeanOp, Combiner::Sum, true>,
               ArgMaxToGeneric>(patterns.getContext());
}

} // namespace vitc
