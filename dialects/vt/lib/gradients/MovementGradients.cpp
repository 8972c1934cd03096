//===- MovementGradients.cpp - gradients of vt data movement --------------===//
//
// Each rule puts the result gradient back where the op read its input:
// transpose by the inverse permutation, reshape to the input's shape, slice
// and gather by padding with zeros (spread by the steps), concat and pad by
// slicing or cropping, expand and tile by summing over the copies. Gather's
// scatter-add is a one-hot matmul, fine for the small index ranges of vision
// models (class token, position tables), and kept so that training graphs
// stay free of vt.scatter, which only the CPU target lowers. A scatter's
// gradient gathers: see ScatterOp::buildVjp.
//
//===----------------------------------------------------------------------===//
#include "GradBuilder.h"

#include <algorithm>

using namespace mlir;
using namespace vitc::vt;

LogicalResult TransposeOp::buildVjp(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  out.assign(1, TransposeOp::create(b, getLoc(), grads[0], inverse));
  return success();
}

LogicalResult ReshapeOp::buildVjp(OpBuilder &b, ValueRange grads,
                                  SmallVectorImpl<Value> &out) {
  Value x = getInput();
  out.assign({ReshapeOp::create(b, getLoc(), x.getType(), grads[0],
                                buildShapeOf(b, getLoc(), x)),
              Value()});
  return success();
}

LogicalResult ExpandOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  out.assign({unbroadcastGradient(b, getLoc(), grads[0], getInput()), Value()});
  return success();
}

/// Zeros with g at the positions the slice read: g reversed along dims with
/// negative steps (so that it runs in increasing index order), dilated by
/// |step|, padded from the first read index.
LogicalResult SliceOp::buildVjp(OpBuilder &b, ValueRange grads,
                                SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), g = grads[0];
  auto xType = rankedOf(x), gType = rankedOf(g);
  ArrayRef<int64_t> starts = getStarts(), ends = getEnds(), steps = getSteps();
  int64_t rank = xType.getRank();
  SmallVector<int64_t> lo, hi, factors, revStarts, revEnds, revSteps;
  bool reverse = false;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = xType.getDimSize(d), step = steps[d];
    revStarts.push_back(0);
    revEnds.push_back(kToEnd);
    revSteps.push_back(1);
    if (ShapedType::isDynamic(dim)) {
      // A dynamic dim taken whole (the importer's "to the end") passes.
      if (step == 1 && starts[d] == 0 && ends[d] >= (int64_t)INT32_MAX) {
        lo.push_back(0);
        hi.push_back(0);
        factors.push_back(1);
        continue;
      }
      return emitOpError(
          "gradient of slice along a dynamic dim is not implemented");
    }
    int64_t n = gType.getDimSize(d);
    if (n == 0) {
      // Nothing read: the gradient is zero.
      noGradients(*this, out);
      return success();
    }
    int64_t start = starts[d] < 0 ? starts[d] + dim : starts[d];
    int64_t first = step > 0 ? std::clamp<int64_t>(start, 0, dim)
                             : std::clamp<int64_t>(start, -1, dim - 1) +
                                   (n - 1) * step;
    if (step < 0) {
      reverse = true;
      revStarts.back() = n - 1;
      revEnds.back() = -n - 1;
      revSteps.back() = -1;
    }
    int64_t f = std::abs(step);
    factors.push_back(f);
    lo.push_back(first);
    hi.push_back(dim - first - n * f);
  }
  if (reverse)
    g = gb.slice(g, revStarts, revEnds, revSteps);
  Value spread = gb.dilate(g, factors);
  if (!spread)
    return emitOpError("gradient of slice: cannot spread the result gradient "
                       "by the steps");
  out.assign(1, gb.pad(spread, lo, hi));
  return success();
}

/// Each input's gradient is its slab of g along the axis.
LogicalResult ConcatOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  int64_t axis = getAxis(), rank = rankedOf(getResult()).getRank();
  int64_t offset = 0;
  out.clear();
  for (Value v : getInputs()) {
    int64_t size = rankedOf(v).getDimSize(axis);
    if (ShapedType::isDynamic(size))
      return emitOpError(
          "gradient of concat along a dynamic dim is not implemented");
    SmallVector<int64_t> starts(rank, 0), ends(rank, kToEnd), steps(rank, 1);
    starts[axis] = offset;
    ends[axis] = offset + size;
    offset += size;
    out.push_back(gb.slice(grads[0], starts, ends, steps));
  }
  return success();
}

/// Padding's gradient crops what it added (and pads back what negative
/// pads cropped): a pad by the negated amounts.
LogicalResult PadOp::buildVjp(OpBuilder &b, ValueRange grads,
                              SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  int64_t rank = rankedOf(getInput()).getRank();
  auto neg = llvm::map_to_vector(getPads(), [](int64_t p) { return -p; });
  out.assign(1, gb.pad(grads[0], ArrayRef(neg).take_front(rank),
                       ArrayRef(neg).drop_front(rank)));
  return success();
}

/// Gather of one constant index (ViT's qkv[0], x[:, 0]): the gradient is g
/// put back at that index, zeros elsewhere, i.e. a pad along the axis,
/// which, unlike the one-hot matmul below, allows dynamic dims (the batch).
/// Null when the index is not one constant or more than one dim is dynamic.
static Value gatherOneGradient(GradBuilder &gb, GatherOp op, Value g) {
  auto xType = rankedOf(op.getInput());
  int64_t axis = op.getAxis(), rows = xType.getDimSize(axis);
  std::optional<SmallVector<int64_t>> index = getConstantInts(op.getIndices());
  if (!index || index->size() != 1 || ShapedType::isDynamic(rows) ||
      llvm::count_if(xType.getShape(), ShapedType::isDynamic) > 1)
    return Value();
  int64_t i = (*index)[0] < 0 ? (*index)[0] + rows : (*index)[0];
  // g lacks the axis for a scalar index: give it back as a size-1 dim.
  if (rankedOf(g).getRank() != xType.getRank()) {
    SmallVector<int64_t> shape;
    for (auto [d, size] : llvm::enumerate(xType.getShape()))
      shape.push_back((int64_t)d == axis ? 1
                      : ShapedType::isDynamic(size) ? -1
                                                    : size);
    g = gb.reshapeTo(g, shape);
  }
  SmallVector<int64_t> lo(xType.getRank(), 0), hi(xType.getRank(), 0);
  lo[axis] = i;
  hi[axis] = rows - i - 1;
  return gb.pad(g, lo, hi);
}

/// Scatter-add of g into the gathered rows; repeated indices add up. vt has
/// no scatter, so it is a matmul with the one-hot matrix [D, M] of the
/// (wrapped) indices: dx [P, D, Q] = onehot x g [P, M, Q], with P, M, Q the
/// dims before, of and after the gathered ones. O(D M) memory: right for
/// vision's small tables, not for large embedding tables (those need a
/// scatter op).
LogicalResult GatherOp::buildVjp(OpBuilder &b, ValueRange grads,
                                 SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  Value x = getInput(), idx = getIndices(), g = grads[0];
  auto xType = rankedOf(x), idxType = rankedOf(idx);
  int64_t axis = getAxis();
  if (Value dx = gatherOneGradient(gb, *this, g))
    return out.assign({dx, Value()}), success();
  // g viewed as [P, M, Q]: one of P (dims before the axis) and Q (after)
  // may be dynamic, and becomes the reshape's inferred dim.
  auto staticProduct = [](ArrayRef<int64_t> dims) -> int64_t {
    int64_t p = 1;
    for (int64_t d : dims)
      if (ShapedType::isDynamic(d))
        return -1;
      else
        p *= d;
    return p;
  };
  int64_t p = staticProduct(xType.getShape().take_front(axis));
  int64_t q = staticProduct(xType.getShape().drop_front(axis + 1));
  int64_t rows = xType.getDimSize(axis), m = idxType.getNumElements();
  if (!idxType.hasStaticShape() || ShapedType::isDynamic(rows) ||
      (p < 0 && q < 0))
    return emitOpError("gradient of gather needs static indices, a static "
                       "axis, and static dims on one side of it");
  Type idxElt = idxType.getElementType();
  Value i = gb.reshapeTo(idx, {1, m});
  Value zero = gb.intConstant({}, {0}, idxElt);
  Value wrapped = gb.add(i, gb.intConstant({}, {rows}, idxElt));
  i = SelectOp::create(b, getLoc(), LessOp::create(b, getLoc(), i, zero),
                       wrapped, i);
  Value range = gb.intConstant(
      {rows, 1}, llvm::to_vector(llvm::seq<int64_t>(0, rows)), idxElt);
  Value eq = EqualOp::create(b, getLoc(), range, i);
  Value onehot = CastOp::create(
      b, getLoc(), RankedTensorType::get({rows, m}, xType.getElementType()),
      eq);
  Value dx = MatmulOp::create(b, getLoc(), onehot, gb.reshapeTo(g, {p, m, q}));
  out.assign({ReshapeOp::create(b, getLoc(), x.getType(), dx,
                                buildShapeOf(b, getLoc(), x)),
              Value()});
  return success();
}

/// The gradient of a scatter with reduction "none" or "add" (mul, max and
/// min are refused). With i the wrapped index of each update:
///   - "add": data's gradient is g; an update's is g at its position,
///     gather(g, i);
///   - "none": data's gradient is g with the written positions zeroed, a
///     scatter of zeros; an update's is gather(g, i) if it is the last write
///     to its position, 0 if a later update overwrote it (the result does
///     not depend on it: finite differences agree). PyTorch's scatter and
///     index_put give every duplicate gather(g, i) instead.
/// A dropped update (index out of range) gets 0. Both zeros come from one
/// gather: g padded with a zero row R along the axis, read at row R where
/// the update gets nothing, so the gather never reads out of bounds.
LogicalResult ScatterOp::buildVjp(OpBuilder &b, ValueRange grads,
                                  SmallVectorImpl<Value> &out) {
  StringRef reduction = getReduction();
  if (reduction != "none" && reduction != "add")
    return emitOpError("gradient of scatter with reduction '")
           << reduction << "' is not implemented (none and add are)";
  GradBuilder gb{b, getLoc()};
  Location loc = getLoc();
  Value g = grads[0], data = getData(), updates = getUpdates();
  int64_t axis = getAxis();
  auto dataType = rankedOf(data), idxType = rankedOf(getIndices());
  Type i64 = b.getI64Type(), i1 = b.getI1Type();
  Value idx = gb.castElements(getIndices(), i64);
  auto scalarI64 = [&](int64_t v) { return gb.intConstant({}, {v}, i64); };
  // R, the rows along the axis, as a rank-0 i64 and as a 1-D shape [R].
  Value rows, rowsShape;
  if (dataType.isDynamicDim(axis)) {
    Value shape = ShapeOfOp::create(b, loc, data);
    rows = GatherOp::create(b, loc, shape, scalarI64(axis), /*axis=*/0);
    rowsShape = gb.slice(shape, {axis}, {axis + 1}, {1});
  } else {
    rows = scalarI64(dataType.getDimSize(axis));
    rowsShape = gb.intConstant({1}, {dataType.getDimSize(axis)}, i64);
  }
  Value zero = scalarI64(0);
  Value wrapped = SelectOp::create(b, loc, LessOp::create(b, loc, idx, zero),
                                   gb.add(idx, rows), idx);
  Value keep = AndOp::create(
      b, loc,
      NotOp::create(b, loc, idxType.clone(i1),
                    LessOp::create(b, loc, wrapped, zero)),
      LessOp::create(b, loc, wrapped, rows));
  Value dData = g;
  if (reduction == "none") {
    // The last write to each row: a scatter of the updates' ordinals into
    // -1s ("none" keeps the last), read back at each update's row.
    Value flat = gb.reshapeTo(wrapped, {-1});
    auto flatType = rankedOf(flat);
    Value count = flatType.isDynamicDim(0)
                      ? GatherOp::create(b, loc, ShapeOfOp::create(b, loc, flat),
                                         scalarI64(0), /*axis=*/0)
                            .getResult()
                      : scalarI64(flatType.getDimSize(0));
    Value ordinals =
        RangeOp::create(b, loc, flatType, zero, count, scalarI64(1));
    Value minusOnes = ExpandOp::create(
        b, loc, RankedTensorType::get({dataType.getDimSize(axis)}, i64),
        scalarI64(-1), rowsShape);
    Value last = ScatterOp::create(b, loc, minusOnes, flat, ordinals, 0,
                                   "none");
    // Read back at row R of a padded copy where the update was dropped.
    Value safe = SelectOp::create(b, loc, gb.reshapeTo(keep, {-1}), flat,
                                  rows);
    Value lastPadded = gb.pad(last, {0}, {1}, -1.0);
    Value isLast = EqualOp::create(
        b, loc, GatherOp::create(b, loc, lastPadded, safe, /*axis=*/0),
        ordinals);
    isLast = ReshapeOp::create(b, loc, idxType.clone(i1), isLast,
                               buildShapeOf(b, loc, idx));
    keep = AndOp::create(b, loc, keep, isLast);
    // data's gradient: zeros written where the updates went.
    Type gElt = rankedOf(g).getElementType();
    Value zeros = ExpandOp::create(
        b, loc, rankedOf(updates).clone(gElt), gb.scalar(g, 0.0),
        buildShapeOf(b, loc, updates));
    dData = ScatterOp::create(b, loc, g, getIndices(), zeros, axis, "none");
  }
  SmallVector<int64_t> lo(dataType.getRank(), 0), hi(dataType.getRank(), 0);
  hi[axis] = 1;
  Value padded = gb.pad(g, lo, hi);
  Value at = SelectOp::create(b, loc, keep, wrapped, rows);
  Value dUpdates = GatherOp::create(b, loc, padded, at, axis);
  if (dUpdates.getType() != updates.getType() &&
      rankedOf(dUpdates).getShape() != rankedOf(updates).getShape())
    dUpdates = ReshapeOp::create(
        b, loc, rankedOf(updates).clone(rankedOf(g).getElementType()),
        dUpdates, buildShapeOf(b, loc, updates));
  out.assign({dData, Value(), dUpdates});
  return success();
}

/// The sum over the copies: g [r0 d0, r1 d1, ...] -> [r0, d0, r1, d1, ...],
/// summed over the r dims.
LogicalResult TileOp::buildVjp(OpBuilder &b, ValueRange grads,
                               SmallVectorImpl<Value> &out) {
  GradBuilder gb{b, getLoc()};
  auto xType = rankedOf(getInput());
  SmallVector<int64_t> shape, axes;
  bool inferred = false;
  for (auto [d, r] : llvm::enumerate(getRepeats())) {
    int64_t dim = xType.getDimSize(d);
    if (r == 0) {
      // An empty result: nothing flows back.
      noGradients(*this, out);
      return success();
    }
    if (ShapedType::isDynamic(dim)) {
      if (r != 1 || inferred)
        return emitOpError("gradient of tile with dynamic dims is only "
                           "implemented for one unrepeated dynamic dim");
      inferred = true;
      shape.push_back(-1);
      continue;
    }
    if (r > 1) {
      axes.push_back(shape.size());
      shape.push_back(r);
    }
    shape.push_back(dim);
  }
  if (axes.empty()) {
    out.assign(1, grads[0]);
    return success();
  }
  out.assign(1, ReduceSumOp::create(b, getLoc(), gb.reshapeTo(grads[0], shape),
                                    axes, /*keepdims=*/false));
  return success();
}
