//===- AnchorGradients.cpp - gradients of matmul, conv2d and pools --------===//
//
// Convolution and pooling gradients are convolutions, strided slices and
// pads of the result gradient; "dilating" a tensor by a stride (zeros between
// its elements) is a reshape that adds a size-1 dim, a pad of that dim and a
// reshape back, since vt has no interior padding.
//
// Mixed precision (vt-autocast-bf16): a matmul or conv with bf16 operands
// and an f32 result gets its operand gradients from products of the same
// kind, bf16 in and f32 out; they are summed over broadcast dims in f32 and
// rounded to the operand type only last. The rule of the cast that made the
// bf16 operand passes such a gradient through unrounded (a rounding's
// derivative is taken as the identity; ElementwiseGradients.cpp).
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

#include <limits>

using namespace mlir;
using namespace vitc::vt;

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

/// C = A B: dA = G B^T, dB = A^T G, each summed over the batch dims it was
/// broadcast along. A 2-D weight under a batched A (the linear layers of a
/// transformer) gets one 2-D matmul over the flattened batch instead of a
/// batched product summed afterwards.
/// Mixed precision (bf16 operands, f32 result): G is rounded to bf16 for
/// the products, which accumulate in f32 like the forward one.
/// numpy matmul: 1-D operands are promoted (lhs [K] -> [1, K], rhs [K] ->
/// [K, 1]) and the inserted dim is dropped from the result, so the result
/// gradient gets it back, the 2-D rule runs, and the operand gradients are
/// reshaped to the 1-D operands.
LogicalResult MatmulOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value a = getLhs(), w = getRhs();
  Type elt = rankedOf(a).getElementType(), acc = getType().getElementType();
  Value g = gb.castElements(grads[0], elt);
  bool vecA = rankedOf(a).getRank() == 1, vecW = rankedOf(w).getRank() == 1;
  int64_t gRank = rankedOf(g).getRank();
  if (vecA && vecW) {
    g = gb.reshapeTo(g, {1, 1});
  } else if (vecA) { // [batch.., N] -> [batch.., 1, N]
    SmallVector<int64_t> shape(gRank - 1, 0);
    shape.append({1, -1});
    g = gb.reshapeTo(g, shape);
  } else if (vecW) { // [batch.., M] -> [batch.., M, 1]
    SmallVector<int64_t> shape(gRank, 0);
    shape.push_back(1);
    g = gb.reshapeTo(g, shape);
  }
  if (vecA)
    a = gb.reshapeTo(a, {1, -1});
  if (vecW)
    w = gb.reshapeTo(w, {-1, 1});
  auto aType = rankedOf(a), wType = rankedOf(w);
  Value da = gb.accumulateIn(
      MatmulOp::create(b, getLoc(), g, gb.transposeLast2(w)), acc);
  Value dw;
  int64_t k = aType.getShape().back(), n = wType.getShape().back();
  if (aType.getRank() > 2 && wType.getRank() == 2 && !ShapedType::isDynamic(k) &&
      !ShapedType::isDynamic(n)) {
    auto flat = [&](Value v, int64_t cols) {
      return gb.reshape(v, {-1, cols},
                        RankedTensorType::get({ShapedType::kDynamic, cols}, elt));
    };
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(flat(a, k)),
                          flat(g, n));
  } else {
    dw = MatmulOp::create(b, getLoc(), gb.transposeLast2(a), g);
  }
  dw = gb.accumulateIn(dw, acc);
  da = gb.castElements(gb.unbroadcast(da, a), elt);
  dw = gb.castElements(gb.unbroadcast(dw, w), elt);
  if (vecA)
    da = gb.reshapeTo(da, {-1});
  if (vecW)
    dw = gb.reshapeTo(dw, {-1});
  out.assign({da, dw});
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// y = conv(x, w) + b, w [O, C/G, KH, KW], G groups.
/// dx: the transposed convolution (convInputGrad) with w's taps flipped and,
/// per group, its in/out channels swapped.
/// dw[o, c, kh, kw] = sum_{n,i,j} g[n, o, i, j] xpad[n, c, i s + kh d, ...]:
/// a convolution of x with g as the filter, the batch as its reduction
/// (channel) dim, the forward dilation as stride and stride as dilation.
/// Groups become the conv's groups: x [N, G, C/G, H, W] -> [C/G, G N, H, W],
/// g [N, G, O/G, ...] -> [O, N, ...].
/// db = sum of g over N, H, W (in the result's type, like the bias).
/// Mixed precision (bf16 x and w, f32 result): g is rounded to bf16 for the
/// convolutions, which accumulate in f32 like the forward one.
LogicalResult Conv2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), w = getFilter();
  auto xType = rankedOf(x), wType = rankedOf(w);
  Type elt = xType.getElementType(), acc = getType().getElementType();
  Value g = gb.castElements(grads[0], elt);
  auto gType = rankedOf(g);
  ArrayRef<int64_t> strides = getStrides(), pads = getPads(),
                    dil = getDilations();
  int64_t group = getGroup();
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3) ||
      wType.isDynamicDim(2) || wType.isDynamicDim(3))
    return emitOpError(
        "gradient of conv2d with dynamic spatial dims is not implemented");
  if (group > 1 && (wType.isDynamicDim(0) || wType.isDynamicDim(1)))
    return emitOpError("gradient of grouped conv2d needs static channels");
  int64_t k[] = {wType.getDimSize(2), wType.getDimSize(3)};
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {gType.getDimSize(2), gType.getDimSize(3)};
  int64_t o = wType.getDimSize(0), cg = wType.getDimSize(1);
  int64_t n = xType.isDynamicDim(0) ? 0 : xType.getDimSize(0);

  // d input.
  Value wt;
  if (group == 1) {
    wt = TransposeOp::create(b, getLoc(), w, ArrayRef<int64_t>{1, 0, 2, 3});
  } else {
    wt = gb.reshapeTo(w, {group, o / group, cg, k[0], k[1]});
    wt = TransposeOp::create(b, getLoc(), wt,
                             ArrayRef<int64_t>{0, 2, 1, 3, 4});
    wt = gb.reshapeTo(wt, {group * cg, o / group, k[0], k[1]});
  }
  Value flipped = gb.slice(wt, {0, 0, k[0] - 1, k[1] - 1},
                           {kToEnd, kToEnd, -k[0] - 1, -k[1] - 1},
                           {1, 1, -1, -1});
  Value dx =
      gb.convInputGrad(g, flipped, group, strides, pads, dil, k, in, acc);
  if (!dx)
    return emitOpError("gradient of conv2d: cannot spread the result "
                       "gradient by the stride");

  // d filter: pad x to exactly the span the windows read (the forward may
  // leave a tail of the padded input unread).
  SmallVector<int64_t> lo = {0, 0}, hi = {0, 0};
  for (int i = 0; i < 2; ++i) {
    int64_t used = strides[i] * (outHW[i] - 1) + dil[i] * (k[i] - 1) + 1;
    lo.push_back(pads[i]);
    hi.push_back(used - in[i] - pads[i]);
  }
  Value xt, gt;
  if (group == 1) {
    xt = TransposeOp::create(b, getLoc(), x, ArrayRef<int64_t>{1, 0, 2, 3});
    gt = TransposeOp::create(b, getLoc(), g, ArrayRef<int64_t>{1, 0, 2, 3});
  } else {
    xt = gb.reshapeTo(x, {n, group, cg, in[0], in[1]});
    xt = TransposeOp::create(b, getLoc(), xt,
                             ArrayRef<int64_t>{2, 1, 0, 3, 4});
    xt = gb.reshapeTo(xt, {cg, -1, in[0], in[1]});
    gt = gb.reshapeTo(g, {n, group, o / group, outHW[0], outHW[1]});
    gt = TransposeOp::create(b, getLoc(), gt,
                             ArrayRef<int64_t>{1, 2, 0, 3, 4});
    gt = gb.reshapeTo(gt, {o, -1, outHW[0], outHW[1]});
  }
  int64_t noPads[] = {0, 0, 0, 0};
  Value dwt = gb.accumulateIn(
      Conv2dOp::create(b, getLoc(), gb.pad(xt, lo, hi), gt, Value(), dil,
                       noPads, strides, group),
      acc);
  Value dw = TransposeOp::create(b, getLoc(), dwt, ArrayRef<int64_t>{1, 0, 2, 3});

  out.assign({gb.castElements(dx, elt), gb.castElements(dw, elt)});
  if (getBias())
    out.push_back(ReduceSumOp::create(b, getLoc(), grads[0],
                                      ArrayRef<int64_t>{0, 2, 3},
                                      /*keepdims=*/false));
  return success();
}

/// max_pool2d's gradient when the windows tile the input without overlap or
/// padding (kernel = stride, dense, the usual 2x2/2): x viewed as
/// [N, C, OH, KH, OW, KW] holds each window in dims 3 and 5. The first tap
/// (row-major) equal to the max is found elementwise over [N, C, OH, 1, OW, 1]
/// from one slice of the view per tap (a select chain, no reduction), and g
/// goes where the tap index equals it: two fused loops over x's size, where
/// the general form spreads and pads a full-size tensor per tap. Rows and
/// columns past the last window get zeros. Returns null where the shapes do
/// not fit.
static Value nonOverlappingMaxPoolGrad(GradBuilder &gb, Value x, Value y,
                                       Value g, ArrayRef<int64_t> k,
                                       ArrayRef<int64_t> strides,
                                       ArrayRef<int64_t> pads,
                                       ArrayRef<int64_t> dil,
                                       ArrayRef<int64_t> in,
                                       ArrayRef<int64_t> outHW) {
  for (int i = 0; i < 2; ++i)
    if (strides[i] != k[i] || dil[i] != 1 || pads[i] != 0 ||
        pads[i + 2] != 0 || outHW[i] * k[i] > in[i])
      return Value();
  // One slice per tap in the select chain; tap indices exact in bf16.
  int64_t taps = k[0] * k[1];
  if (taps > 16)
    return Value();
  Type elt = rankedOf(x).getElementType();
  int64_t used[] = {outHW[0] * k[0], outHW[1] * k[1]};
  Value windows = gb.reshapeTo(
      gb.slice(x, {0, 0, 0, 0}, {kToEnd, kToEnd, used[0], used[1]},
               {1, 1, 1, 1}),
      {0, 0, outHW[0], k[0], outHW[1], k[1]});
  SmallVector<int64_t> windowShape = {0, 0, outHW[0], 1, outHW[1], 1};
  Value ym = gb.reshapeTo(y, windowShape);
  // first = the least tap whose value is the max; `taps` (none) if none is
  // (a NaN max): then no element gets g.
  Value first = gb.scalar(ym, (double)taps);
  for (int64_t t = taps - 1; t >= 0; --t) {
    int64_t a = t / k[1], c = t % k[1];
    Value tapValue = gb.slice(windows, {0, 0, 0, a, 0, c},
                              {kToEnd, kToEnd, kToEnd, a + 1, kToEnd, c + 1},
                              {1, 1, 1, 1, 1, 1});
    Value hit = EqualOp::create(gb.b, gb.loc, tapValue, ym);
    first = SelectOp::create(gb.b, gb.loc, hit, gb.scalar(ym, (double)t), first);
  }
  SmallVector<Attribute> tapIndices;
  for (int64_t t = 0; t < taps; ++t)
    tapIndices.push_back(gb.b.getFloatAttr(elt, (double)t));
  Value tap = ConstantOp::create(
      gb.b, gb.loc,
      DenseElementsAttr::get(
          RankedTensorType::get({1, 1, 1, k[0], 1, k[1]}, elt), tapIndices),
      StringAttr());
  Value chosen = EqualOp::create(gb.b, gb.loc, tap, first);
  Value dx = gb.reshapeTo(gb.where(chosen, gb.reshapeTo(g, windowShape)),
                          {0, 0, used[0], used[1]});
  return gb.pad(dx, {0, 0, 0, 0}, {0, 0, in[0] - used[0], in[1] - used[1]});
}

/// The gradient goes to the first element (row-major within the window)
/// equal to the window's max: for each tap, the strided slice of the padded
/// input it read is compared with y, taps already chosen are masked out,
/// and g where it hit is spread back to the tap's input positions.
LogicalResult MaxPool2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), y = getResult(), g = grads[0];
  auto xType = rankedOf(x), yType = rankedOf(y);
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3))
    return emitOpError(
        "gradient of max_pool2d with dynamic spatial dims is not implemented");
  ArrayRef<int64_t> k = getKernel(), strides = getStrides(), pads = getPads(),
                    dil = getDilations();
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {yType.getDimSize(2), yType.getDimSize(3)};
  if (Value dx = nonOverlappingMaxPoolGrad(gb, x, y, g, k, strides, pads, dil,
                                           in, outHW)) {
    out.assign(1, dx);
    return success();
  }
  // -inf padding up to the span the windows read (ceil mode reads past the
  // pads), so that every window is a plain strided slice.
  SmallVector<int64_t> lo = {0, 0, pads[0], pads[1]}, hi = {0, 0};
  for (int i = 0; i < 2; ++i)
    hi.push_back(strides[i] * (outHW[i] - 1) + dil[i] * (k[i] - 1) + 1 -
                 in[i] - pads[i]);
  Value padded =
      gb.pad(x, lo, hi, -std::numeric_limits<double>::infinity());
  Type floatTy = xType.getElementType();
  Value remaining, dx;
  for (int64_t kh = 0; kh < k[0]; ++kh) {
    for (int64_t kw = 0; kw < k[1]; ++kw) {
      int64_t off[] = {kh * dil[0], kw * dil[1]};
      Value window = gb.slice(
          padded, {0, 0, off[0], off[1]},
          {kToEnd, kToEnd, off[0] + strides[0] * (outHW[0] - 1) + 1,
           off[1] + strides[1] * (outHW[1] - 1) + 1},
          {1, 1, strides[0], strides[1]});
      Value eq = EqualOp::create(b, getLoc(), window, y);
      Value hit = CastOp::create(
          b, getLoc(),
          RankedTensorType::get(rankedOf(eq).getShape(), floatTy), eq);
      if (remaining)
        hit = gb.mul(hit, remaining);
      bool last = kh == k[0] - 1 && kw == k[1] - 1;
      if (!last)
        remaining = gb.sub(remaining ? remaining : gb.scalar(hit, 1.0), hit);
      Value spread = gb.dilate(gb.mul(g, hit), {1, 1, strides[0], strides[1]});
      if (!spread)
        return emitOpError("gradient of max_pool2d: cannot spread the result "
                           "gradient by the stride");
      SmallVector<int64_t> at = {0, 0}, rest = {0, 0};
      for (int i = 0; i < 2; ++i) {
        at.push_back(off[i] - pads[i]);
        rest.push_back(in[i] - at.back() - outHW[i] * strides[i]);
      }
      Value placed = gb.pad(spread, at, rest);
      dx = dx ? gb.add(dx, placed) : placed;
    }
  }
  out.assign(1, dx);
  return success();
}

/// g / count spread evenly over each window: the transposed convolution of
/// every channel with an all-ones filter. count is k_h k_w unless windows
/// are clipped (count_include_pad false with pads, or ceil mode), then one
/// constant per output position, as the lowering computes it.
LogicalResult AvgPool2dOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  auto xType = rankedOf(x), gType = rankedOf(g);
  if (xType.isDynamicDim(2) || xType.isDynamicDim(3))
    return emitOpError(
        "gradient of avg_pool2d with dynamic spatial dims is not implemented");
  ArrayRef<int64_t> k = getKernel(), strides = getStrides(), pads = getPads();
  int64_t in[] = {xType.getDimSize(2), xType.getDimSize(3)};
  int64_t outHW[] = {gType.getDimSize(2), gType.getDimSize(3)};
  Type elt = xType.getElementType();
  bool hasPads = llvm::any_of(pads, [](int64_t p) { return p != 0; });
  bool includePad = getCountIncludePad();
  Value count;
  if (!getCeilMode() && (!hasPads || includePad)) {
    count = gb.scalar(x, (double)(k[0] * k[1]));
  } else {
    auto extent = [&](int i, int64_t o) {
      int64_t start = o * strides[i] - pads[i];
      int64_t lo = includePad ? start : std::max<int64_t>(start, 0);
      int64_t bound = includePad ? in[i] + pads[i + 2] : in[i];
      return std::min(start + k[i], bound) - lo;
    };
    SmallVector<Attribute> counts;
    for (int64_t i = 0; i < outHW[0]; ++i)
      for (int64_t j = 0; j < outHW[1]; ++j)
        counts.push_back(
            b.getFloatAttr(elt, (double)(extent(0, i) * extent(1, j))));
    count = ConstantOp::create(
        b, getLoc(),
        DenseElementsAttr::get(
            RankedTensorType::get({1, 1, outHW[0], outHW[1]}, elt), counts),
        StringAttr());
  }
  // Channels as batch: [N C, 1, out] against a [1, 1, k] filter of ones.
  Value perChannel =
      gb.reshapeTo(gb.div(g, count), {-1, 1, outHW[0], outHW[1]});
  Value ones = ConstantOp::create(
      b, getLoc(),
      DenseElementsAttr::get(RankedTensorType::get({1, 1, k[0], k[1]}, elt),
                             b.getFloatAttr(elt, 1.0)),
      StringAttr());
  int64_t noDilation[] = {1, 1};
  Value dx = gb.convInputGrad(perChannel, ones, /*group=*/1, strides, pads,
                              noDilation, k, in, elt);
  if (!dx)
    return emitOpError("gradient of avg_pool2d: cannot spread the result "
                       "gradient by the stride");
  out.assign(1, ReshapeOp::create(b, getLoc(), x.getType(), dx,
                                  buildShapeOf(b, getLoc(), x)));
  return success();
}
