//===- ScalarizeShapeTensors.cpp - shape arithmetic as index scalars ------===//
//
// Exporters compute shapes as small integer tensors: Shape, Gather, Concat,
// Where(Equal(s, -1), 1, s), then Reshape or Expand reads the result. With
// a dynamic batch these stay run-time tensors, and the reshape or expand
// reads its sizes back from memory: on a GPU target, host code would read
// device memory (and on any target, tiny kernels run for a few integers).
// These patterns evaluate `tensor.extract` at constant indices of such
// tensors through their producers (from_elements, extract_slice,
// insert_slice, reshapes, fills and elementwise linalg.generic), so the
// sizes become index
// arithmetic on tensor.dim, which canonicalization folds. A tensor.reshape
// to such sizes becomes collapse_shape + expand_shape: views, not a shape
// buffer that host code writes and reads.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace vitc {
#define GEN_PASS_DEF_SCALARIZESHAPETENSORS
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

/// Shape tensors: static, integer, a handful of elements.
constexpr int64_t kMaxElements = 16;

bool isShapeTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && tensor.hasStaticShape() &&
         tensor.getNumElements() <= kMaxElements &&
         tensor.getElementType().isIntOrIndex();
}

/// The constant indices of `extract`, if all are constants.
std::optional<SmallVector<int64_t>> constantIndices(tensor::ExtractOp extract) {
  SmallVector<int64_t> indices;
  for (Value index : extract.getIndices()) {
    APInt value;
    if (!matchPattern(index, m_ConstantInt(&value)))
      return std::nullopt;
    indices.push_back(value.getSExtValue());
  }
  return indices;
}

Value extractAt(PatternRewriter &rewriter, Location loc, Value tensor,
                ArrayRef<int64_t> indices) {
  SmallVector<Value> values;
  for (int64_t index : indices)
    values.push_back(arith::ConstantIndexOp::create(rewriter, loc, index));
  return tensor::ExtractOp::create(rewriter, loc, tensor, values);
}

/// Linear index of `indices` in `shape` (row-major), and back.
int64_t linearize(ArrayRef<int64_t> indices, ArrayRef<int64_t> shape) {
  int64_t linear = 0;
  for (auto [index, size] : llvm::zip(indices, shape))
    linear = linear * size + index;
  return linear;
}
SmallVector<int64_t> delinearize(int64_t linear, ArrayRef<int64_t> shape) {
  SmallVector<int64_t> indices(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    indices[d] = linear % shape[d];
    linear /= shape[d];
  }
  return indices;
}

struct ExtractThroughProducer : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    Value source = extract.getTensor();
    if (!isShapeTensor(source.getType()))
      return failure();
    std::optional<SmallVector<int64_t>> indices = constantIndices(extract);
    if (!indices)
      return failure();
    Operation *producer = source.getDefiningOp();
    if (!producer)
      return failure();
    Location loc = extract.getLoc();

    if (auto fill = dyn_cast<linalg::FillOp>(producer)) {
      rewriter.replaceOp(extract, fill.getInputs()[0]);
      return success();
    }
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(producer))
      return throughExtractSlice(rewriter, extract, slice, *indices);
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(producer))
      return throughInsertSlice(rewriter, extract, insert, *indices);
    if (auto reshape = dyn_cast<tensor::ExpandShapeOp>(producer))
      return throughReshape(rewriter, extract, reshape.getSrc(), *indices);
    if (auto reshape = dyn_cast<tensor::CollapseShapeOp>(producer))
      return throughReshape(rewriter, extract, reshape.getSrc(), *indices);
    if (auto generic = dyn_cast<linalg::GenericOp>(producer))
      return throughGeneric(rewriter, extract, generic, *indices);
    (void)loc;
    return failure();
  }

  /// The element comes from the inserted slice if it lies inside, else
  /// from the destination.
  static LogicalResult throughInsertSlice(PatternRewriter &rewriter,
                                          tensor::ExtractOp extract,
                                          tensor::InsertSliceOp insert,
                                          ArrayRef<int64_t> indices) {
    if (insert.getSourceType().getRank() != insert.getDestType().getRank())
      return failure();
    ArrayRef<int64_t> offsets = insert.getStaticOffsets();
    ArrayRef<int64_t> sizes = insert.getStaticSizes();
    ArrayRef<int64_t> strides = insert.getStaticStrides();
    if (ShapedType::isDynamicShape(offsets) || ShapedType::isDynamicShape(sizes) ||
        ShapedType::isDynamicShape(strides))
      return failure();
    SmallVector<int64_t> inner;
    bool inside = true;
    for (auto [index, offset, size, stride] :
         llvm::zip(indices, offsets, sizes, strides)) {
      int64_t rel = index - offset;
      inside &= rel >= 0 && rel % stride == 0 && rel / stride < size;
      inner.push_back(inside ? rel / stride : 0);
    }
    Value from = inside ? insert.getSource() : insert.getDest();
    rewriter.replaceOp(extract, extractAt(rewriter, extract.getLoc(), from,
                                          inside ? ArrayRef<int64_t>(inner)
                                                 : indices));
    return success();
  }

  /// A slice's element is its source's at offset + index * stride.
  static LogicalResult throughExtractSlice(PatternRewriter &rewriter,
                                           tensor::ExtractOp extract,
                                           tensor::ExtractSliceOp slice,
                                           ArrayRef<int64_t> indices) {
    ArrayRef<int64_t> offsets = slice.getStaticOffsets();
    ArrayRef<int64_t> strides = slice.getStaticStrides();
    if (slice.getSourceType().getRank() != slice.getResultType().getRank() ||
        ShapedType::isDynamicShape(offsets) ||
        ShapedType::isDynamicShape(strides))
      return failure();
    SmallVector<int64_t> at;
    for (auto [index, offset, stride] : llvm::zip(indices, offsets, strides))
      at.push_back(offset + index * stride);
    rewriter.replaceOp(extract, extractAt(rewriter, extract.getLoc(),
                                          slice.getSource(), at));
    return success();
  }

  /// Reshapes keep the row-major order of the elements.
  static LogicalResult throughReshape(PatternRewriter &rewriter,
                                      tensor::ExtractOp extract, Value src,
                                      ArrayRef<int64_t> indices) {
    auto srcType = cast<RankedTensorType>(src.getType());
    if (!srcType.hasStaticShape())
      return failure();
    int64_t linear =
        linearize(indices, extract.getTensor().getType().getShape());
    rewriter.replaceOp(extract,
                       extractAt(rewriter, extract.getLoc(), src,
                                 delinearize(linear, srcType.getShape())));
    return success();
  }

  /// An elementwise generic's element: its body, on its inputs' elements.
  static LogicalResult throughGeneric(PatternRewriter &rewriter,
                                      tensor::ExtractOp extract,
                                      linalg::GenericOp generic,
                                      ArrayRef<int64_t> indices) {
    if (generic.getNumDpsInits() != 1 || generic.getNumResults() != 1 ||
        generic.getNumReductionLoops() != 0 ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return failure();
    Block *body = generic.getBody();
    // The output's old value must not be read.
    if (!body->getArgument(generic.getNumDpsInputs()).use_empty())
      return failure();
    for (Operation &op : body->without_terminator())
      if (!isPure(&op) && !isa<tensor::ExtractOp, linalg::IndexOp>(op))
        return failure();

    Location loc = extract.getLoc();
    IRMapping mapping;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(input);
      SmallVector<int64_t> at;
      for (AffineExpr expr : map.getResults()) {
        if (auto dim = dyn_cast<AffineDimExpr>(expr))
          at.push_back(indices[dim.getPosition()]);
        else if (auto cst = dyn_cast<AffineConstantExpr>(expr))
          at.push_back(cst.getValue());
        else
          return failure();
      }
      Value operand = input->get();
      Value element =
          isa<RankedTensorType>(operand.getType())
              ? extractAt(rewriter, loc, operand, at)
              : operand;
      mapping.map(body->getArgument(input->getOperandNumber()), element);
    }
    for (Operation &op : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        mapping.map(index.getResult(),
                    arith::ConstantIndexOp::create(rewriter, loc,
                                                   indices[index.getDim()]));
        continue;
      }
      rewriter.clone(op, mapping);
    }
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    rewriter.replaceOp(extract, mapping.lookupOrDefault(yield.getValues()[0]));
    return success();
  }
};

/// tensor.reshape to sizes given as scalars (tensor.from_elements) is a
/// flatten and an unflatten: collapse_shape to 1-D, then expand_shape with
/// the sizes as its output shape. Views once bufferized, instead of a
/// shape buffer written and read by host code.
struct ReshapeOfFromElements : OpRewritePattern<tensor::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ReshapeOp reshape,
                                PatternRewriter &rewriter) const override {
    auto shape = reshape.getShape().getDefiningOp<tensor::FromElementsOp>();
    auto srcType = dyn_cast<RankedTensorType>(reshape.getSource().getType());
    auto resultType = reshape.getResult().getType();
    // One expand_shape group holds at most one dynamic size safely (the
    // strided-metadata expansion of several in one group breaks): reshapes
    // to several dynamic sizes keep their shape operand.
    if (!shape || !srcType || resultType.getRank() == 0 ||
        resultType.getNumDynamicDims() > 1)
      return failure();
    Location loc = reshape.getLoc();
    Value flat = reshape.getSource();
    if (srcType.getRank() != 1) {
      SmallVector<ReassociationIndices> all(1);
      for (int64_t d = 0; d < srcType.getRank(); ++d)
        all[0].push_back(d);
      flat = tensor::CollapseShapeOp::create(rewriter, loc, flat, all);
    }
    // expand_shape keeps the static-ness of its one group: a static result
    // comes from a static flat tensor, a dynamic one from a dynamic one.
    bool dynamicResult = !resultType.hasStaticShape();
    auto flatType = cast<RankedTensorType>(flat.getType());
    if (dynamicResult != flatType.isDynamicDim(0))
      flat = tensor::CastOp::create(
          rewriter, loc,
          RankedTensorType::get({dynamicResult ? ShapedType::kDynamic
                                               : resultType.getNumElements()},
                                flatType.getElementType()),
          flat);
    SmallVector<OpFoldResult> sizes;
    for (auto [d, element] : llvm::enumerate(shape.getElements())) {
      if (!resultType.isDynamicDim(d)) {
        sizes.push_back(rewriter.getIndexAttr(resultType.getDimSize(d)));
        continue;
      }
      Value size = element;
      if (!size.getType().isIndex())
        size = arith::IndexCastOp::create(rewriter, loc, rewriter.getIndexType(),
                                          size);
      sizes.push_back(size);
    }
    SmallVector<ReassociationIndices> group(1);
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      group[0].push_back(d);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(reshape, resultType, flat,
                                                       group, sizes);
    return success();
  }
};

struct ScalarizeShapeTensorsPass
    : impl::ScalarizeShapeTensorsBase<ScalarizeShapeTensorsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExtractThroughProducer, ReshapeOfFromElements>(&getContext());
    tensor::ExtractOp::getCanonicalizationPatterns(patterns, &getContext());
    tensor::FromElementsOp::getCanonicalizationPatterns(patterns, &getContext());
    arith::SelectOp::getCanonicalizationPatterns(patterns, &getContext());
    arith::CmpIOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace vitc
