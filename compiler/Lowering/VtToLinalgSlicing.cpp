//===- VtToLinalgSlicing.cpp - vt concat/slice/pad/tile/gather -> linalg --===//
//
// The data movement that cuts and assembles tensors: concat and pad as
// insert_slice into a filled tensor, slice as extract_slice (ONNX's
// clamping of bounds on dynamic dims computed at run time; negative steps
// as an index-computing generic), tile and gather as index-computing
// linalg.generics. The rest of data movement: VtToLinalgMovement.cpp.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/VtToLinalg.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;

namespace vitc {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// vt.concat, vt.slice, vt.pad, vt.tile, vt.gather
//===----------------------------------------------------------------------===//

static OpFoldResult addSizes(OpBuilder &b, Location loc, OpFoldResult x,
                             OpFoldResult y) {
  auto sx = getConstantIntValue(x), sy = getConstantIntValue(y);
  if (sx && sy)
    return b.getIndexAttr(*sx + *sy);
  return arith::AddIOp::create(b, loc, getValueOrCreateConstantIndexOp(b, loc, x),
                               getValueOrCreateConstantIndexOp(b, loc, y))
      .getResult();
}

/// tensor.empty of the result, then one insert_slice per input.
struct ConcatLowering : OpConversionPattern<vt::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ValueRange inputs = adaptor.getInputs();
    int64_t axis = op.getAxis();
    auto firstType = cast<RankedTensorType>(inputs[0].getType());
    int64_t rank = firstType.getRank();
    // Non-axis dims: the first static size among the inputs, else the
    // first input's (they must all match).
    SmallVector<OpFoldResult> sizes;
    for (int64_t d = 0; d < rank; ++d) {
      OpFoldResult size = tensor::getMixedSize(rewriter, loc, inputs[0], d);
      if (d == axis) {
        for (Value v : inputs.drop_front())
          size = addSizes(rewriter, loc, size,
                          tensor::getMixedSize(rewriter, loc, v, d));
      } else {
        for (Value v : inputs)
          if (auto t = cast<RankedTensorType>(v.getType()); !t.isDynamicDim(d)) {
            size = rewriter.getIndexAttr(t.getDimSize(d));
            break;
          }
      }
      sizes.push_back(size);
    }
    Value result = tensor::EmptyOp::create(rewriter, loc, sizes,
                                           firstType.getElementType());
    OpFoldResult offset = rewriter.getIndexAttr(0);
    for (Value v : inputs) {
      // An input with no elements adds nothing; its slice could start past
      // the end of the result, which insert_slice rejects.
      if (llvm::is_contained(cast<RankedTensorType>(v.getType()).getShape(), 0))
        continue;
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = offset;
      SmallVector<OpFoldResult> vSizes = tensor::getMixedSizes(rewriter, loc, v);
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, v, result, offsets,
                                             vSizes, strides);
      offset = addSizes(rewriter, loc, offset, vSizes[axis]);
    }
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// One dim of an ONNX slice: the first index read, the element count and
/// the step, with the bounds normalised and clamped (at run time for a
/// dynamic dim).
struct SliceDim {
  OpFoldResult first, count;
  int64_t step;
};

static SliceDim sliceDim(OpBuilder &b, Location loc, Value input, int64_t d,
                         int64_t start, int64_t end, int64_t step) {
  auto type = cast<RankedTensorType>(input.getType());
  // Clamp bounds: [0, dim] for positive steps, [-1, dim - 1] for negative.
  int64_t loOff = step > 0 ? 0 : -1, hiOff = step > 0 ? 0 : -1;
  if (!type.isDynamicDim(d)) {
    int64_t dim = type.getDimSize(d);
    auto norm = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return std::clamp<int64_t>(v, loOff, dim + hiOff);
    };
    int64_t s = norm(start), e = norm(end);
    int64_t n = step > 0 ? (e > s ? llvm::divideCeil(e - s, step) : 0)
                         : (s > e ? llvm::divideCeil(s - e, -step) : 0);
    return {b.getIndexAttr(s), b.getIndexAttr(n), step};
  }
  Value dim = tensor::DimOp::create(b, loc, input, d);
  auto norm = [&](int64_t v) -> Value {
    Value x = v < 0 ? (Value)arith::AddIOp::create(b, loc, dim, cstIndex(b, loc, v))
                    : cstIndex(b, loc, v);
    x = arith::MaxSIOp::create(b, loc, x, cstIndex(b, loc, loOff));
    Value hi = arith::AddIOp::create(b, loc, dim, cstIndex(b, loc, hiOff));
    return arith::MinSIOp::create(b, loc, x, hi);
  };
  Value s = norm(start), e = norm(end);
  Value span = step > 0 ? arith::SubIOp::create(b, loc, e, s)
                        : arith::SubIOp::create(b, loc, s, e);
  Value n = arith::CeilDivSIOp::create(b, loc, span,
                                       cstIndex(b, loc, std::abs(step)));
  n = arith::MaxSIOp::create(b, loc, n, cstIndex(b, loc, 0));
  return {s, n, step};
}

struct SliceLowering : OpConversionPattern<vt::SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    SmallVector<OpFoldResult> offsets, sizes, strides;
    SmallVector<SliceDim> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(sliceDim(rewriter, loc, input, d, op.getStarts()[d],
                              op.getEnds()[d], op.getSteps()[d]));
    // A result with no elements reads nothing: an empty tensor. (Its
    // extract_slice could start at the end of a dim, or slice a dim of 0,
    // which extract_slice rejects.)
    if (llvm::any_of(dims, [](const SliceDim &s) {
          return getConstantIntValue(s.count) == 0;
        })) {
      SmallVector<OpFoldResult> counts;
      for (const SliceDim &s : dims)
        counts.push_back(s.count);
      Value empty = tensor::EmptyOp::create(
          rewriter, loc, counts,
          cast<RankedTensorType>(input.getType()).getElementType());
      rewriter.replaceOp(op, castTo(rewriter, loc, empty, op.getType()));
      return success();
    }
    SmallVector<int64_t> reversed;
    for (int64_t d = 0; d < rank; ++d) {
      const SliceDim &s = dims[d];
      sizes.push_back(s.count);
      strides.push_back(rewriter.getIndexAttr(std::abs(s.step)));
      if (s.step > 0) {
        offsets.push_back(s.first);
        continue;
      }
      // Negative step: take the same elements in increasing order from the
      // last one read (first + (count - 1) * step), then reverse the dim.
      reversed.push_back(d);
      auto sf = getConstantIntValue(s.first), sc = getConstantIntValue(s.count);
      if (sf && sc) {
        offsets.push_back(
            rewriter.getIndexAttr(*sc == 0 ? 0 : *sf + (*sc - 1) * s.step));
        continue;
      }
      Value first = getValueOrCreateConstantIndexOp(rewriter, loc, s.first);
      Value count = getValueOrCreateConstantIndexOp(rewriter, loc, s.count);
      Value last = arith::AddIOp::create(
          rewriter, loc, first,
          arith::MulIOp::create(
              rewriter, loc,
              arith::SubIOp::create(rewriter, loc, count,
                                    cstIndex(rewriter, loc, 1)),
              cstIndex(rewriter, loc, s.step)));
      Value empty = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                          count, cstIndex(rewriter, loc, 0));
      offsets.push_back(arith::SelectOp::create(rewriter, loc, empty,
                                                cstIndex(rewriter, loc, 0), last)
                            .getResult());
    }
    Value result = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets,
                                                  sizes, strides);
    if (!reversed.empty()) {
      auto type = cast<RankedTensorType>(result.getType());
      Value sliced = result;
      result = buildIndexGeneric(
          rewriter, loc, type.getShape(), type.getElementType(),
          dynamicSizes(rewriter, loc, sizes),
          [&](OpBuilder &b, Location l, ArrayRef<Value> idx) -> Value {
            SmallVector<Value> at(idx);
            for (int64_t d : reversed) {
              Value last = arith::SubIOp::create(b, l, dimValue(b, l, sliced, d),
                                                 cstIndex(b, l, 1));
              at[d] = arith::SubIOp::create(b, l, last, idx[d]);
            }
            return tensor::ExtractOp::create(b, l, sliced, at);
          });
    }
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// Constant padding; negative pads crop first.
struct PadLowering : OpConversionPattern<vt::PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type elt = type.getElementType();
    if (!elt.isIntOrFloat())
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << elt;
    int64_t rank = type.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
      SmallVector<OpFoldResult> offsets, sizes,
          strides(rank, rewriter.getIndexAttr(1));
      for (int64_t d = 0; d < rank; ++d) {
        int64_t cropLo = std::max<int64_t>(0, -pads[d]);
        int64_t cropHi = std::max<int64_t>(0, -pads[d + rank]);
        offsets.push_back(rewriter.getIndexAttr(cropLo));
        OpFoldResult size = tensor::getMixedSize(rewriter, loc, input, d);
        sizes.push_back(addSizes(rewriter, loc, size,
                                 rewriter.getIndexAttr(-cropLo - cropHi)));
      }
      input = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets,
                                             sizes, strides);
    }
    SmallVector<OpFoldResult> low, high;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(rewriter.getIndexAttr(std::max<int64_t>(0, pads[d])));
      high.push_back(
          rewriter.getIndexAttr(std::max<int64_t>(0, pads[d + rank])));
    }
    Value value =
        isa<FloatType>(elt)
            ? scalarConstant(rewriter, loc, elt, op.getValue().convertToDouble())
            : scalarConstant(rewriter, loc, elt,
                             std::trunc(op.getValue().convertToDouble()));
    Value result = padTensor(rewriter, loc, input, low, high, value);
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// Output element i reads input element i mod dim, per dim.
struct TileLowering : OpConversionPattern<vt::TileOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::TileOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    ArrayRef<int64_t> reps = op.getRepeats();
    if (llvm::any_of(reps, [](int64_t r) { return r < 0; }))
      return op.emitOpError("repeats must be >= 0");
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        shape.push_back(type.getDimSize(d) * reps[d]);
        continue;
      }
      shape.push_back(kDyn);
      dyn.push_back(arith::MulIOp::create(rewriter, loc,
                                          dimValue(rewriter, loc, input, d),
                                          cstIndex(rewriter, loc, reps[d])));
    }
    Value result = buildIndexGeneric(
        rewriter, loc, shape, type.getElementType(), dyn,
        [&](OpBuilder &b, Location l, ArrayRef<Value> idx) -> Value {
          SmallVector<Value> at;
          for (int64_t d = 0; d < type.getRank(); ++d)
            at.push_back(reps[d] == 1 ? idx[d]
                                      : (Value)arith::RemUIOp::create(
                                            b, l, idx[d],
                                            dimValue(b, l, input, d)));
          return tensor::ExtractOp::create(b, l, input, at);
        });
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// ONNX Gather: the indices are read by the generic (negative ones wrap),
/// the input with tensor.extract at the gathered position.
struct GatherLowering : OpConversionPattern<vt::GatherOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto inType = cast<RankedTensorType>(input.getType());
    auto idxType = cast<RankedTensorType>(indices.getType());
    int64_t axis = op.getAxis(), q = idxType.getRank();
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    auto addDim = [&](Value v, int64_t d) {
      auto t = cast<RankedTensorType>(v.getType());
      shape.push_back(t.getDimSize(d));
      if (t.isDynamicDim(d))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, v, d));
    };
    for (int64_t d = 0; d < axis; ++d)
      addDim(input, d);
    for (int64_t d = 0; d < q; ++d)
      addDim(indices, d);
    for (int64_t d = axis + 1; d < inType.getRank(); ++d)
      addDim(input, d);
    int64_t rank = shape.size();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> idxExprs;
    for (int64_t d = 0; d < q; ++d)
      idxExprs.push_back(getAffineDimExpr(axis + d, ctx));
    Value init = emptyTensor(rewriter, loc, shape, inType.getElementType(), dyn);
    Value axisDim = dimValue(rewriter, loc, input, axis);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, init.getType(), indices, init,
        ArrayRef<AffineMap>{AffineMap::get(rank, 0, idxExprs, ctx),
                            AffineMap::getMultiDimIdentityMap(rank, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value i =
              arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value negative = arith::CmpIOp::create(
              b, l, arith::CmpIPredicate::slt, i, cstIndex(b, l, 0));
          i = arith::SelectOp::create(b, l, negative,
                                      arith::AddIOp::create(b, l, i, axisDim), i);
          SmallVector<Value> at;
          for (int64_t d = 0; d < axis; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          at.push_back(i);
          for (int64_t d = axis + q; d < rank; ++d)
            at.push_back(linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(b, l,
                                  tensor::ExtractOp::create(b, l, input, at)
                                      .getResult());
        });
    rewriter.replaceOp(op,
                       castTo(rewriter, loc, generic.getResult(0), op.getType()));
    return success();
  }
};

} // namespace

void populateVtSlicingToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConcatLowering, SliceLowering, PadLowering, TileLowering,
               GatherLowering>(patterns.getContext());
}

} // namespace vitc
