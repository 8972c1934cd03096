//===- OpsIndexing.cpp - GatherND, GatherElements, ScatterND/Elements ------===//
//
// vt has one indexing op, vt.gather (rows along an axis, with a gradient).
// The ONNX indexing ops are lowered onto it by linearising: the indexed dims
// of `data` are flattened into one axis of R rows, and each index tuple
// becomes one row number. What vision models feed these ops:
// - GatherND on a relative-position table (Swin v2, with a gradient) and on
//   a small activation map (adaptive pooling in dynamo exports), constant
//   indices;
// - ScatterND writing slices of a constant mask (Swin's shifted windows) or
//   of an activation (slice assignment in dynamo exports), constant indices.
// Gathers accept indices computed at run time (the row number is then
// arithmetic on the index tensor). Scatters with constant indices become
// rounds of gather + select, one round per repeat of a row, so duplicate
// indices with a reduction keep ONNX's order of application; they fold
// with the rest of the graph and compile for every target. Scatters with
// indices computed at run time (or constant ones into rows of a dynamic
// dim, or with dynamic shapes) become vt.scatter, the inverse of
// vt.gather, on the same linearised rows (ScatterND) or on the flattened
// data's element numbers (ScatterElements). An index out of range drops its
// update there (ONNX calls it an error; vt.scatter never writes out of
// bounds): a tuple or element index with any component out of range gets
// the row INT64_MAX, which no data has.
//
//===----------------------------------------------------------------------===//
#include "OpHelpers.h"

namespace vitc::onnx_import {

using vt::GatherOp;

/// A constant of `shape` and integer or i1 element type `elt`.
static Value constInts(NodeImporter &n, ArrayRef<int64_t> shape,
                       ArrayRef<int64_t> values, Type elt) {
  auto type = RankedTensorType::get(shape, elt);
  unsigned width = elt.getIntOrFloatBitWidth();
  auto bits = llvm::map_to_vector(values, [&](int64_t v) {
    return APInt(width, v, /*isSigned=*/width > 1, /*implicitTrunc=*/true);
  });
  auto attr = DenseElementsAttr::get(type, bits);
  return vt::ConstantOp::create(n.builder(), n.loc(), type,
                                cast<TypedAttr>(attr), StringAttr())
      .getResult();
}

static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    p *= d;
  return p;
}

/// Errors unless `dims` are static; `what` names them in the message.
static LogicalResult requireStatic(NodeImporter &n, RankedTensorType type,
                                   ArrayRef<int64_t> dims,
                                   llvm::StringRef what) {
  for (int64_t d : dims)
    if (type.isDynamicDim(d))
      return n.error() << what << " must have static dims, got " << type;
  return success();
}

/// `x` with dims [first, last) merged into one (they must be static); the
/// other dims, dynamic ones included, are kept.
static FailureOr<Value> mergeDims(NodeImporter &n, Value x, int64_t first,
                                  int64_t last) {
  auto type = tensorType(x);
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < first; ++d)
    dims.push_back(type.isDynamicDim(d) ? -(d + 1) : type.getDimSize(d));
  dims.push_back(product(type.getShape().slice(first, last - first)));
  for (int64_t d = last; d < type.getRank(); ++d)
    dims.push_back(type.isDynamicDim(d) ? -(d + 1) : type.getDimSize(d));
  return n.reshapeToDims(x, dims);
}

/// Row numbers of index tuples, when `indices` is a constant: for each tuple
/// (the last dim of `indices`, `k` entries) into dims `dims` (static),
/// sum_j wrap(i_j) * stride_j. Out-of-range entries are errors.
static FailureOr<std::optional<SmallVector<int64_t>>>
constantRows(NodeImporter &n, Value indices, ArrayRef<int64_t> dims) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(n.evaluateConstant(indices));
  if (!dense)
    return std::optional<SmallVector<int64_t>>();
  int64_t k = dims.size();
  SmallVector<int64_t> rows;
  int64_t row = 0, j = 0;
  for (const APInt &v : dense.getValues<APInt>()) {
    int64_t i = v.getSExtValue(), dim = dims[j];
    if (i < -dim || i >= dim)
      return n.error() << "index " << i << " is out of range for a dim of "
                       << dim;
    row = row * dim + (i < 0 ? i + dim : i);
    if (++j == k) {
      rows.push_back(row);
      row = 0;
      j = 0;
    }
  }
  return std::optional<SmallVector<int64_t>>(std::move(rows));
}

/// `i` + `dim` where `i` < 0 (negative indices count from the end); `dim`
/// is a constant broadcast against `i`.
static Value wrapNegative(NodeImporter &n, Value i, Value dim) {
  Value zero = n.scalar(tensorType(i).getElementType(), 0);
  Value negative = *n.build<vt::LessOp>(i, zero);
  return *n.build<vt::SelectOp>(negative, *n.build<vt::AddOp>(i, dim), i);
}

//===----------------------------------------------------------------------===//
// GatherND
//===----------------------------------------------------------------------===//

/// GatherND, batch_dims b: data [B..., D0..Dk-1, rest...], indices
/// [B..., M..., k] -> [B..., M..., rest...]. The B and D dims are merged into
/// one axis of rows (they must be static); the row of an index tuple is
/// batch * prod(D) + sum_j i_j * stride_j.
static LogicalResult importGatherND(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value data = n.input(0), indices = n.input(1);
  auto dataType = tensorType(data), idxType = tensorType(indices);
  int64_t batchDims = n.attrInt("batch_dims", 0);
  int64_t q = idxType.getRank(), r = dataType.getRank();
  if (!idxType.getElementType().isSignlessInteger(64) &&
      !idxType.getElementType().isSignlessInteger(32))
    return n.error() << "indices must be int64 or int32, got " << idxType;
  if (q < 1 || idxType.isDynamicDim(q - 1))
    return n.error() << "indices need a static last dim, got " << idxType;
  int64_t k = idxType.getDimSize(q - 1);
  if (batchDims < 0 || batchDims >= std::min(q, r) || batchDims + k > r)
    return n.error() << "batch_dims " << batchDims << " and index length " << k
                     << " do not fit data " << dataType << " and indices "
                     << idxType;
  SmallVector<int64_t> merged = llvm::to_vector(llvm::seq<int64_t>(0, batchDims + k));
  if (failed(requireStatic(n, dataType, merged,
                           "data's batch and indexed dims")))
    return failure();
  SmallVector<int64_t> batchShape(dataType.getShape().take_front(batchDims));
  SmallVector<int64_t> indexed(dataType.getShape().slice(batchDims, k));
  for (int64_t d = 0; d < batchDims; ++d)
    if (idxType.getDimSize(d) != batchShape[d])
      return n.error() << "indices' batch dims must equal data's, got "
                       << idxType << " and " << dataType;
  if (batchDims > 0 && !idxType.hasStaticShape())
    return n.error() << "indices must be static with batch_dims > 0, got "
                     << idxType;
  int64_t perBatch = product(indexed);
  auto rows = mergeDims(n, data, 0, batchDims + k);
  if (failed(rows))
    return failure();

  // Row numbers: [B..., M...] (the tuples' shape).
  SmallVector<int64_t> tupleShape(idxType.getShape().drop_back());
  Value rowIds;
  auto constant = constantRows(n, indices, indexed);
  if (failed(constant))
    return failure();
  Type i64 = n.builder().getI64Type();
  if (*constant) {
    // Tuples are laid out batch-major: tuple t is in batch t / perBatchTuples.
    SmallVector<int64_t> ids = **constant;
    int64_t perBatchTuples =
        std::max<int64_t>(ids.size() / std::max<int64_t>(product(batchShape), 1), 1);
    for (size_t t = 0; t < ids.size(); ++t)
      ids[t] += (int64_t)t / perBatchTuples * perBatch;
    rowIds = constInts(n, tupleShape, ids, i64);
  } else {
    // Per component j: wrap(i_j) * stride_j, summed.
    Value idx = n.castTo(indices, i64);
    int64_t stride = perBatch;
    for (int64_t j = 0; j < k; ++j) {
      stride /= indexed[j];
      SmallVector<int64_t> starts(q, 0), ends(q, std::numeric_limits<int64_t>::max());
      starts[q - 1] = j;
      ends[q - 1] = j + 1;
      auto part = n.build<vt::SliceOp>(idx, starts, ends,
                                       SmallVector<int64_t>(q, 1));
      if (failed(part))
        return failure();
      Value term = wrapNegative(n, *part, n.scalar(i64, indexed[j]));
      term = *n.build<vt::MulOp>(term, n.scalar(i64, stride));
      rowIds = rowIds ? *n.build<vt::AddOp>(rowIds, term) : term;
    }
    if (batchDims > 0) {
      // + batch * prod(D): a constant of the batch dims, broadcast.
      SmallVector<int64_t> offsetShape(batchShape), offsets;
      offsetShape.append(q - batchDims, 1);
      for (int64_t t = 0, e = product(batchShape); t < e; ++t)
        offsets.push_back(t * perBatch);
      rowIds = *n.build<vt::AddOp>(rowIds, constInts(n, offsetShape, offsets, i64));
    }
    SmallVector<int64_t> dims;
    for (int64_t d = 0; d < q - 1; ++d)
      dims.push_back(idxType.isDynamicDim(d) ? -(d + 1) : idxType.getDimSize(d));
    auto flat = n.reshapeToDims(rowIds, dims);
    if (failed(flat))
      return failure();
    rowIds = *flat;
  }
  return n.setResult(0, n.build<GatherOp>(*rows, rowIds, (uint64_t)0));
}

//===----------------------------------------------------------------------===//
// GatherElements
//===----------------------------------------------------------------------===//

/// GatherElements: out[p] = data[p with p[axis] = indices[p]]. Flattened:
/// data (static) becomes one axis of elements, and the element number is
/// wrap(indices) * stride(axis) + (the other coordinates' part, a constant
/// of indices' shape, which must be static).
static LogicalResult importGatherElements(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  Value data = n.input(0), indices = n.input(1);
  auto dataType = tensorType(data), idxType = tensorType(indices);
  int64_t rank = dataType.getRank();
  if (idxType.getRank() != rank)
    return n.error() << "indices must have data's rank, got " << idxType
                     << " and " << dataType;
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  if (!dataType.hasStaticShape() || !idxType.hasStaticShape())
    return n.error() << "data and indices must be static, got " << dataType
                     << " and " << idxType;
  for (int64_t d = 0; d < rank; ++d)
    if (d != *axis && idxType.getDimSize(d) > dataType.getDimSize(d))
      return n.error() << "indices " << idxType << " exceed data " << dataType
                       << " in dim " << d;
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * dataType.getDimSize(d + 1);
  int64_t axisDim = dataType.getDimSize(*axis);
  // The other coordinates' part of each element number.
  SmallVector<int64_t> base;
  auto idxShape = idxType.getShape();
  for (int64_t lin = 0, e = idxType.getNumElements(); lin < e; ++lin) {
    int64_t rem = lin, offset = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (d != *axis)
        offset += (rem % idxShape[d]) * strides[d];
      rem /= idxShape[d];
    }
    base.push_back(offset);
  }
  Type i64 = n.builder().getI64Type();
  Value ids;
  if (auto dense = dyn_cast_or_null<DenseIntElementsAttr>(n.evaluateConstant(indices))) {
    SmallVector<int64_t> values;
    for (auto [lin, v] : llvm::enumerate(dense.getValues<APInt>())) {
      int64_t i = v.getSExtValue();
      if (i < -axisDim || i >= axisDim)
        return n.error() << "index " << i << " is out of range for a dim of "
                         << axisDim;
      values.push_back(base[lin] + (i < 0 ? i + axisDim : i) * strides[*axis]);
    }
    ids = constInts(n, idxShape, values, i64);
  } else {
    Value i = wrapNegative(n, n.castTo(indices, i64), n.scalar(i64, axisDim));
    i = *n.build<vt::MulOp>(i, n.scalar(i64, strides[*axis]));
    ids = *n.build<vt::AddOp>(i, constInts(n, idxShape, base, i64));
  }
  auto flat = n.reshapeToDims(data, {dataType.getNumElements()});
  if (failed(flat))
    return failure();
  return n.setResult(0, n.build<GatherOp>(*flat, ids, (uint64_t)0));
}

//===----------------------------------------------------------------------===//
// ScatterND / ScatterElements
//===----------------------------------------------------------------------===//

/// Writes rows of `updates` [M, rest...] into rows of `data` [R, rest...]:
/// update j goes to row `targets[j]`, combined by `reduction` (none, add,
/// mul, max, min). Round t applies the t-th update aimed at each row, so
/// repeats are applied in index order, as the ONNX reference does.
static FailureOr<Value> scatterRows(NodeImporter &n, Value data, Value updates,
                                    ArrayRef<int64_t> targets,
                                    llvm::StringRef reduction) {
  auto dataType = tensorType(data);
  int64_t rows = dataType.getDimSize(0);
  Type i64 = n.builder().getI64Type(), i1 = n.builder().getI1Type();
  // sources[t][row]: the update of round t for `row`, or -1.
  SmallVector<SmallVector<int64_t>> sources;
  SmallVector<int64_t> seen(rows, 0);
  for (auto [j, row] : llvm::enumerate(targets)) {
    int64_t t = seen[row]++;
    if (t == (int64_t)sources.size())
      sources.emplace_back(rows, -1);
    sources[t][row] = j;
  }
  if (reduction == "none" && sources.size() > 1)
    return n.error() << "indices repeat a position (reduction 'none' needs "
                        "distinct positions)";
  // Masks broadcast over the row's trailing dims.
  SmallVector<int64_t> maskShape{rows};
  maskShape.append(dataType.getRank() - 1, 1);
  Value out = data;
  for (ArrayRef<int64_t> source : sources) {
    SmallVector<int64_t> mask, picks;
    for (int64_t j : source) {
      mask.push_back(j >= 0);
      picks.push_back(std::max<int64_t>(j, 0));
    }
    auto picked = n.build<GatherOp>(updates, constInts(n, {rows}, picks, i64),
                                    (uint64_t)0);
    if (failed(picked))
      return failure();
    FailureOr<Value> combined = *picked;
    if (reduction == "add")
      combined = n.build<vt::AddOp>(out, *picked);
    else if (reduction == "mul")
      combined = n.build<vt::MulOp>(out, *picked);
    else if (reduction == "max")
      combined = n.build<vt::MaxOp>(out, *picked);
    else if (reduction == "min")
      combined = n.build<vt::MinOp>(out, *picked);
    if (failed(combined))
      return failure();
    auto next = n.build<vt::SelectOp>(constInts(n, maskShape, mask, i1),
                                      *combined, out);
    if (failed(next))
      return failure();
    out = *next;
  }
  return out;
}

/// The operands and reduction of a ScatterND / ScatterElements node.
struct ScatterOperands {
  Value data, indices, updates;
  RankedTensorType dataType, idxType, updType;
  std::string reduction;
};

static FailureOr<ScatterOperands> readScatter(NodeImporter &n) {
  if (failed(n.expectInputs(3)))
    return failure();
  ScatterOperands s{n.input(0), n.input(1), n.input(2), {}, {}, {}, ""};
  s.dataType = tensorType(s.data);
  s.idxType = tensorType(s.indices);
  s.updType = tensorType(s.updates);
  s.reduction = n.attrString("reduction", "none");
  if (s.reduction != "none" && s.reduction != "add" && s.reduction != "mul" &&
      s.reduction != "max" && s.reduction != "min")
    return n.error() << "unknown reduction '" << s.reduction << "'";
  return s;
}

/// A rank-0 i64: `type`'s dim `d`, a constant where static, read from
/// vt.shape_of(`x`) otherwise.
static Value dimScalar(NodeImporter &n, Value x, int64_t d) {
  auto type = tensorType(x);
  Type i64 = n.builder().getI64Type();
  if (!type.isDynamicDim(d))
    return n.scalar(i64, type.getDimSize(d));
  Value shape = *n.build<vt::ShapeOfOp>(x);
  return *n.build<GatherOp>(shape, constInts(n, {}, {d}, i64), (uint64_t)0);
}

/// `i` if every `valid` holds, INT64_MAX (out of range of any data: the
/// scatter drops the update) otherwise.
static Value rowOrDropped(NodeImporter &n, Value i, Value valid) {
  Type i64 = n.builder().getI64Type();
  return *n.build<vt::SelectOp>(
      valid, i, constInts(n, {}, {std::numeric_limits<int64_t>::max()}, i64));
}

/// Whether -dim <= i < dim (i1, shaped like `i`); `dim` is a rank-0 i64.
static Value inRange(NodeImporter &n, Value i, Value dim) {
  Value low = *n.build<vt::SubOp>(n.scalar(n.builder().getI64Type(), 0), dim);
  Value tooLow = *n.build<vt::LessOp>(i, low);
  Value below = *n.build<vt::LessOp>(i, dim);
  Value notTooLow = vt::NotOp::create(n.builder(), n.loc(),
                                      tensorType(tooLow), tooLow);
  return *n.build<vt::AndOp>(notTooLow, below);
}

/// ScatterND with indices computed at run time: vt.scatter along axis 0 of
/// data with its k indexed dims merged into R rows, indices [M..., k] made
/// row numbers [M...], updates [M..., rest...] as they are. With k = 1 the
/// index is the row (vt.scatter wraps and checks it); with k > 1 each
/// component is checked and wrapped here.
static LogicalResult scatterNDAtRunTime(NodeImporter &n,
                                        const ScatterOperands &s, int64_t k) {
  auto [data, indices, updates, dataType, idxType, updType, reduction] = s;
  int64_t q = idxType.getRank(), r = dataType.getRank();
  Type i64 = n.builder().getI64Type();
  Value idx = n.castTo(indices, i64);
  SmallVector<int64_t> tupleDims;
  for (int64_t d = 0; d < q - 1; ++d)
    tupleDims.push_back(idxType.isDynamicDim(d) ? -(d + 1) : idxType.getDimSize(d));
  Value rows = data;
  Value rowIds;
  if (k == 1) {
    auto flat = n.reshapeToDims(idx, tupleDims);
    if (failed(flat))
      return failure();
    rowIds = *flat;
  } else {
    // Row of a tuple: sum_j wrap(i_j) * stride_j, strides of data's indexed
    // dims (read at run time where dynamic).
    SmallVector<Value> strides(k);
    strides[k - 1] = n.scalar(i64, 1);
    for (int64_t j = k - 2; j >= 0; --j)
      strides[j] = *n.build<vt::MulOp>(strides[j + 1], dimScalar(n, data, j + 1));
    Value valid;
    for (int64_t j = 0; j < k; ++j) {
      Value dim = dimScalar(n, data, j);
      SmallVector<int64_t> starts(q, 0), ends(q, std::numeric_limits<int64_t>::max());
      starts[q - 1] = j;
      ends[q - 1] = j + 1;
      auto part = n.build<vt::SliceOp>(idx, starts, ends, SmallVector<int64_t>(q, 1));
      if (failed(part))
        return failure();
      Value ok = inRange(n, *part, dim);
      valid = valid ? *n.build<vt::AndOp>(valid, ok) : ok;
      Value term = *n.build<vt::MulOp>(wrapNegative(n, *part, dim), strides[j]);
      rowIds = rowIds ? *n.build<vt::AddOp>(rowIds, term) : term;
    }
    auto flat = n.reshapeToDims(rowOrDropped(n, rowIds, valid), tupleDims);
    if (failed(flat))
      return failure();
    rowIds = *flat;
    // data as [rows, rest...]: the rows' count inferred (-1), the rest dims
    // constants or read from vt.shape_of.
    SmallVector<Value> pieces{n.constI64({-1})};
    for (int64_t d = k; d < r; ++d)
      pieces.push_back(dataType.isDynamicDim(d)
                           ? *n.build<GatherOp>(*n.build<vt::ShapeOfOp>(data),
                                                n.constI64({d}), (uint64_t)0)
                           : n.constI64({dataType.getDimSize(d)}));
    Value shape = pieces.size() == 1
                      ? pieces[0]
                      : *n.build<vt::ConcatOp>(pieces, (uint64_t)0);
    auto merged = n.reshape(data, shape);
    if (failed(merged))
      return failure();
    rows = *merged;
  }
  auto out = n.build<vt::ScatterOp>(rows, rowIds, updates, (uint64_t)0,
                                    llvm::StringRef(reduction));
  if (failed(out) || k == 1)
    return n.setResult(0, out);
  Value shape = dataType.hasStaticShape() ? n.constI64(dataType.getShape())
                                          : *n.build<vt::ShapeOfOp>(data);
  n.setResult(0, vt::ReshapeOp::create(n.builder(), n.loc(), dataType, *out,
                                       shape)
                     .getResult());
  return success();
}

/// ScatterND: data [D0..Dk-1, rest...], indices [M..., k], updates
/// [M..., rest...].
static LogicalResult importScatterND(NodeImporter &n) {
  auto operands = readScatter(n);
  if (failed(operands))
    return failure();
  auto [data, indices, updates, dataType, idxType, updType, reduction] =
      *operands;
  int64_t q = idxType.getRank(), r = dataType.getRank();
  if (q < 1 || idxType.isDynamicDim(q - 1))
    return n.error() << "indices need a static last dim, got " << idxType;
  int64_t k = idxType.getDimSize(q - 1);
  if (k < 1 || k > r || updType.getRank() != q - 1 + r - k)
    return n.error() << "data " << dataType << ", indices " << idxType
                     << " and updates " << updType << " do not fit";
  for (int64_t d = 0; d < updType.getRank(); ++d) {
    int64_t want = d < q - 1 ? idxType.getDimSize(d) : dataType.getDimSize(d - (q - 1) + k);
    if (updType.getDimSize(d) != want && !updType.isDynamicDim(d) &&
        !ShapedType::isDynamic(want))
      return n.error() << "updates " << updType << " do not match indices "
                       << idxType << " and data " << dataType;
  }
  // Constant indices into static rows: rounds of gather + select, which
  // fold. Otherwise (run-time indices, or rows of a dynamic dim: slice
  // assignment into the batch) vt.scatter.
  SmallVector<int64_t> indexed(dataType.getShape().take_front(k));
  bool staticRows =
      idxType.hasStaticShape() && !llvm::any_of(indexed, ShapedType::isDynamic) &&
      !llvm::any_of(updType.getShape().take_front(q - 1), ShapedType::isDynamic);
  if (!isa_and_nonnull<DenseIntElementsAttr>(n.evaluateConstant(indices)) ||
      !staticRows)
    return scatterNDAtRunTime(n, *operands, k);
  auto targets = constantRows(n, indices, indexed);
  if (failed(targets))
    return failure();
  auto dataRows = mergeDims(n, data, 0, k);
  auto updRows = mergeDims(n, updates, 0, q - 1);
  if (failed(dataRows) || failed(updRows))
    return failure();
  auto out = scatterRows(n, *dataRows, *updRows, **targets, reduction);
  if (failed(out))
    return failure();
  // Back to data's shape: the merged dims were static, the rest are copied.
  SmallVector<int64_t> back(indexed);
  for (int64_t d = k; d < r; ++d)
    back.push_back(dataType.isDynamicDim(d) ? -(d - k + 2) : dataType.getDimSize(d));
  return n.setResult(0, n.reshapeToDims(*out, back));
}

/// ScatterElements with indices computed at run time: vt.scatter on the
/// flattened data, each update aimed at its element number
///   sum over d != axis of p_d * stride_d + wrap(indices[p]) * stride_axis
/// (p the update's position, strides data's, read at run time where its
/// dims are dynamic), INT64_MAX where indices[p] is out of range.
static LogicalResult scatterElementsAtRunTime(NodeImporter &n,
                                              const ScatterOperands &s,
                                              int64_t axis) {
  auto [data, indices, updates, dataType, idxType, updType, reduction] = s;
  int64_t rank = dataType.getRank();
  Type i64 = n.builder().getI64Type();
  // strides[d]: the product of data's dims after d.
  SmallVector<Value> strides(rank);
  strides[rank - 1] = n.scalar(i64, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = *n.build<vt::MulOp>(strides[d + 1], dimScalar(n, data, d + 1));
  Value axisDim = dimScalar(n, data, axis);
  Value idx = n.castTo(indices, i64);
  Value ids = *n.build<vt::MulOp>(wrapNegative(n, idx, axisDim), strides[axis]);
  for (int64_t d = 0; d < rank; ++d) {
    if (d == axis)
      continue;
    // p_d: 0 .. indices' dim d, along dim d.
    int64_t size = idxType.getDimSize(d);
    Value limit = dimScalar(n, indices, d);
    Value iota = vt::RangeOp::create(
        n.builder(), n.loc(), RankedTensorType::get({size}, i64),
        n.scalar(i64, 0), limit, n.scalar(i64, 1));
    SmallVector<int64_t> along(rank, 1);
    along[d] = ShapedType::isDynamic(size) ? -1 : size;
    auto placed = n.reshapeToDims(iota, along);
    if (failed(placed))
      return failure();
    Value term = *n.build<vt::MulOp>(*placed, strides[d]);
    ids = *n.build<vt::AddOp>(ids, term);
  }
  ids = rowOrDropped(n, ids, inRange(n, idx, axisDim));
  Value flatShape = n.constI64({-1});
  auto flatIds = n.reshape(ids, flatShape);
  auto flatData = n.reshape(data, flatShape);
  auto flatUpdates = n.reshape(updates, flatShape);
  if (failed(flatIds) || failed(flatData) || failed(flatUpdates))
    return failure();
  auto out = n.build<vt::ScatterOp>(*flatData, *flatIds, *flatUpdates,
                                    (uint64_t)0, llvm::StringRef(reduction));
  if (failed(out))
    return failure();
  Value shape = dataType.hasStaticShape()
                    ? n.constI64(dataType.getShape())
                    : *n.build<vt::ShapeOfOp>(data);
  n.setResult(0, vt::ReshapeOp::create(n.builder(), n.loc(), dataType, *out,
                                       shape)
                     .getResult());
  return success();
}

/// ScatterElements: indices and updates of one shape (no larger than data
/// in the dims other than the axis). Constant indices with static shapes:
/// flattened to single-element rows; otherwise vt.scatter.
static LogicalResult importScatterElements(NodeImporter &n) {
  auto operands = readScatter(n);
  if (failed(operands))
    return failure();
  auto [data, indices, updates, dataType, idxType, updType, reduction] =
      *operands;
  int64_t rank = dataType.getRank();
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  if (idxType.getRank() != rank || updType.getRank() != rank)
    return n.error() << "indices " << idxType << " and updates " << updType
                     << " must have data's rank, got " << dataType;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t i = idxType.getDimSize(d), u = updType.getDimSize(d),
            x = dataType.getDimSize(d);
    if (i != u && !ShapedType::isDynamic(i) && !ShapedType::isDynamic(u))
      return n.error() << "indices " << idxType << " and updates " << updType
                       << " must have one shape";
    if (d != *axis && !ShapedType::isDynamic(i) && !ShapedType::isDynamic(x) &&
        i > x)
      return n.error() << "indices " << idxType << " exceed data " << dataType
                       << " in dim " << d;
  }
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(n.evaluateConstant(indices));
  if (!dense || !dataType.hasStaticShape() || !idxType.hasStaticShape() ||
      !updType.hasStaticShape())
    return scatterElementsAtRunTime(n, *operands, *axis);
  SmallVector<int64_t> strides(rank, 1);
  for (int64_t d = rank - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * dataType.getDimSize(d + 1);
  int64_t axisDim = dataType.getDimSize(*axis);
  auto idxShape = idxType.getShape();
  SmallVector<int64_t> targets;
  for (auto [lin, v] : llvm::enumerate(dense.getValues<APInt>())) {
    int64_t i = v.getSExtValue();
    if (i < -axisDim || i >= axisDim)
      return n.error() << "index " << i << " is out of range for a dim of "
                       << axisDim;
    int64_t rem = lin, offset = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coord = d == *axis ? (i < 0 ? i + axisDim : i) : rem % idxShape[d];
      if (coord >= dataType.getDimSize(d))
        return n.error() << "indices " << idxType << " exceed data "
                         << dataType << " in dim " << d;
      offset += coord * strides[d];
      rem /= idxShape[d];
    }
    targets.push_back(offset);
  }
  auto dataRows = n.reshapeToDims(data, {dataType.getNumElements()});
  auto updRows = n.reshapeToDims(updates, {updType.getNumElements()});
  if (failed(dataRows) || failed(updRows))
    return failure();
  auto out = scatterRows(n, *dataRows, *updRows, targets, reduction);
  if (failed(out))
    return failure();
  return n.setResult(0, n.reshapeToDims(*out, dataType.getShape()));
}

void registerOpsIndexing(OpRegistry &r) {
  r.add("GatherElements", 11, importGatherElements);
  r.add("GatherND", 11, importGatherND);
  r.add("ScatterElements", 11, importScatterElements);
  r.add("ScatterND", 11, importScatterND);
}

} // namespace vitc::onnx_import
