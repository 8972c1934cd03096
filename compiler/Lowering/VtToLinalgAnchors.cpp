//===- VtToLinalgAnchors.cpp - matmul, conv2d, pools -> linalg named ops --===//
//
// Anchors lower to exactly the linalg named ops that vitc-linalg-to-library
// matches after bufferization: linalg.matmul, linalg.batch_matmul,
// linalg.conv_2d_nchw_fchw / conv_2d_ngchw_gfchw, linalg.pooling_nchw_max /
// pooling_nchw_sum. Padding is a separate tensor.pad and bias / averaging are
// separate elementwise generics, so the named ops stay plain.
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

/// Collapses away the unit dims `unitDims` of `v` (each joins its left
/// neighbour's group, or the first group when it leads).
static Value dropUnitDims(OpBuilder &b, Location loc, Value v,
                          ArrayRef<int64_t> unitDims) {
  if (unitDims.empty())
    return v;
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<ReassociationIndices> groups;
  SmallVector<int64_t> shape;
  int64_t leading = 0;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (llvm::is_contained(unitDims, d)) {
      if (groups.empty())
        ++leading;
      else
        groups.back().push_back(d);
      continue;
    }
    ReassociationIndices group;
    for (int64_t p = 0; groups.empty() && p < leading; ++p)
      group.push_back(p);
    group.push_back(d);
    groups.push_back(group);
    shape.push_back(type.getDimSize(d));
  }
  return tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v, groups);
}

/// Collapses dims [0, n) of `v` into one.
static Value collapseLeading(OpBuilder &b, Location loc, Value v, int64_t n) {
  auto type = cast<RankedTensorType>(v.getType());
  if (n == 1)
    return v;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t d = 0; d < n; ++d)
    groups[0].push_back(d);
  for (int64_t d = n; d < type.getRank(); ++d)
    groups.push_back({d});
  return tensor::CollapseShapeOp::create(b, loc, v, groups);
}

/// Expands dim 0 of `v` into dims of `sizes` (the other dims stay).
static Value expandLeading(OpBuilder &b, Location loc, Value v,
                           ArrayRef<OpFoldResult> leadingSizes) {
  auto type = cast<RankedTensorType>(v.getType());
  if (leadingSizes.size() == 1)
    return v;
  SmallVector<ReassociationIndices> groups(1);
  SmallVector<OpFoldResult> sizes(leadingSizes);
  SmallVector<int64_t> shape;
  for (OpFoldResult s : leadingSizes) {
    groups[0].push_back(shape.size());
    shape.push_back(getConstantIntValue(s).value_or(kDyn));
  }
  for (int64_t d = 1; d < type.getRank(); ++d) {
    groups.push_back({(int64_t)shape.size()});
    shape.push_back(type.getDimSize(d));
    sizes.push_back(tensor::getMixedSize(b, loc, v, d));
  }
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get(shape, type.getElementType()), v, groups,
      sizes);
}

/// A zero-filled accumulator of `shape` (OpFoldResults) and `elt`.
static Value zeroAccumulator(OpBuilder &b, Location loc,
                             ArrayRef<OpFoldResult> shape, Type elt) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, elt);
  return linalg::FillOp::create(b, loc, scalarConstant(b, loc, elt, 0), empty)
      .getResult(0);
}

} // namespace

bool swapsLastTwoDims(ArrayRef<int64_t> perm) {
  int64_t n = perm.size();
  if (n < 2 || perm[n - 1] != n - 2 || perm[n - 2] != n - 1)
    return false;
  for (int64_t i = 0; i < n - 2; ++i)
    if (perm[i] != i)
      return false;
  return true;
}

ArrayAttr transposedBMatmulMaps(MLIRContext *ctx, bool batched) {
  AffineExpr bt, m, n, k;
  SmallVector<AffineMap> maps;
  if (batched) {
    bindDims(ctx, bt, m, n, k);
    maps = {AffineMap::get(4, 0, {bt, m, k}, ctx),
            AffineMap::get(4, 0, {bt, n, k}, ctx),
            AffineMap::get(4, 0, {bt, m, n}, ctx)};
  } else {
    bindDims(ctx, m, n, k);
    maps = {AffineMap::get(3, 0, {m, k}, ctx), AffineMap::get(3, 0, {n, k}, ctx),
            AffineMap::get(3, 0, {m, n}, ctx)};
  }
  return Builder(ctx).getAffineMapArrayAttr(maps);
}

namespace {

/// numpy matmul. `[..., N, K] x [K, M]` is one 2-D matmul over the collapsed
/// rows; batched operands broadcast their batch dims and collapse them into
/// one for linalg.batch_matmul. A B operand that is a transpose of the last
/// two dims is read through transposed indexing maps instead (weights of
/// nn.Linear are stored [M, K]).
struct MatmulLowering : OpConversionPattern<vt::MatmulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value a = adaptor.getLhs(), b = adaptor.getRhs();
    Type elt = cast<RankedTensorType>(a.getType()).getElementType();
    if (!elt.isIntOrFloat() || elt.isInteger(1))
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << elt;
    // The products accumulate in the result's type (f32 for bf16 operands);
    // linalg's named ops widen their inputs to the output's type.
    Type accElt = op.getType().getElementType();
    bool transposedB = false;
    if (auto t = b.getDefiningOp<linalg::TransposeOp>();
        t && swapsLastTwoDims(t.getPermutation())) {
      b = t.getInput();
      transposedB = true;
    }
    // numpy promotes 1-D operands to matrices, then drops the added dim.
    bool lhsVec = cast<RankedTensorType>(a.getType()).getRank() == 1;
    bool rhsVec = cast<RankedTensorType>(b.getType()).getRank() == 1;
    if (lhsVec)
      a = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(
              {1, cast<RankedTensorType>(a.getType()).getDimSize(0)}, elt),
          a, {{0, 1}}, {rewriter.getIndexAttr(1),
                        tensor::getMixedSize(rewriter, loc, a, 0)});
    if (rhsVec)
      b = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(
              {cast<RankedTensorType>(b.getType()).getDimSize(0), 1}, elt),
          b, {{0, 1}}, {tensor::getMixedSize(rewriter, loc, b, 0),
                        rewriter.getIndexAttr(1)});
    auto aType = cast<RankedTensorType>(a.getType());
    auto bType = cast<RankedTensorType>(b.getType());
    int64_t ra = aType.getRank(), rb = bType.getRank();
    OpFoldResult n = tensor::getMixedSize(rewriter, loc, a, ra - 2);
    OpFoldResult m =
        tensor::getMixedSize(rewriter, loc, b, transposedB ? rb - 2 : rb - 1);

    Value product;
    int64_t resultRank;
    if (rb == 2) {
      // [..., N, K] x [K, M]: one matmul over all rows of a.
      SmallVector<OpFoldResult> lead;
      for (int64_t d = 0; d < ra - 1; ++d)
        lead.push_back(tensor::getMixedSize(rewriter, loc, a, d));
      Value rows = collapseLeading(rewriter, loc, a, ra - 1);
      Value acc = zeroAccumulator(
          rewriter, loc, {tensor::getMixedSize(rewriter, loc, rows, 0), m},
          accElt);
      auto mm = linalg::MatmulOp::create(rewriter, loc, acc.getType(),
                                         ValueRange{rows, b}, acc);
      if (transposedB)
        mm.setIndexingMapsAttr(transposedBMatmulMaps(getContext(), false));
      product = expandLeading(rewriter, loc, mm.getResult(0), lead);
      resultRank = ra;
    } else {
      // Batched: broadcast the batch dims, collapse them, batch_matmul.
      int64_t batchRank = std::max(ra, rb) - 2;
      SmallVector<int64_t> batch;
      SmallVector<OpFoldResult> batchSizes;
      for (int64_t d = 0; d < batchRank; ++d) {
        int64_t da = d - (batchRank - (ra - 2)), db = d - (batchRank - (rb - 2));
        int64_t sa = da >= 0 ? aType.getDimSize(da) : 1;
        int64_t sb = db >= 0 ? bType.getDimSize(db) : 1;
        // A static extent other than 1 wins; a dynamic one is assumed to
        // match the other operand.
        if (sa != 1 && sa != kDyn) {
          batch.push_back(sa);
          batchSizes.push_back(rewriter.getIndexAttr(sa));
        } else if (sb != 1 && sb != kDyn) {
          batch.push_back(sb);
          batchSizes.push_back(rewriter.getIndexAttr(sb));
        } else if (sa == kDyn) {
          batch.push_back(kDyn);
          batchSizes.push_back(tensor::getMixedSize(rewriter, loc, a, da));
        } else if (sb == kDyn) {
          batch.push_back(kDyn);
          batchSizes.push_back(tensor::getMixedSize(rewriter, loc, b, db));
        } else {
          batch.push_back(1);
          batchSizes.push_back(rewriter.getIndexAttr(1));
        }
      }
      auto toBatch = [&](Value v) -> Value {
        auto type = cast<RankedTensorType>(v.getType());
        int64_t rank = type.getRank();
        bool matches = rank - 2 == batchRank;
        for (int64_t d = 0; matches && d < batchRank; ++d)
          matches = type.getDimSize(d) == batch[d] ||
                    (type.getDimSize(d) == kDyn && batch[d] == kDyn);
        if (!matches) {
          SmallVector<int64_t> shape(batch);
          shape.push_back(type.getDimSize(rank - 2));
          shape.push_back(type.getDimSize(rank - 1));
          SmallVector<Value> dyn;
          for (int64_t d = 0; d < batchRank; ++d)
            if (batch[d] == kDyn)
              dyn.push_back(cast<Value>(batchSizes[d]));
          for (int64_t d = rank - 2; d < rank; ++d)
            if (type.isDynamicDim(d))
              dyn.push_back(tensor::DimOp::create(rewriter, loc, v, d));
          v = buildBroadcast(rewriter, loc, v, shape, dyn);
        }
        if (batchRank == 0)
          return v;
        return collapseLeading(rewriter, loc, v, batchRank);
      };
      Value a3 = toBatch(a), b3 = toBatch(b);
      Value acc = zeroAccumulator(
          rewriter, loc, {tensor::getMixedSize(rewriter, loc, a3, 0), n, m},
          accElt);
      auto bmm = linalg::BatchMatmulOp::create(rewriter, loc, acc.getType(),
                                               ValueRange{a3, b3}, acc);
      if (transposedB)
        bmm.setIndexingMapsAttr(transposedBMatmulMaps(getContext(), true));
      product = expandLeading(rewriter, loc, bmm.getResult(0), batchSizes);
      resultRank = batchRank + 2;
    }
    SmallVector<int64_t> unit;
    if (lhsVec)
      unit.push_back(resultRank - 2);
    if (rhsVec)
      unit.push_back(resultRank - 1);
    product = dropUnitDims(rewriter, loc, product, unit);
    rewriter.replaceOp(op, castTo(rewriter, loc, product, op.getType()));
    return success();
  }
};

/// Output extent of a sliding window (ONNX: floor, or ceil where the last
/// window must still start inside the left-padded input), at run time.
static OpFoldResult windowExtent(OpBuilder &b, Location loc, OpFoldResult in,
                                 int64_t k, int64_t stride, int64_t padLo,
                                 int64_t padHi, int64_t dilation, bool ceil) {
  if (auto s = getConstantIntValue(in)) {
    int64_t span = *s + padLo + padHi - dilation * (k - 1) - 1;
    int64_t out = (ceil ? llvm::divideCeilSigned(span, stride)
                        : llvm::divideFloorSigned(span, stride)) +
                  1;
    if (ceil && (out - 1) * stride >= *s + padLo)
      --out;
    return b.getIndexAttr(out);
  }
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value inV = cast<Value>(in);
  Value span = arith::AddIOp::create(
      b, loc, inV, cst(padLo + padHi - dilation * (k - 1) - 1));
  Value out = ceil ? (Value)arith::CeilDivSIOp::create(b, loc, span, cst(stride))
                   : (Value)arith::FloorDivSIOp::create(b, loc, span, cst(stride));
  out = arith::AddIOp::create(b, loc, out, cst(1));
  if (ceil) {
    Value lastStart = arith::MulIOp::create(
        b, loc, arith::SubIOp::create(b, loc, out, cst(1)), cst(stride));
    Value outside = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::sge, lastStart,
        arith::AddIOp::create(b, loc, inV, cst(padLo)));
    out = arith::SelectOp::create(
        b, loc, outside, arith::SubIOp::create(b, loc, out, cst(1)), out);
  }
  return out;
}

/// High padding that makes every output window of extent `out` fit: the
/// ONNX pads plus, in ceil mode, what the last window reaches beyond them.
static OpFoldResult windowPadHigh(OpBuilder &b, Location loc, OpFoldResult in,
                                  OpFoldResult out, int64_t k, int64_t stride,
                                  int64_t padLo, int64_t padHi,
                                  int64_t dilation) {
  auto sIn = getConstantIntValue(in), sOut = getConstantIntValue(out);
  int64_t window = dilation * (k - 1) + 1;
  if (sIn && sOut)
    return b.getIndexAttr(std::max(
        padHi, (*sOut - 1) * stride + window - (*sIn + padLo)));
  auto cst = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  Value outV = getValueOrCreateConstantIndexOp(b, loc, out);
  Value inV = getValueOrCreateConstantIndexOp(b, loc, in);
  Value reach = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, arith::SubIOp::create(b, loc, outV, cst(1)),
                            cst(stride)),
      cst(window - padLo));
  return arith::MaxSIOp::create(b, loc, cst(padHi),
                                arith::SubIOp::create(b, loc, reach, inV))
      .getResult();
}

/// NCHW window geometry shared by conv and pools: the padded input and the
/// output's spatial extents.
struct Window {
  Value padded;
  OpFoldResult outH, outW;
};

static Window padForWindow(OpBuilder &b, Location loc, Value input,
                           ArrayRef<int64_t> k, ArrayRef<int64_t> strides,
                           ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                           bool ceil, Value padValue) {
  Window w;
  OpFoldResult h = tensor::getMixedSize(b, loc, input, 2);
  OpFoldResult wd = tensor::getMixedSize(b, loc, input, 3);
  w.outH = windowExtent(b, loc, h, k[0], strides[0], pads[0], pads[2],
                        dilations[0], ceil);
  w.outW = windowExtent(b, loc, wd, k[1], strides[1], pads[1], pads[3],
                        dilations[1], ceil);
  OpFoldResult zero = b.getIndexAttr(0);
  SmallVector<OpFoldResult> low = {zero, zero, b.getIndexAttr(pads[0]),
                                   b.getIndexAttr(pads[1])};
  SmallVector<OpFoldResult> high = {
      zero, zero,
      windowPadHigh(b, loc, h, w.outH, k[0], strides[0], pads[0], pads[2],
                    dilations[0]),
      windowPadHigh(b, loc, wd, w.outW, k[1], strides[1], pads[1], pads[3],
                    dilations[1])};
  w.padded = padTensor(b, loc, input, low, high, padValue);
  return w;
}

struct Conv2dLowering : OpConversionPattern<vt::Conv2dOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::Conv2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), filter = adaptor.getFilter();
    auto inType = cast<RankedTensorType>(input.getType());
    auto fType = cast<RankedTensorType>(filter.getType());
    Type elt = inType.getElementType();
    // Accumulation (and the bias) in the result's type: f32 for bf16 inputs.
    Type accElt = op.getType().getElementType();
    if (fType.isDynamicDim(2) || fType.isDynamicDim(3))
      return op.emitOpError("cannot lower to linalg: dynamic kernel size");
    int64_t group = op.getGroup();
    int64_t kernel[] = {fType.getDimSize(2), fType.getDimSize(3)};
    Window w = padForWindow(rewriter, loc, input, kernel, op.getStrides(),
                            op.getPads(), op.getDilations(), /*ceil=*/false,
                            scalarConstant(rewriter, loc, elt, 0));
    Attribute strides = rewriter.getI64TensorAttr(op.getStrides());
    Attribute dilations = rewriter.getI64TensorAttr(op.getDilations());
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, input, 0);
    OpFoldResult outC = tensor::getMixedSize(rewriter, loc, filter, 0);
    Value result;
    if (group == 1) {
      Value acc = zeroAccumulator(rewriter, loc,
                                  {batch, outC, w.outH, w.outW}, accElt);
      result = linalg::Conv2DNchwFchwOp::create(
                   rewriter, loc, acc.getType(), ValueRange{w.padded, filter},
                   acc, strides, dilations)
                   .getResult(0);
    } else {
      // Grouped: split channels into [G, C/G] and filters into [G, F/G].
      // G is static; the channel counts may be dynamic (a filter gradient's
      // "channels" are the batch), then C/G is computed at run time.
      auto g = rewriter.getIndexAttr(group);
      auto perGroup = [&](Value t, int64_t dim) -> OpFoldResult {
        auto type = cast<RankedTensorType>(t.getType());
        if (!type.isDynamicDim(dim))
          return rewriter.getIndexAttr(type.getDimSize(dim) / group);
        Value size = tensor::DimOp::create(rewriter, loc, t, dim);
        return arith::DivUIOp::create(
                   rewriter, loc, size,
                   arith::ConstantIndexOp::create(rewriter, loc, group))
            .getResult();
      };
      auto staticOf = [](OpFoldResult size) {
        std::optional<int64_t> v = getConstantIntValue(size);
        return v ? *v : ShapedType::kDynamic;
      };
      OpFoldResult cg = perGroup(input, 1), fg = perGroup(filter, 0);
      SmallVector<OpFoldResult> inSizes = {
          batch, g, cg, tensor::getMixedSize(rewriter, loc, w.padded, 2),
          tensor::getMixedSize(rewriter, loc, w.padded, 3)};
      auto paddedType = cast<RankedTensorType>(w.padded.getType());
      Value in5 = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({paddedType.getDimSize(0), group, staticOf(cg),
                                 paddedType.getDimSize(2),
                                 paddedType.getDimSize(3)},
                                elt),
          w.padded, {{0}, {1, 2}, {3}, {4}}, inSizes);
      Value f5 = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({group, staticOf(fg), fType.getDimSize(1),
                                 kernel[0], kernel[1]},
                                elt),
          filter, {{0, 1}, {2}, {3}, {4}},
          ArrayRef<OpFoldResult>{g, fg,
                                 tensor::getMixedSize(rewriter, loc, filter, 1),
                                 rewriter.getIndexAttr(kernel[0]),
                                 rewriter.getIndexAttr(kernel[1])});
      Value acc = zeroAccumulator(
          rewriter, loc,
          {batch, g, fg, w.outH, w.outW},
          accElt);
      Value conv = linalg::Conv2DNgchwGfchwOp::create(
                       rewriter, loc, acc.getType(), ValueRange{in5, f5}, acc,
                       strides, dilations)
                       .getResult(0);
      result = tensor::CollapseShapeOp::create(rewriter, loc, conv,
                                               {{0}, {1, 2}, {3}, {4}});
    }
    if (Value bias = adaptor.getBias()) {
      // [F] -> [F, 1, 1], which broadcasts over [N, F, H, W].
      auto bType = cast<RankedTensorType>(bias.getType());
      Value bias3 = tensor::ExpandShapeOp::create(
          rewriter, loc,
          RankedTensorType::get({bType.getDimSize(0), 1, 1}, accElt), bias,
          {{0, 1, 2}},
          ArrayRef<OpFoldResult>{tensor::getMixedSize(rewriter, loc, bias, 0),
                                 rewriter.getIndexAttr(1),
                                 rewriter.getIndexAttr(1)});
      result = buildElementwise(
          rewriter, loc, ValueRange{result, bias3}, accElt,
          [](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::AddFOp::create(b, l, args[0], args[1]);
          });
    }
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

struct MaxPoolLowering : OpConversionPattern<vt::MaxPool2dOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::MaxPool2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Type elt = cast<RankedTensorType>(input.getType()).getElementType();
    auto ft = cast<FloatType>(elt);
    Value lowest = arith::ConstantOp::create(
        rewriter, loc,
        rewriter.getFloatAttr(elt, APFloat::getInf(ft.getFloatSemantics(),
                                                   /*Negative=*/true)));
    ArrayRef<int64_t> k = op.getKernel();
    Window w = padForWindow(rewriter, loc, input, k, op.getStrides(),
                            op.getPads(), op.getDilations(), op.getCeilMode(),
                            lowest);
    Value empty = tensor::EmptyOp::create(
        rewriter, loc,
        ArrayRef<OpFoldResult>{tensor::getMixedSize(rewriter, loc, input, 0),
                               tensor::getMixedSize(rewriter, loc, input, 1),
                               w.outH, w.outW},
        elt);
    Value acc = linalg::FillOp::create(rewriter, loc, lowest, empty).getResult(0);
    Value window = tensor::EmptyOp::create(rewriter, loc, k, elt);
    Value result = linalg::PoolingNchwMaxOp::create(
                       rewriter, loc, acc.getType(), ValueRange{w.padded, window},
                       acc, rewriter.getI64TensorAttr(op.getStrides()),
                       rewriter.getI64TensorAttr(op.getDilations()))
                       .getResult(0);
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

/// Average pooling: a sum pool over the zero-padded input divided by the
/// window's element count. The count is the full window unless windows
/// are clipped: by the padding when count_include_pad is false, by the
/// input-plus-padding border in ceil mode.
struct AvgPoolLowering : OpConversionPattern<vt::AvgPool2dOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::AvgPool2dOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Type elt = cast<RankedTensorType>(input.getType()).getElementType();
    ArrayRef<int64_t> k = op.getKernel(), strides = op.getStrides(),
                      pads = op.getPads();
    int64_t ones[] = {1, 1};
    Window w = padForWindow(rewriter, loc, input, k, strides, pads, ones,
                            op.getCeilMode(),
                            scalarConstant(rewriter, loc, elt, 0));
    Value acc = zeroAccumulator(
        rewriter, loc,
        {tensor::getMixedSize(rewriter, loc, input, 0),
         tensor::getMixedSize(rewriter, loc, input, 1), w.outH, w.outW},
        elt);
    Value window = tensor::EmptyOp::create(rewriter, loc, k, elt);
    Value sum = linalg::PoolingNchwSumOp::create(
                    rewriter, loc, acc.getType(), ValueRange{w.padded, window},
                    acc, rewriter.getI64TensorAttr(strides),
                    rewriter.getI64TensorAttr(ones))
                    .getResult(0);

    bool hasPads = llvm::any_of(pads, [](int64_t p) { return p != 0; });
    bool clipped = op.getCeilMode() || (hasPads && !op.getCountIncludePad());
    Value result;
    if (!clipped) {
      Value count = scalarConstant(rewriter, loc, elt, (double)(k[0] * k[1]));
      result = buildElementwise(
          rewriter, loc, sum, elt,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return arith::DivFOp::create(b, l, args[0], count);
          });
    } else {
      // Per output position: the window [start, start + k) clipped to
      // [0, in) (padding excluded) or [-padLo, in + padHi) (included).
      bool includePad = op.getCountIncludePad();
      Value inH = dimValue(rewriter, loc, input, 2);
      Value inW = dimValue(rewriter, loc, input, 3);
      result = buildElementwise(
          rewriter, loc, sum, elt,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            auto cst = [&](int64_t v) {
              return arith::ConstantIndexOp::create(b, l, v);
            };
            auto extent = [&](int64_t dim, Value in, int64_t i) -> Value {
              Value start = arith::SubIOp::create(
                  b, l,
                  arith::MulIOp::create(b, l, linalg::IndexOp::create(b, l, dim),
                                        cst(strides[i])),
                  cst(pads[i]));
              Value lo = includePad
                             ? start
                             : (Value)arith::MaxSIOp::create(b, l, start, cst(0));
              Value hiBound =
                  includePad
                      ? (Value)arith::AddIOp::create(b, l, in, cst(pads[i + 2]))
                      : in;
              Value hi = arith::MinSIOp::create(
                  b, l, arith::AddIOp::create(b, l, start, cst(k[i])), hiBound);
              return arith::SubIOp::create(b, l, hi, lo);
            };
            Value count = arith::MulIOp::create(b, l, extent(2, inH, 0),
                                                extent(3, inW, 1));
            Value countF = arith::SIToFPOp::create(
                b, l, elt,
                arith::IndexCastOp::create(b, l, b.getI64Type(), count));
            return arith::DivFOp::create(b, l, args[0], countF);
          });
    }
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

} // namespace

void populateVtAnchorToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering, Conv2dLowering, MaxPoolLowering,
               AvgPoolLowering>(patterns.getContext());
}

} // namespace vitc
