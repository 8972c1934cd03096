//===- MatmulCalls.cpp - matmuls -> CPU kernel calls ----------------------===//
//
// linalg.matmul / batch_matmul, and linalg.generic contractions that are
// (batched) matmuls over runs of dims, become vitc_cpu_matmul_* calls:
// operands read transposed become strided views, an output only ever read
// transposed makes the kernel compute B^T A^T into the destination.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/BufferAnalysis.h"
#include "compiler/Codegen/CPU/KernelAbi.h"

namespace vitc::cpu {

namespace {


/// How a matmul operand is stored relative to its logical (rows x cols).
struct OperandLayout {
  bool transposed = false;
  bool broadcast = false; // Batch dim absent: shared by every batch.
};

/// Matches an operand's indexing map against (batch.., rows, cols) given as
/// dim positions; returns how the operand is laid out.
std::optional<OperandLayout> matchOperandMap(AffineMap map,
                                             std::optional<unsigned> batch,
                                             unsigned rows, unsigned cols) {
  MLIRContext *ctx = map.getContext();
  auto dims = [&](std::initializer_list<unsigned> ds) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : ds)
      exprs.push_back(getAffineDimExpr(d, ctx));
    return AffineMap::get(map.getNumDims(), 0, exprs, ctx);
  };
  if (batch) {
    if (map == dims({*batch, rows, cols}))
      return OperandLayout{false, false};
    if (map == dims({*batch, cols, rows}))
      return OperandLayout{true, false};
  }
  if (map == dims({rows, cols}))
    return OperandLayout{false, batch.has_value()};
  if (map == dims({cols, rows}))
    return OperandLayout{true, batch.has_value()};
  return std::nullopt;
}

/// Adds a leading unit dim to a 2-D operand shared by all batches (the
/// kernel broadcasts a batch of one). Always expressible, whatever the
/// layout: the new dim gets any stride.
Value expandBatch(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  SmallVector<int64_t> shape{1};
  shape.append(type.getShape().begin(), type.getShape().end());
  SmallVector<ReassociationIndices> reassociation{{0, 1}, {2}};
  MemRefType expanded =
      *memref::ExpandShapeOp::computeExpandedType(type, shape, reassociation);
  return memref::ExpandShapeOp::create(b, loc, expanded, memref,
                                       reassociation);
}

/// Replaces `op` by the matmul kernel call: the one place that knows its ABI
/// (a, b, c, transA, transB, accumulate, constantB). The output's zero fill
/// is dropped when it is the op's init; otherwise the kernel accumulates.
/// `out` and `weights` are C and B as the op wrote and read them, before any
/// collapsing view: the fill and the weights view are found on those.
static LogicalResult emitMatmulCall(OpBuilder &b, Operation *op,
                                    CallBuilder &calls, bool batched,
                                    StringRef dtype, Value a, Value bMat,
                                    Value c, bool transA, bool transB,
                                    Value out, Value weights) {
  Location loc = op->getLoc();
  Operation *init = findInitFill(op, out, Neutral::Zero);
  // Operands transposed just for this matmul: read them as strided views.
  std::optional<TransposedInput> ta = matchTransposedInput(op, a),
                                 tb = matchTransposedInput(op, bMat);
  if (ta)
    a = buildTransposedView(b, *ta);
  if (tb)
    bMat = buildTransposedView(b, *tb);
  // A product that is only ever read transposed: write C^T = B^T A^T into
  // the transpose's destination instead (e.g. a Linear weight's gradient,
  // which the autodiff computes as x^T g and transposes to the weight's
  // layout). Needs a fresh output (no accumulation).
  linalg::TransposeOp outTranspose =
      init && !batched ? matchTransposedOutput(op, c) : nullptr;
  // The destination may reuse an operand's buffer (bufferization writes in
  // place once an operand is dead): the kernel would then overwrite it.
  if (outTranspose &&
      llvm::is_contained({getRootBuffer(a), getRootBuffer(bMat)},
                         getRootBuffer(outTranspose.getInit())))
    outTranspose = nullptr;
  if (outTranspose) {
    std::swap(a, bMat);
    std::tie(transA, transB) = std::make_pair(!transB, !transA);
    c = outTranspose.getInit();
  }
  std::string name =
      calls.kernel(Twine(batched ? "batch_matmul_" : "matmul_") + dtype);
  bool constantB = outTranspose ? false : isViewOfWeights(weights);
  if (failed(calls.call(b, op, name, {a, bMat, c},
                        {calls.i64(b, loc, transA), calls.i64(b, loc, transB),
                         calls.i64(b, loc, init == nullptr),
                         calls.i64(b, loc, constantB)})))
    return failure();
  if (init)
    init->erase();
  op->erase();
  eraseTransposed(ta);
  eraseTransposed(tb);
  if (outTranspose) {
    Value buffer = outTranspose.getInput();
    outTranspose->erase();
    eraseIfUnused(buffer.getDefiningOp<memref::AllocOp>());
  }
  return success();
}

} // namespace

LogicalResult convertMatmul(linalg::LinalgOp op, CallBuilder &calls) {
  bool batched = isa<linalg::BatchMatmulOp>(op);
  Value a = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  auto dtype = getDtypeSuffix({a, bMat}, c);
  if (!dtype)
    return failure();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // Loop dims: matmul (m, n, k); batch_matmul (b, m, n, k).
  unsigned base = batched ? 1 : 0;
  std::optional<unsigned> batchDim =
      batched ? std::optional<unsigned>(0) : std::nullopt;
  unsigned m = base, n = base + 1, k = base + 2;
  auto aLayout = matchOperandMap(maps[0], batchDim, m, k);
  auto bLayout = matchOperandMap(maps[1], batchDim, k, n);
  auto cLayout = matchOperandMap(maps[2], batchDim, m, n);
  if (!aLayout || !bLayout || !cLayout || cLayout->transposed ||
      cLayout->broadcast)
    return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  if (aLayout->broadcast)
    a = expandBatch(b, loc, a);
  if (bLayout->broadcast)
    bMat = expandBatch(b, loc, bMat);
  return emitMatmulCall(b, op, calls, batched, *dtype, a, bMat, c,
                        aLayout->transposed, bLayout->transposed, c, bMat);
}

namespace {

/// The reassociation of a rank-`rank` shape that merges dims
/// [start, start + count) into one.
SmallVector<ReassociationIndices> mergeRun(int64_t rank, int64_t start,
                                           int64_t count) {
  SmallVector<ReassociationIndices> reassociation;
  for (int64_t d = 0; d < rank; ++d) {
    if (d > start && d < start + count)
      reassociation.back().push_back(d);
    else
      reassociation.push_back({d});
  }
  return reassociation;
}

/// Whether `memref`'s dims [start, start + count) can be collapsed into one
/// (always true of identity layouts).
bool isCollapsible(MemRefType type, int64_t start, int64_t count) {
  return memref::CollapseShapeOp::isGuaranteedCollapsible(
      type, mergeRun(type.getRank(), start, count));
}
bool isCollapsible(Value memref, int64_t start, int64_t count) {
  return isCollapsible(cast<MemRefType>(memref.getType()), start, count);
}

/// `type` with dims [start, start + count) collapsed into one.
MemRefType collapsedType(MemRefType type, int64_t start, int64_t count) {
  if (count <= 1)
    return type;
  return memref::CollapseShapeOp::computeCollapsedType(
      type, mergeRun(type.getRank(), start, count));
}

/// Collapses dims [start, start + count) of `memref` into one, if its layout
/// allows it.
FailureOr<Value> collapseRun(OpBuilder &b, Location loc, Value memref,
                             int64_t start, int64_t count) {
  if (count <= 1)
    return memref;
  if (!isCollapsible(memref, start, count))
    return failure();
  auto rank = cast<MemRefType>(memref.getType()).getRank();
  return memref::CollapseShapeOp::create(b, loc, memref,
                                         mergeRun(rank, start, count))
      .getResult();
}

/// Collapses the leading `count` dims of `memref` into one, if its layout
/// allows it.
FailureOr<Value> collapseLeading(OpBuilder &b, Location loc, Value memref,
                                 int64_t count) {
  return collapseRun(b, loc, memref, 0, count);
}

/// Several reduction dims of a contraction, where they are one dim in
/// disguise: a contiguous run, in the same order, in both inputs.
struct ReductionRun {
  int64_t aStart, bStart, length;
};

/// Matches `ks` (loop dims: the reduction dims, or the n dims) as such a
/// run of two operands' dims `aDims` and `bDims`, which then name the run
/// by its first dim only; nullopt if the runs differ or cannot be collapsed
/// in operands of types `a` / `bMat`.
std::optional<ReductionRun> matchReductionRun(SmallVectorImpl<unsigned> &aDims,
                                              SmallVectorImpl<unsigned> &bDims,
                                              ArrayRef<unsigned> ks,
                                              MemRefType a, MemRefType bMat) {
  auto start = [&](ArrayRef<unsigned> dims) -> int64_t {
    auto it = llvm::find_if(
        dims, [&](unsigned d) { return llvm::is_contained(ks, d); });
    return it - dims.begin();
  };
  int64_t length = ks.size(), aStart = start(aDims), bStart = start(bDims);
  if (aStart + length > (int64_t)aDims.size() ||
      bStart + length > (int64_t)bDims.size())
    return std::nullopt;
  ArrayRef<unsigned> aRun = ArrayRef<unsigned>(aDims).slice(aStart, length);
  ArrayRef<unsigned> bRun = ArrayRef<unsigned>(bDims).slice(bStart, length);
  if (aRun != bRun ||
      !llvm::all_of(aRun, [&](unsigned d) { return llvm::is_contained(ks, d); }))
    return std::nullopt;
  if (length > 1 && (!isCollapsible(a, aStart, length) ||
                     !isCollapsible(bMat, bStart, length)))
    return std::nullopt;
  aDims.erase(aDims.begin() + aStart + 1, aDims.begin() + aStart + length);
  bDims.erase(bDims.begin() + bStart + 1, bDims.begin() + bStart + length);
  return ReductionRun{aStart, bStart, length};
}

/// Whether an operand's last two loop dims are (row, col) (false) or
/// (col, row) (true); nullopt if they are neither.
static std::optional<bool> isTransposedPair(ArrayRef<unsigned> dims,
                                            unsigned row, unsigned col) {
  unsigned second = dims[dims.size() - 2], last = dims.back();
  if (second == row && last == col)
    return false;
  if (second == col && last == row)
    return true;
  return std::nullopt;
}

} // namespace

/// A linalg.generic that is a matmul in disguise (what Gemm / MatMul on
/// N-D operands and attention's Q.K^T lower to): a mul-add contraction with
/// one reduction dim k, one n dim, and an output (L..., m, n) where the
/// leading dims L are batch dims or further m dims. A reads (L..., m, k) or
/// (L..., k, m); B reads (L..., k, n) / (L..., n, k) or, shared by every
/// leading index, (k, n) / (n, k). L is collapsed into one batch dim (the
/// kernel merges it into m when B is shared and the layout allows). k may
/// be several reduction dims that run contiguously, in the same order,
/// through A and B (a reshape folded into the contraction: heads x head_dim
/// in attention's output projection, batch x tokens in the weight gradient
/// of a linear layer): they are collapsed into one.
///
/// `a` is the op's A or a view of the same shape that replaces it.
static LogicalResult convertGenericContractionOn(linalg::GenericOp op,
                                                 CallBuilder &calls, Value a) {
  FailureOr<linalg::ContractionDimensions> dimsOr =
      linalg::inferContractionDims(op);
  if (failed(dimsOr) || dimsOr->k.empty() || dimsOr->n.empty() ||
      dimsOr->m.empty())
    return failure();
  Value bMat = op.getDpsInputs()[1], c = op.getDpsInits()[0];
  auto dtype = getDtypeSuffix({a, bMat}, c);
  if (!dtype)
    return failure();
  // The body must be exactly out + a * b on floats, the inputs widened to
  // the output type with mixed precision (isaContraction also accepts other
  // combiners, e.g. integer or max-plus ones).
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  int64_t widenings = *dtype == "bf16" ? 2 : 0;
  if (!add || (int64_t)body->getOperations().size() != 3 + widenings)
    return failure();
  auto input = [&](Value v) -> Value {
    if (auto ext = v.getDefiningOp<arith::ExtFOp>(); ext && widenings)
      return ext.getIn();
    return v;
  };
  auto isMul = [&](Value v, Value other) {
    auto mul = v.getDefiningOp<arith::MulFOp>();
    if (!mul || other != body->getArgument(2))
      return false;
    Value l = input(mul.getLhs()), r = input(mul.getRhs());
    return (l == body->getArgument(0) && r == body->getArgument(1)) ||
           (l == body->getArgument(1) && r == body->getArgument(0));
  };
  if (!isMul(add.getLhs(), add.getRhs()) && !isMul(add.getRhs(), add.getLhs()))
    return failure();

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto dimsOf = [](AffineMap map) {
    SmallVector<unsigned> ds;
    for (AffineExpr e : map.getResults())
      ds.push_back(cast<AffineDimExpr>(e).getPosition());
    return ds;
  };
  SmallVector<unsigned> aDims = dimsOf(maps[0]), bDims = dimsOf(maps[1]),
                        cDims = dimsOf(maps[2]);
  auto aType = cast<MemRefType>(a.getType()),
       bType = cast<MemRefType>(bMat.getType()),
       cType = cast<MemRefType>(c.getType());
  std::optional<ReductionRun> kRun =
      matchReductionRun(aDims, bDims, dimsOr->k, aType, bType);
  if (!kRun)
    return failure();
  // n may be a run as well, through B (already k-collapsed) and C: an
  // output reshaped into heads (the weight gradient of a fused qkv layer).
  std::optional<ReductionRun> nRun = matchReductionRun(
      bDims, cDims, dimsOr->n,
      collapsedType(bType, kRun->bStart, kRun->length), cType);
  if (!nRun)
    return failure();
  unsigned k = aDims[kRun->aStart], n = bDims[nRun->aStart];
  if (cDims.size() < 2 || cDims.back() != n)
    return failure();
  unsigned m = cDims[cDims.size() - 2];
  ArrayRef<unsigned> lead = ArrayRef<unsigned>(cDims).drop_back(2);
  // A: (L..., m, k) or (L..., k, m).
  if (aDims.size() != cDims.size() ||
      ArrayRef<unsigned>(aDims).drop_back(2) != lead)
    return failure();
  std::optional<bool> transA = isTransposedPair(aDims, m, k);
  if (!transA)
    return failure();
  // B: (L..., k, n) / (L..., n, k), or without L (shared).
  bool sharedB = bDims.size() == 2;
  if (!sharedB && (bDims.size() != cDims.size() ||
                   ArrayRef<unsigned>(bDims).drop_back(2) != lead))
    return failure();
  std::optional<bool> transB = isTransposedPair(bDims, k, n);
  if (!transB)
    return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  // The k runs (checked collapsible), then the leading dims.
  Value aIn = *collapseRun(b, loc, a, kRun->aStart, kRun->length);
  Value bKRun = *collapseRun(b, loc, bMat, kRun->bStart, kRun->length);
  Value bIn = *collapseRun(b, loc, bKRun, nRun->aStart, nRun->length);
  Value cIn = *collapseRun(b, loc, c, nRun->bStart, nRun->length);
  int64_t numLead = lead.size();
  FailureOr<Value> a2 = collapseLeading(b, loc, aIn, numLead);
  FailureOr<Value> c2 = collapseLeading(b, loc, cIn, numLead);
  FailureOr<Value> b2 = sharedB ? FailureOr<Value>(bIn)
                                : collapseLeading(b, loc, bIn, numLead);
  if (failed(a2) || failed(b2) || failed(c2)) {
    // Drop the collapses already built, users first: the op stays a loop
    // nest.
    llvm::SetVector<Operation *> built;
    for (FailureOr<Value> v : {FailureOr<Value>(aIn), FailureOr<Value>(bKRun),
                               FailureOr<Value>(bIn), FailureOr<Value>(cIn),
                               a2, b2, c2})
      if (succeeded(v) && *v != a && *v != bMat && *v != c)
        built.insert(v->getDefiningOp());
    for (Operation *collapse : llvm::reverse(built))
      if (collapse->use_empty())
        collapse->erase();
    return failure();
  }
  Value aK = *a2, bK = *b2, cK = *c2;
  if (numLead > 0 && sharedB)
    bK = expandBatch(b, loc, bK);
  return emitMatmulCall(b, op, calls, /*batched=*/numLead > 0, *dtype, aK, bK,
                        cK, *transA, *transB, c, bMat);
}

LogicalResult convertGenericContraction(linalg::GenericOp op,
                                        CallBuilder &calls) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return failure();
  Value a = op.getDpsInputs()[0];
  // A transposed through a reshape just for this contraction (a linear
  // layer's x^T in its weight gradient, transposed as (features, batch,
  // tokens) once reshapes were propagated): read x in place as a strided
  // view instead of the copy. emitMatmulCall only sees A collapsed, so it
  // cannot look through the reshape itself.
  if (std::optional<TransposedInput> t = matchTransposedInput(op, a);
      t && t->reshape) {
    OpBuilder b(op);
    Value view = buildTransposedView(b, *t);
    if (succeeded(convertGenericContractionOn(op, calls, view))) {
      eraseTransposed(t);
      return success();
    }
    if (view.use_empty())
      view.getDefiningOp()->erase();
  }
  return convertGenericContractionOn(op, calls, a);
}

} // namespace vitc::cpu
