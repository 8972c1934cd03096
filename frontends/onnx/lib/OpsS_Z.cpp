//===- OpsS_Z.cpp - import rules for ONNX ops Shape .. Where -----------------===//
#include "OpHelpers.h"

#include "llvm/Support/MathExtras.h"

#include <limits>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;
static constexpr int64_t kMaxEnd = std::numeric_limits<int64_t>::max();

/// Shape-15 adds `start` / `end` (negative from the end, clamped).
static LogicalResult importShape(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  OpBuilder &b = n.builder();
  int64_t rank = tensorType(x).getRank();
  Value shape = vt::ShapeOfOp::create(
      b, n.loc(), RankedTensorType::get({rank}, b.getI64Type()), x);
  auto bound = [&](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank);
  };
  int64_t start = bound(n.attrInt("start", 0));
  int64_t end = bound(n.attrInt("end", rank));
  if (start != 0 || end != rank) {
    auto sliced = n.build<vt::SliceOp>(shape, ArrayRef<int64_t>{start},
                                       ArrayRef<int64_t>{std::max(start, end)},
                                       ArrayRef<int64_t>{1});
    if (failed(sliced))
      return failure();
    shape = *sliced;
  }
  n.setResult(0, shape);
  return success();
}

/// Writes one dim's ONNX slice bounds normalised against a static size `d`:
/// [0, d] for positive steps; for negative steps [-1, d - 1], where -1
/// ("before the first element") is written -d - 1 because vt.slice, like
/// ONNX, reads a negative bound as counted from the end.
static void normalizeSliceBounds(int64_t d, int64_t step, int64_t &start,
                                 int64_t &end) {
  auto wrap = [&](int64_t v) { return v < 0 ? v + d : v; };
  if (step > 0) {
    start = std::clamp<int64_t>(wrap(start), 0, d);
    end = std::clamp<int64_t>(wrap(end), 0, d);
    return;
  }
  start = std::clamp<int64_t>(wrap(start), -1, d - 1);
  end = std::clamp<int64_t>(wrap(end), -1, d - 1);
  if (start == -1)
    start = -d - 1;
  if (end == -1)
    end = -d - 1;
}

/// Slice-1 takes starts/ends/axes as attributes; Slice-10 as inputs (plus
/// steps), which must be constants.
static LogicalResult importSlice(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  int64_t rank = type.getRank();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (n.opset() < 10) {
    starts = n.attrInts("starts").value_or(SmallVector<int64_t>());
    ends = n.attrInts("ends").value_or(SmallVector<int64_t>());
    if (auto a = n.attrInts("axes"))
      axes = *a;
  } else {
    if (failed(n.expectInputs(3)))
      return failure();
    auto s = n.constantInts(n.input(1), "input 'starts'");
    if (failed(s))
      return failure();
    auto e = n.constantInts(n.input(2), "input 'ends'");
    if (failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (Value a = n.input(3)) {
      auto av = n.constantInts(a, "input 'axes'");
      if (failed(av))
        return failure();
      axes = *av;
    }
    if (Value st = n.input(4)) {
      auto sv = n.constantInts(st, "input 'steps'");
      if (failed(sv))
        return failure();
      steps = *sv;
    }
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return n.error() << "starts, ends, axes and steps differ in length";

  SmallVector<int64_t> allStarts(rank, 0), allEnds(rank, kMaxEnd),
      allSteps(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < starts.size(); ++i) {
    auto axis = n.normalizeAxis(axes[i], rank);
    if (failed(axis))
      return failure();
    if (seen[*axis])
      return n.error() << "axis " << *axis << " is sliced twice";
    seen[*axis] = true;
    if (steps[i] == 0)
      return n.error() << "step must not be 0";
    allStarts[*axis] = starts[i];
    allEnds[*axis] = ends[i];
    allSteps[*axis] = steps[i];
  }
  for (int64_t d = 0; d < rank; ++d)
    if (!type.isDynamicDim(d))
      normalizeSliceBounds(type.getDimSize(d), allSteps[d], allStarts[d],
                           allEnds[d]);
  auto result = n.build<vt::SliceOp>(x, allStarts, allEnds, allSteps);
  return n.setResult(0, result);
}

LogicalResult vitc::onnx_import::importSoftmaxLike(NodeImporter &n, bool log) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  int64_t rank = tensorType(x).getRank();
  bool legacy = n.opset() < 13;
  auto axis = n.normalizeAxis(n.attrInt("axis", legacy ? 1 : -1), rank);
  if (failed(axis))
    return failure();
  if (legacy && *axis != rank - 1)
    return n.error() << "opset " << n.opset() << " flattens the dims from axis "
                     << *axis << " on; only axis = rank - 1 is supported "
                                 "before opset 13";
  if (!isa<FloatType>(tensorType(x).getElementType()))
    return n.error() << "expects a float input, got " << x.getType();
  n.setResult(0, vt::SoftmaxOp::create(n.builder(), n.loc(), x.getType(), x,
                                       *axis, log));
  return success();
}

static LogicalResult importSoftmax(NodeImporter &n) {
  return importSoftmaxLike(n, /*log=*/false);
}

/// Split-2: sizes as the `split` attribute; Split-13: as an optional input;
/// Split-18 adds `num_outputs` (the last chunk may be smaller).
static LogicalResult importSplit(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  auto axis = n.normalizeAxis(n.attrInt("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = type.getDimSize(*axis);
  int64_t outputs = n.numOutputs();
  SmallVector<int64_t> sizes;
  if (n.opset() < 13) {
    sizes = n.attrInts("split").value_or(SmallVector<int64_t>());
  } else if (Value split = n.input(1)) {
    auto s = n.constantInts(split, "input 'split'");
    if (failed(s))
      return failure();
    sizes = *s;
  }
  if (sizes.empty()) {
    if (dim == kDyn)
      return n.error() << "splitting dynamic dim " << *axis
                       << " needs explicit split sizes";
    if (n.opset() >= 18 && n.hasAttr("num_outputs")) {
      int64_t parts = n.attrInt("num_outputs", 1);
      if (parts != outputs || parts < 1)
        return n.error() << "num_outputs = " << parts << " but the node has "
                         << outputs << " outputs";
      int64_t chunk = (dim + parts - 1) / parts;
      for (int64_t i = 0; i < parts; ++i)
        sizes.push_back(std::clamp<int64_t>(dim - i * chunk, 0, chunk));
    } else {
      if (dim % outputs != 0)
        return n.error() << "dim " << dim << " does not split evenly into "
                         << outputs << " outputs";
      sizes.assign(outputs, dim / outputs);
    }
  }
  if ((int64_t)sizes.size() != outputs)
    return n.error() << sizes.size() << " split sizes for " << outputs
                     << " outputs";
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0)
      return n.error() << "negative split size " << s;
    if (llvm::AddOverflow(total, s, total))
      return n.error() << "split sizes overflow a 64-bit sum";
  }
  if (dim != kDyn && total != dim)
    return n.error() << "split sizes sum to " << total << ", the dim is "
                     << dim;

  int64_t rank = type.getRank(), offset = 0;
  for (auto [i, size] : llvm::enumerate(sizes)) {
    SmallVector<int64_t> starts(rank, 0), ends(rank, kMaxEnd), steps(rank, 1);
    for (int64_t d = 0; d < rank; ++d)
      if (!type.isDynamicDim(d))
        ends[d] = type.getDimSize(d);
    starts[*axis] = offset;
    ends[*axis] = offset + size;
    offset += size;
    auto part = n.build<vt::SliceOp>(x, starts, ends, steps);
    if (failed(part))
      return failure();
    n.setResult(i, *part);
  }
  return success();
}

/// Squeeze-1 takes `axes` as an attribute, Squeeze-13 as an optional input;
/// no axes squeezes every dim of size 1 (which must then be static).
static LogicalResult importSqueeze(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto type = tensorType(x);
  int64_t rank = type.getRank();
  auto axes = readAxes(n, 13, 1);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> squeezed;
  if (*axes && !(*axes)->empty()) {
    auto norm = n.normalizeAxes(**axes, rank);
    if (failed(norm))
      return failure();
    squeezed = *norm;
    for (int64_t a : squeezed)
      if (!type.isDynamicDim(a) && type.getDimSize(a) != 1)
        return n.error() << "cannot squeeze dim " << a << " of size "
                         << type.getDimSize(a);
  } else {
    for (int64_t d = 0; d < rank; ++d) {
      if (type.isDynamicDim(d))
        return n.error() << "without axes, dynamic dim " << d
                         << " may or may not be squeezed (" << type << ")";
      if (type.getDimSize(d) == 1)
        squeezed.push_back(d);
    }
  }
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(squeezed, d))
      dims.push_back(-(d + 1));
  auto result = n.reshapeToDims(x, dims);
  return n.setResult(0, result);
}

static LogicalResult importTile(NodeImporter &n) {
  if (failed(n.expectInputs(2)))
    return failure();
  auto repeats = n.constantInts(n.input(1), "input 'repeats'");
  if (failed(repeats))
    return failure();
  if (llvm::any_of(*repeats, [](int64_t r) { return r < 0; }))
    return n.error() << "repeats must be >= 0";
  // vt.tile's type multiplies the dims by the repeats: they must fit.
  auto shape = tensorType(n.input(0)).getShape();
  for (auto [d, r] : llvm::zip(shape, *repeats)) {
    int64_t size;
    if (d != kDyn && llvm::MulOverflow(d, r, size))
      return n.error() << "repeats " << r << " of dim " << d
                       << " overflow a 64-bit size";
  }
  auto result = n.build<vt::TileOp>(n.input(0), *repeats);
  return n.setResult(0, result);
}

static LogicalResult importTranspose(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  int64_t rank = tensorType(x).getRank();
  SmallVector<int64_t> perm;
  if (auto p = n.attrInts("perm")) {
    perm = *p;
  } else {
    for (int64_t d = rank - 1; d >= 0; --d)
      perm.push_back(d);
  }
  SmallVector<bool> seen(rank, false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p] || (int64_t)perm.size() != rank)
      return n.error() << "perm is not a permutation of " << rank << " dims";
    seen[p] = true;
  }
  auto result = n.build<vt::TransposeOp>(x, perm);
  return n.setResult(0, result);
}

/// Unsqueeze-1 takes `axes` as an attribute, Unsqueeze-13 as an input; axes
/// index the output.
static LogicalResult importUnsqueeze(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value x = n.input(0);
  auto axes = readAxes(n, 13, 1);
  if (failed(axes))
    return failure();
  if (!*axes)
    return n.error() << "missing axes";
  int64_t outRank = tensorType(x).getRank() + (*axes)->size();
  if (outRank > kMaxRank)
    return n.error() << "the result's rank " << outRank
                     << " is above the importer's limit of " << kMaxRank;
  auto norm = n.normalizeAxes(**axes, outRank);
  if (failed(norm))
    return failure();
  if (norm->size() != (*axes)->size())
    return n.error() << "repeated axes";
  SmallVector<int64_t> dims;
  int64_t next = 0;
  for (int64_t d = 0; d < outRank; ++d)
    dims.push_back(llvm::is_contained(*norm, d) ? 1 : -(++next));
  auto result = n.reshapeToDims(x, dims);
  return n.setResult(0, result);
}

static LogicalResult importWhere(NodeImporter &n) {
  if (failed(n.expectInputs(3)))
    return failure();
  Value cond = n.input(0);
  if (!tensorType(cond).getElementType().isInteger(1))
    return n.error() << "condition must be bool, got " << cond.getType();
  auto result = n.build<vt::SelectOp>(cond, n.input(1), n.input(2));
  return n.setResult(0, result);
}

void vitc::onnx_import::registerOpsStoZ(OpRegistry &r) {
  r.add("Shape", 1, importShape);
  r.add("Sigmoid", 6, importUnary<vt::SigmoidOp>);
  r.add("Sin", 7, importUnary<vt::SinOp>);
  r.add("Slice", 1, importSlice);
  r.add("Softmax", 1, importSoftmax);
  r.add("Split", 2, importSplit);
  r.add("Sqrt", 6, importUnary<vt::SqrtOp>);
  r.add("Squeeze", 1, importSqueeze);
  r.add("Sub", 7, importBinary<vt::SubOp>);
  r.add("Sum", 8, importVariadic<vt::AddOp>);
  r.add("Tanh", 6, importUnary<vt::TanhOp>);
  r.add("Tile", 6, importTile);
  r.add("Transpose", 1, importTranspose);
  r.add("Unsqueeze", 1, importUnsqueeze);
  r.add("Where", 9, importWhere);
}
