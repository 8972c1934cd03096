//===- MaxPoolIndices.cpp - MaxPool's Indices output, 2-D and 3-D ---------===//
#include "OpHelpers.h"

#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

/// An i64 constant of `shape` holding `values` (row-major).
static Value constI64Shaped(NodeImporter &n, ArrayRef<int64_t> shape,
                            ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get(shape, n.builder().getI64Type());
  return vt::ConstantOp::create(n.builder(), n.loc(), type,
                                DenseElementsAttr::get(type, values),
                                StringAttr())
      .getResult();
}

/// See OpHelpers.h. The -inf padded input is cut into one strided slice per
/// window offset (prod(kernel) of them, each shaped like `values`); their
/// argmax is the offset, decomposed per spatial dim (the last fastest), from
/// which position = out * stride + offset * dilation - leading pad. The batch
/// term n * C * prod(spatial) comes from a range over the batch at run time
/// when the batch is dynamic.
FailureOr<Value> vitc::onnx_import::maxPoolIndices(NodeImporter &n, Value x,
                                                   const Window &w,
                                                   Value values) {
  OpBuilder &b = n.builder();
  Type i64 = b.getI64Type();
  auto type = tensorType(x);
  auto outType = tensorType(values);
  int64_t rank = type.getRank(), s = rank - 2;
  int64_t c = type.getDimSize(1);
  SmallVector<int64_t> in(type.getShape().drop_front(2)),
      out(outType.getShape().drop_front(2));
  if (c == ShapedType::kDynamic ||
      llvm::any_of(in, [](int64_t d) { return d == ShapedType::kDynamic; }) ||
      llvm::any_of(out, [](int64_t d) { return d == ShapedType::kDynamic; }))
    return n.error() << "the indices output needs static channel and spatial "
                        "dims, got "
                     << type;
  if (llvm::any_of(out, [](int64_t d) { return d == 0; }))
    return n.error() << "the indices output needs a non-empty output, got "
                     << outType;
  // One slice per window offset: bounded, whatever the model says.
  constexpr int64_t kMaxOffsets = 4096;
  int64_t offsets = 1;
  for (int64_t k : w.kernel) {
    offsets *= k;
    if (offsets > kMaxOffsets)
      return n.error() << "the indices output supports windows of at most "
                       << kMaxOffsets << " elements, got "
                       << llvm::join(llvm::map_range(w.kernel,
                                                     [](int64_t k) {
                                                       return std::to_string(k);
                                                     }),
                                     "x");
  }
  int64_t order = n.attrInt("storage_order", 0);
  if (order != 0 && order != 1)
    return n.error() << "storage_order must be 0 or 1, got " << order;

  // Pad with -inf: the leading pads as given, the trailing ones as far as
  // the last window reaches (ceil mode may reach past the given pads).
  SmallVector<int64_t> pads(2 * rank, 0);
  bool padded = false;
  for (int64_t d = 0; d < s; ++d) {
    int64_t reach =
        (out[d] - 1) * w.strides[d] + (w.kernel[d] - 1) * w.dilations[d] + 1;
    pads[2 + d] = w.pads[d];
    pads[rank + 2 + d] = std::max<int64_t>(0, reach - w.pads[d] - in[d]);
    padded |= pads[2 + d] || pads[rank + 2 + d];
  }
  Value source = x;
  if (padded) {
    auto p = n.build<vt::PadOp>(
        x, pads,
        llvm::APFloat::getInf(llvm::APFloat::IEEEdouble(), /*Negative=*/true));
    if (failed(p))
      return failure();
    source = *p;
  }
  SmallVector<Value> taps;
  SmallVector<int64_t> expandDims;
  for (int64_t d = 0; d < rank; ++d)
    expandDims.push_back(-(d + 1));
  expandDims.push_back(1);
  for (int64_t t = 0; t < offsets; ++t) {
    SmallVector<int64_t> starts{0, 0}, ends{INT64_MAX, INT64_MAX},
        steps{1, 1};
    int64_t rest = t, stride = offsets;
    for (int64_t d = 0; d < s; ++d) {
      stride /= w.kernel[d];
      int64_t offset = rest / stride * w.dilations[d];
      rest %= stride;
      starts.push_back(offset);
      ends.push_back(offset + (out[d] - 1) * w.strides[d] + 1);
      steps.push_back(w.strides[d]);
    }
    auto tap = n.build<vt::SliceOp>(source, starts, ends, steps);
    if (failed(tap))
      return failure();
    auto column = n.reshapeToDims(*tap, expandDims);
    if (failed(column))
      return failure();
    taps.push_back(*column);
  }
  Value stacked = taps.front();
  if (taps.size() > 1) {
    auto joined = n.build<vt::ConcatOp>(taps, (uint64_t)rank);
    if (failed(joined))
      return failure();
    stacked = *joined;
  }
  SmallVector<int64_t> shape(outType.getShape());
  Value k = vt::ArgMaxOp::create(b, n.loc(), RankedTensorType::get(shape, i64),
                                 stacked, rank, false);

  auto arith = [&](auto tag, Value lhs, Value rhs) -> Value {
    using OpTy = decltype(tag);
    return *n.build<OpTy>(lhs, rhs);
  };
  auto times = [&](Value v, int64_t factor) {
    return factor == 1 ? v : arith(vt::MulOp(), v, n.scalar(i64, factor));
  };
  // Spatial dim d's position: its offset (k's digit d, the last fastest)
  // times the dilation, plus out * stride - leading pad, shaped [out_d, 1..]
  // to broadcast along dim d.
  SmallVector<Value> positions(s);
  int64_t below = 1;
  for (int64_t d = s - 1; d >= 0; --d) {
    Value digit = below == 1 ? k : arith(vt::DivOp(), k, n.scalar(i64, below));
    if (d > 0) {
      Value kd = n.scalar(i64, w.kernel[d]);
      digit = arith(vt::SubOp(), digit,
                    arith(vt::MulOp(), arith(vt::DivOp(), digit, kd), kd));
    }
    below *= w.kernel[d];
    SmallVector<int64_t> base;
    for (int64_t o = 0; o < out[d]; ++o)
      base.push_back(o * w.strides[d] - w.pads[d]);
    SmallVector<int64_t> baseShape{out[d]};
    baseShape.append(s - 1 - d, 1);
    positions[d] = arith(vt::AddOp(), times(digit, w.dilations[d]),
                         constI64Shaped(n, baseShape, base));
  }
  // Row-major over the spatial dims (storage_order 0), or column-major (1:
  // the first spatial dim fastest).
  SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, s));
  if (order == 1)
    std::reverse(dims.begin(), dims.end());
  Value spatial = positions[dims.front()];
  for (int64_t d : ArrayRef<int64_t>(dims).drop_front())
    spatial = arith(vt::AddOp(), times(spatial, in[d]), positions[d]);

  // (n * C + c) * prod(spatial): a constant per channel, plus one per batch
  // entry.
  int64_t plane = 1;
  for (int64_t d : in)
    plane *= d;
  SmallVector<int64_t> cBase, cShape{c};
  for (int64_t ci = 0; ci < c; ++ci)
    cBase.push_back(ci * plane);
  cShape.append(s, 1);
  Value index =
      arith(vt::AddOp(), spatial, constI64Shaped(n, cShape, cBase));
  SmallVector<int64_t> nShape(rank, 1);
  int64_t batch = type.getDimSize(0);
  Value nBase;
  if (batch != ShapedType::kDynamic) {
    SmallVector<int64_t> bases;
    for (int64_t bi = 0; bi < batch; ++bi)
      bases.push_back(bi * c * plane);
    nShape[0] = batch;
    nBase = constI64Shaped(n, nShape, bases);
  } else {
    auto shapeOf = vt::ShapeOfOp::create(
        b, n.loc(), RankedTensorType::get({rank}, i64), x);
    auto limit = n.build<vt::GatherOp>(shapeOf.getResult(), n.scalar(i64, 0),
                                       b.getI64IntegerAttr(0));
    if (failed(limit))
      return failure();
    Value range = vt::RangeOp::create(
        b, n.loc(), RankedTensorType::get({ShapedType::kDynamic}, i64),
        n.scalar(i64, 0), *limit, n.scalar(i64, 1));
    SmallVector<int64_t> column{-1};
    column.append(rank - 1, 1);
    auto reshaped = n.reshapeToDims(range, column);
    if (failed(reshaped))
      return failure();
    nBase = arith(vt::MulOp(), *reshaped, n.scalar(i64, c * plane));
  }
  return n.build<vt::AddOp>(index, nBase);
}
