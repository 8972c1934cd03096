//===- VtCanonicalize.cpp - vt canonicalisation patterns --------------------===//
//
// Rewrites that clean up exporter noise and that the folders cannot express
// (they create new ops): shape vectors made static from types, chains of
// reshapes / casts / transposes collapsed into one op, dims read from
// shape_of where the type already knows them, zero padding folded into
// the convolution that reads it, and sums of zero-padded slices that tile a
// tensor made a concatenation.
//
//===----------------------------------------------------------------------===//
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace vitc::vt;

std::optional<SmallVector<int64_t>> vitc::vt::getConstantInts(Value v) {
  DenseIntElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)))
    return std::nullopt;
  return llvm::map_to_vector(attr.getValues<APInt>(),
                             [](const APInt &i) { return i.getSExtValue(); });
}

static Value i64Vector(PatternRewriter &rewriter, Location loc,
                       ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()},
                                    rewriter.getI64Type());
  return ConstantOp::create(rewriter, loc, DenseIntElementsAttr::get(type, values),
                            StringAttr());
}

/// `v`'s defining vt.pad, when it pads with zeros by non-negative amounts
/// only (what a convolution's own padding and a slice's gradient are).
static PadOp zeroPadOf(Value v) {
  auto pad = v.getDefiningOp<PadOp>();
  if (!pad || pad.getValue().convertToDouble() != 0.0 ||
      llvm::any_of(pad.getPads(), [](int64_t p) { return p < 0; }))
    return nullptr;
  return pad;
}

namespace {

/// A reshape or expand whose result type is static needs no computed shape:
/// the result dims are the shape (ONNX 0 / -1 / broadcasting all resolve to
/// them). Replacing the operand lets the Shape->Gather->Concat chain die.
template <typename OpTy>
struct StaticResultShape : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getType();
    if (!type.hasStaticShape())
      return failure();
    auto current = getConstantInts(op.getShape());
    if (current && ArrayRef<int64_t>(*current) == type.getShape())
      return failure();
    Value shape = i64Vector(rewriter, op.getLoc(), type.getShape());
    rewriter.modifyOpInPlace(op, [&] { op.getShapeMutable().assign(shape); });
    return success();
  }
};

/// reshape(reshape(x, s1), s2) -> reshape(x, s2) when s2 has no 0 entry
/// (a 0 copies a dim of the intermediate, which x may not have).
struct ReshapeOfReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    auto shape = getConstantInts(op.getShape());
    if (!shape || llvm::is_contained(*shape, 0))
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getInputMutable().assign(inner.getInput()); });
    return success();
  }
};

/// Whether every value of `from` converts to `to` exactly (and back).
static bool isLossless(Type from, Type to) {
  if (from == to)
    return true;
  if (from.isInteger(1))
    return to.isIntOrFloat();
  auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
  auto fromI = dyn_cast<IntegerType>(from), toI = dyn_cast<IntegerType>(to);
  if (fromF && toF)
    return APFloat::isRepresentableBy(fromF.getFloatSemantics(),
                                      toF.getFloatSemantics());
  if (fromI && toI)
    return toI.getWidth() >= fromI.getWidth();
  if (fromI && toF)
    return (int)APFloat::semanticsPrecision(toF.getFloatSemantics()) >=
           (int)fromI.getWidth();
  return false;
}

/// cast(cast(x : A -> B) : B -> C) -> cast(x : A -> C) when A -> B loses
/// nothing (then B -> C sees exactly the values of A).
struct CastOfCast : OpRewritePattern<CastOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(CastOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<CastOp>();
    if (!inner)
      return failure();
    Type a = inner.getInput().getType().getElementType();
    Type b = inner.getType().getElementType();
    if (!isLossless(a, b))
      return failure();
    rewriter.replaceOpWithNewOp<CastOp>(op, op.getType(), inner.getInput());
    return success();
  }
};

/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct TransposeOfTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                             perm);
    return success();
  }
};

/// A random_uniform of static shape needs no shape operand: dropping it lets
/// the shape computation die.
struct RandomUniformStaticShape : OpRewritePattern<RandomUniformOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RandomUniformOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getShape() || !op.getType().hasStaticShape())
      return failure();
    rewriter.modifyOpInPlace(op, [&] { op.getShapeMutable().clear(); });
    return success();
  }
};

/// conv2d(pad(x, 0)) -> conv2d(x) with the padding in the convolution's
/// pads, when only the spatial dims are padded, by non-negative amounts.
/// The autodiff writes a convolution's input gradient this way (vt.conv2d's
/// VJP); the library kernels pad on the fly instead of reading a padded
/// copy that another loop wrote and zero-filled.
struct PadIntoConv2d : OpRewritePattern<Conv2dOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(Conv2dOp op,
                                PatternRewriter &rewriter) const override {
    // Only a zero pad value: the convolution's own padding is zeros.
    PadOp pad = zeroPadOf(op.getInput());
    if (!pad)
      return failure();
    // [begin_0..3, end_0..3]: N and C unpadded, H and W by >= 0.
    ArrayRef<int64_t> p = pad.getPads();
    if (p.size() != 8 || p[0] || p[1] || p[4] || p[5])
      return failure();
    ArrayRef<int64_t> c = op.getPads(); // [top, left, bottom, right]
    int64_t pads[] = {c[0] + p[2], c[1] + p[3], c[2] + p[6], c[3] + p[7]};
    rewriter.modifyOpInPlace(op, [&] {
      op.getInputMutable().assign(pad.getInput());
      op.setPads(pads);
    });
    return success();
  }
};

/// pad(x) + pad(y), both zero padding, where x and y fill adjacent ranges of
/// one axis and the other axes are padded alike: pad(concat(x, y)). The
/// gradient of slices that tile a tensor (q, k and v sliced from a packed
/// projection, a ViT's class token and patch tokens) is a sum of full-size
/// zero tensors with one slice each; this makes it one concatenation, with
/// no zero fills and no adds (exact: x + 0 is x). Applied again, a chain of
/// such adds becomes one concat.
struct AddOfAdjacentPads : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(AddOp op,
                                PatternRewriter &rewriter) const override {
    PadOp lhs = zeroPadOf(op.getLhs()), rhs = zeroPadOf(op.getRhs());
    if (!lhs || !rhs || lhs.getType() != op.getType() ||
        rhs.getType() != op.getType())
      return failure();
    ArrayRef<int64_t> p = lhs.getPads(), q = rhs.getPads();
    int64_t rank = op.getType().getRank();
    std::optional<int64_t> axis;
    for (int64_t d = 0; d < rank; ++d) {
      if (p[d] == q[d] && p[rank + d] == q[rank + d])
        continue;
      if (axis)
        return failure(); // They differ along two axes.
      axis = d;
    }
    if (!axis)
      return failure();
    int64_t d = *axis;
    int64_t lhsLength = lhs.getInput().getType().getDimSize(d);
    int64_t rhsLength = rhs.getInput().getType().getDimSize(d);
    if (ShapedType::isDynamic(lhsLength) || ShapedType::isDynamic(rhsLength))
      return failure();
    PadOp first = lhs, second = rhs;
    if (q[d] + rhsLength == p[d])
      std::swap(first, second);
    else if (p[d] + lhsLength != q[d])
      return failure(); // Not adjacent.
    Value concat = ConcatOp::create(
        rewriter, op.getLoc(),
        ValueRange{first.getInput(), second.getInput()},
        rewriter.getI64IntegerAttr(d));
    SmallVector<int64_t> pads(p);
    pads[d] = first.getPads()[d];
    pads[rank + d] = second.getPads()[rank + d];
    if (llvm::all_of(pads, [](int64_t v) { return v == 0; }))
      rewriter.replaceOp(op, concat);
    else
      rewriter.replaceOpWithNewOp<PadOp>(op, concat,
                                         rewriter.getDenseI64ArrayAttr(pads),
                                         rewriter.getF64FloatAttr(0.0));
    return success();
  }
};

/// A concatenation of concatenations along the same axis is one: what
/// AddOfAdjacentPads leaves of a chain of adds.
struct ConcatOfConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConcatOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> inputs;
    bool flattened = false;
    for (Value input : op.getInputs()) {
      auto inner = input.getDefiningOp<ConcatOp>();
      if (inner && inner.getAxis() == op.getAxis()) {
        llvm::append_range(inputs, inner.getInputs());
        flattened = true;
      } else {
        inputs.push_back(input);
      }
    }
    if (!flattened)
      return failure();
    rewriter.replaceOpWithNewOp<ConcatOp>(op, op.getType(), inputs,
                                          op.getAxisAttr());
    return success();
  }
};

} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *ctx) {
  results.add<StaticResultShape<ReshapeOp>, ReshapeOfReshape>(ctx);
}
void ExpandOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *ctx) {
  results.add<StaticResultShape<ExpandOp>>(ctx);
}
void RandomUniformOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                  MLIRContext *ctx) {
  results.add<RandomUniformStaticShape>(ctx);
}
void CastOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *ctx) {
  results.add<CastOfCast>(ctx);
}
void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *ctx) {
  results.add<TransposeOfTranspose>(ctx);
}
void Conv2dOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *ctx) {
  results.add<PadIntoConv2d>(ctx);
}
void AddOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                        MLIRContext *ctx) {
  results.add<AddOfAdjacentPads>(ctx);
}
void ConcatOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                           MLIRContext *ctx) {
  results.add<ConcatOfConcat>(ctx);
}
