//===- VtToLinalgMovement.cpp - vt data movement -> tensor / linalg -------===//
//
// Data movement lowers to the tensor ops bufferization turns into views
// (collapse/expand_shape, extract/insert_slice) where the shapes allow it,
// and to index-computing linalg.generics (gather, tile, broadcast, reversal)
// otherwise. This file: constants, shapes, ranges, transpose, reshape and
// expand; VtToLinalgSlicing.cpp: concat, slice, pad, tile and gather. ONNX's run-time shape rules (0 / -1 in reshape, clamping of
// slice bounds on dynamic dims) are evaluated in the generated code.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/VtToLinalg.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;

namespace vitc {

Value cstIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value buildIndexGeneric(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elt,
    ValueRange dynSizes,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  int64_t rank = shape.size();
  Value init = emptyTensor(b, loc, shape, elt, dynSizes);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{}, init,
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, b.getContext())},
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange) {
        SmallVector<Value> idx;
        for (int64_t d = 0; d < rank; ++d)
          idx.push_back(linalg::IndexOp::create(nb, nloc, d));
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, idx));
      });
  return generic.getResult(0);
}

SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc,
                                ArrayRef<OpFoldResult> sizes) {
  SmallVector<Value> dyn;
  for (OpFoldResult s : sizes)
    if (!getConstantIntValue(s))
      dyn.push_back(getValueOrCreateConstantIndexOp(b, loc, s));
  return dyn;
}

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// vt.constant, vt.shape_of, vt.range
//===----------------------------------------------------------------------===//

/// Weights stay dense_resource attributes: bufferization makes them
/// memref.globals, which vitc-externalize-weights moves into the artifact.
struct ConstantLowering : OpConversionPattern<vt::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::ConstantOp op, OpAdaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value || value.getType() != op.getType())
      return op.emitOpError("cannot lower to linalg: value is not a typed "
                            "attribute of the result type");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

struct ShapeOfLowering : OpConversionPattern<vt::ShapeOfOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::ShapeOfOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
    auto type = RankedTensorType::get({rank}, rewriter.getI64Type());
    if (rank == 0) {
      rewriter.replaceOpWithNewOp<arith::ConstantOp>(
          op, DenseElementsAttr::get(type, ArrayRef<APInt>{}));
      return success();
    }
    SmallVector<Value> dims;
    for (int64_t d = 0; d < rank; ++d)
      dims.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getI64Type(), dimValue(rewriter, loc, input, d)));
    Value shape = tensor::FromElementsOp::create(rewriter, loc, type, dims);
    rewriter.replaceOp(op, castTo(rewriter, loc, shape, op.getType()));
    return success();
  }
};

/// The single element of a scalar-like tensor (rank 0, or all dims 1).
static Value extractScalar(OpBuilder &b, Location loc, Value t) {
  int64_t rank = cast<RankedTensorType>(t.getType()).getRank();
  SmallVector<Value> zeros(rank, cstIndex(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, t, zeros);
}

struct RangeLowering : OpConversionPattern<vt::RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    Type elt = type.getElementType();
    if (type.getRank() != 1 || !elt.isIntOrFloat() || elt.isInteger(1))
      return op.emitOpError("cannot lower to linalg: expected a 1-D int or "
                            "float result");
    Value start = extractScalar(rewriter, loc, adaptor.getStart());
    Value limit = extractScalar(rewriter, loc, adaptor.getLimit());
    Value delta = extractScalar(rewriter, loc, adaptor.getDelta());
    bool isFloat = isa<FloatType>(elt);
    SmallVector<Value> dyn;
    if (type.isDynamicDim(0)) {
      // max(ceil((limit - start) / delta), 0)
      Value n;
      if (isFloat) {
        Value q = arith::DivFOp::create(
            rewriter, loc, arith::SubFOp::create(rewriter, loc, limit, start),
            delta);
        n = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                    math::CeilOp::create(rewriter, loc, q));
      } else {
        n = arith::CeilDivSIOp::create(
            rewriter, loc, arith::SubIOp::create(rewriter, loc, limit, start),
            delta);
      }
      n = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(), n);
      dyn.push_back(arith::MaxSIOp::create(rewriter, loc, n,
                                           cstIndex(rewriter, loc, 0)));
    }
    Value result = buildIndexGeneric(
        rewriter, loc, type.getShape(), elt, dyn,
        [&](OpBuilder &b, Location l, ArrayRef<Value> idx) -> Value {
          Value i = arith::IndexCastOp::create(b, l, b.getI64Type(), idx[0]);
          if (isFloat) {
            Value fi = arith::SIToFPOp::create(b, l, elt, i);
            return arith::AddFOp::create(
                b, l, start, arith::MulFOp::create(b, l, fi, delta));
          }
          if (elt.getIntOrFloatBitWidth() != 64)
            i = arith::TruncIOp::create(b, l, elt, i);
          return arith::AddIOp::create(b, l, start,
                                       arith::MulIOp::create(b, l, i, delta));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// vt.transpose, vt.reshape, vt.expand
//===----------------------------------------------------------------------===//

struct TransposeLowering : OpConversionPattern<vt::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> shape;
    SmallVector<Value> dyn;
    for (int64_t p : op.getPerm()) {
      shape.push_back(inType.getDimSize(p));
      if (inType.isDynamicDim(p))
        dyn.push_back(tensor::DimOp::create(rewriter, loc, input, p));
    }
    Value init = emptyTensor(rewriter, loc, shape, inType.getElementType(), dyn);
    Value result =
        linalg::TransposeOp::create(rewriter, loc, input, init, op.getPerm())
            .getResult()[0];
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

static int64_t countDynamic(RankedTensorType t) {
  return llvm::count(t.getShape(), kDyn);
}

/// Groups the dims of `big` into those of `small` when the reshape is a pure
/// collapse (or, read backwards, expand). Only attempted with at most one
/// dynamic dim per side: the element count then pins it down, so a group
/// whose static sizes match is provably right.
static std::optional<SmallVector<ReassociationIndices>>
staticGrouping(RankedTensorType big, RankedTensorType small) {
  if (countDynamic(big) > 1 || countDynamic(small) > 1 ||
      countDynamic(big) != countDynamic(small))
    return std::nullopt;
  if (small.getRank() == 0) {
    // To or from a scalar: every dim must be a static 1.
    if (llvm::any_of(big.getShape(), [](int64_t d) { return d != 1; }))
      return std::nullopt;
    return SmallVector<ReassociationIndices>{};
  }
  auto groups = getReassociationIndicesForReshape(big, small);
  if (!groups || groups->size() != (size_t)small.getRank())
    return std::nullopt;
  for (auto [i, group] : llvm::enumerate(*groups)) {
    int64_t product = 1;
    bool dynamic = false;
    for (int64_t d : group) {
      if (big.isDynamicDim(d))
        dynamic = true;
      else
        product *= big.getDimSize(d);
    }
    if (small.isDynamicDim(i) != dynamic)
      return std::nullopt;
    if (!dynamic && product != small.getDimSize(i))
      return std::nullopt;
  }
  return groups;
}

struct ReshapeLowering : OpConversionPattern<vt::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inType = cast<RankedTensorType>(input.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (inType.getShape() == outType.getShape() && countDynamic(inType) <= 1) {
      rewriter.replaceOp(op, input);
      return success();
    }
    if (inType.getRank() > outType.getRank()) {
      if (auto groups = staticGrouping(inType, outType)) {
        rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, outType, input,
                                                             *groups);
        return success();
      }
    } else if (inType.getRank() < outType.getRank()) {
      if (auto groups = staticGrouping(outType, inType)) {
        // The dynamic result dim is its input dim over the static rest.
        SmallVector<OpFoldResult> sizes;
        if (groups->empty())
          sizes.assign(outType.getRank(), rewriter.getIndexAttr(1));
        for (auto [i, group] : llvm::enumerate(*groups)) {
          int64_t staticPart = 1;
          for (int64_t d : group)
            if (!outType.isDynamicDim(d))
              staticPart *= outType.getDimSize(d);
          for (int64_t d : group) {
            if (!outType.isDynamicDim(d)) {
              sizes.push_back(rewriter.getIndexAttr(outType.getDimSize(d)));
              continue;
            }
            sizes.push_back(
                arith::DivSIOp::create(rewriter, loc,
                                       dimValue(rewriter, loc, input, i),
                                       cstIndex(rewriter, loc, staticPart))
                    .getResult());
          }
        }
        rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, outType, input,
                                                           *groups, sizes);
        return success();
      }
    }
    rewriter.replaceOp(op, runtimeReshape(rewriter, loc, input,
                                          adaptor.getShape(), outType));
    return success();
  }

  /// tensor.reshape to the dims in `shape`, resolved with ONNX rules at run
  /// time: 0 copies the input dim, -1 takes the remaining element count.
  /// Dims static in the result type are used as they are.
  static Value runtimeReshape(OpBuilder &b, Location loc, Value input,
                              Value shape, RankedTensorType outType) {
    auto inType = cast<RankedTensorType>(input.getType());
    int64_t rank = outType.getRank();
    SmallVector<Value> raw(rank), resolved(rank);
    Value known = cstIndex(b, loc, 1);
    Value one = cstIndex(b, loc, 1);
    for (int64_t i = 0; i < rank; ++i) {
      if (!outType.isDynamicDim(i)) {
        resolved[i] = cstIndex(b, loc, outType.getDimSize(i));
        known = arith::MulIOp::create(b, loc, known, resolved[i]);
        continue;
      }
      Value s = tensor::ExtractOp::create(b, loc, shape,
                                          ValueRange{cstIndex(b, loc, i)});
      s = arith::IndexCastOp::create(b, loc, b.getIndexType(), s);
      raw[i] = s;
      Value v = s;
      if (i < inType.getRank()) {
        Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             s, cstIndex(b, loc, 0));
        v = arith::SelectOp::create(b, loc, isZero, dimValue(b, loc, input, i),
                                    s);
      }
      resolved[i] = v;
      Value isInferred = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq, s, cstIndex(b, loc, -1));
      known = arith::MulIOp::create(
          b, loc, known, arith::SelectOp::create(b, loc, isInferred, one, v));
    }
    Value numel = cstIndex(b, loc, 1);
    for (int64_t d = 0; d < inType.getRank(); ++d)
      numel = arith::MulIOp::create(b, loc, numel, dimValue(b, loc, input, d));
    Value inferred = arith::DivSIOp::create(b, loc, numel, known);
    for (int64_t i = 0; i < rank; ++i) {
      if (!raw[i])
        continue;
      Value isInferred = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::eq, raw[i], cstIndex(b, loc, -1));
      resolved[i] =
          arith::SelectOp::create(b, loc, isInferred, inferred, resolved[i]);
    }
    Value dims = tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({rank}, b.getIndexType()), resolved);
    return tensor::ReshapeOp::create(b, loc, outType, input, dims);
  }
};

/// Bidirectional broadcast: result dim = the shape entry, or the input dim
/// where the shape entry is 1.
struct ExpandLowering : OpConversionPattern<vt::ExpandOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(vt::ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), shape = adaptor.getShape();
    auto inType = cast<RankedTensorType>(input.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    auto shapeType = cast<RankedTensorType>(shape.getType());
    int64_t rank = outType.getRank();
    if (shapeType.isDynamicDim(0) && inType.getRank() < rank)
      return op.emitOpError("cannot lower to linalg: shape length unknown");
    int64_t shapeLen =
        shapeType.isDynamicDim(0) ? rank : shapeType.getDimSize(0);
    SmallVector<Value> dyn;
    for (int64_t d = 0; d < rank; ++d) {
      if (!outType.isDynamicDim(d))
        continue;
      int64_t sd = d - (rank - shapeLen), id = d - (rank - inType.getRank());
      Value s = sd >= 0 ? arith::IndexCastOp::create(
                              rewriter, loc, rewriter.getIndexType(),
                              tensor::ExtractOp::create(
                                  rewriter, loc, shape,
                                  ValueRange{cstIndex(rewriter, loc, sd)}))
                              .getResult()
                        : cstIndex(rewriter, loc, 1);
      if (id < 0) {
        dyn.push_back(s);
        continue;
      }
      Value in = dimValue(rewriter, loc, input, id);
      Value sIsOne = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, s, cstIndex(rewriter, loc, 1));
      dyn.push_back(arith::SelectOp::create(rewriter, loc, sIsOne, in, s));
    }
    rewriter.replaceOp(
        op, buildBroadcast(rewriter, loc, input, outType.getShape(), dyn));
    return success();
  }
};

} // namespace

void populateVtMovementToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantLowering, ShapeOfLowering, RangeLowering,
               TransposeLowering, ReshapeLowering, ExpandLowering>(
      patterns.getContext());
}

} // namespace vitc
