//===- ConvPoolCalls.cpp - convolutions and pooling -> CPU kernel calls ---===//
//
// 2-D convolutions (grouped or not) and max / sum pooling become
// vitc_cpu_conv2d_* / vitc_cpu_pool2d_* calls; the pads the lowering
// materialised become kernel arguments, and transposed inputs strided views.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/BufferAnalysis.h"
#include "compiler/Codegen/CPU/KernelAbi.h"

namespace vitc::cpu {

namespace {


SmallVector<int64_t> getI64Values(DenseIntElementsAttr attr) {
  return llvm::to_vector(attr.getValues<int64_t>());
}

/// The four pads [top, left, bottom, right] as i64 values for the kernel:
/// zero without a matched padding; else top/left are the subview offsets and
/// bottom/right what the padded buffer adds past the source (padded size -
/// top - source size).
SmallVector<Value> buildPads(OpBuilder &b, Location loc, Value paddedInput,
                             const std::optional<PaddedInput> &padded,
                             CallBuilder &calls) {
  if (!padded)
    return SmallVector<Value>(4, calls.i64(b, loc, 0));
  Value source = padded->source;
  auto paddedType = cast<MemRefType>(paddedInput.getType());
  auto sourceType = cast<MemRefType>(source.getType());
  int64_t rank = paddedType.getRank();
  int64_t lead[2] = {padded->top, padded->left};
  SmallVector<Value> pads{calls.i64(b, loc, lead[0]),
                          calls.i64(b, loc, lead[1])};
  for (int i = 0; i < 2; ++i) {
    int64_t d = rank - 2 + i;
    if (!paddedType.isDynamicDim(d) && !sourceType.isDynamicDim(d)) {
      pads.push_back(calls.i64(b, loc, paddedType.getDimSize(d) - lead[i] -
                                           sourceType.getDimSize(d)));
      continue;
    }
    // The padded size comes from the alloc, so the alloc itself can go.
    memref::AllocOp alloc = padded->alloc;
    Value p = alloc.getDynamicSizes()[paddedType.getDynamicDimIndex(d)];
    Value s = memref::DimOp::create(b, loc, source, d);
    Value rest = calls.indexToI64(b, loc, arith::SubIOp::create(b, loc, p, s));
    pads.push_back(arith::SubIOp::create(b, loc, rest, pads[i]));
  }
  return pads;
}

/// Whether the padding of `padded` (into `paddedInput`) is provably the same
/// on both sides of each spatial dim: cuDNN's convolutions take one pad per
/// dim.
bool hasSymmetricPads(Value paddedInput, const PaddedInput &padded) {
  auto paddedType = cast<MemRefType>(paddedInput.getType());
  auto sourceType = cast<MemRefType>(padded.source.getType());
  int64_t rank = paddedType.getRank();
  int64_t lead[2] = {padded.top, padded.left};
  for (int i = 0; i < 2; ++i) {
    int64_t d = rank - 2 + i;
    if (paddedType.isDynamicDim(d) || sourceType.isDynamicDim(d) ||
        paddedType.getDimSize(d) - lead[i] - sourceType.getDimSize(d) !=
            lead[i])
      return false;
  }
  return true;
}

/// Whether `value` is a packed row-major buffer (any offset).
bool isPacked(Value value) {
  auto type = cast<MemRefType>(value.getType());
  if (type.getLayout().isIdentity())
    return true;
  auto [strides, offset] = type.getStridesAndOffset();
  int64_t expected = 1;
  for (int64_t d = type.getRank(); d-- > 0;) {
    if (type.getDimSize(d) == 1)
      continue;
    if (strides[d] != expected || ShapedType::isDynamic(type.getDimSize(d)))
      return false;
    expected *= type.getDimSize(d);
  }
  return true;
}

/// Erases the padding ops once the anchor no longer reads the padded buffer.
void erasePadding(const std::optional<PaddedInput> &padded) {
  if (!padded)
    return;
  for (Operation *op : padded->ops) {
    // Deallocations of the padded buffer go with it.
    for (Value result : op->getResults())
      for (Operation *user : llvm::make_early_inc_range(result.getUsers()))
        if (isa<memref::DeallocOp>(user))
          user->erase();
    if (op->use_empty())
      op->erase();
  }
}

} // namespace

LogicalResult convertConv(linalg::LinalgOp op, DenseIntElementsAttr strides,
                          DenseIntElementsAttr dilations, bool grouped,
                          bool cudnnConventions, CallBuilder &calls) {
  Value input = op.getDpsInputs()[0], filter = op.getDpsInputs()[1],
        out = op.getDpsInits()[0];
  auto dtype = getDtypeSuffix({input, filter}, out);
  if (!dtype || (cudnnConventions && !isPacked(filter)))
    return failure();
  // Grouped kernels view (N, G, C, H, W) as (N, G*C, H, W): the group and
  // channel dims must be contiguous. Identity layouts guarantee it.
  if (grouped && !llvm::all_of(ValueRange{input, filter, out}, [](Value v) {
        return cast<MemRefType>(v.getType()).getLayout().isIdentity();
      }))
    return failure();
  std::optional<PaddedInput> padded =
      matchPaddedInput(op, input, Neutral::Zero);
  if (padded && grouped &&
      !cast<MemRefType>(padded->source.getType()).getLayout().isIdentity())
    padded.reset();
  // Other padding stays a padded copy that the call reads with zero pads.
  if (padded && cudnnConventions && !hasSymmetricPads(input, *padded))
    padded.reset();
  Operation *init = findInitFill(op, out, Neutral::Zero);

  SmallVector<int64_t> s = getI64Values(strides), d = getI64Values(dilations);
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> scalars{calls.i64(b, loc, s[0]), calls.i64(b, loc, s[1]),
                             calls.i64(b, loc, d[0]), calls.i64(b, loc, d[1])};
  llvm::append_range(scalars, buildPads(b, loc, input, padded, calls));
  scalars.push_back(calls.i64(b, loc, init == nullptr));
  scalars.push_back(calls.i64(b, loc, isViewOfWeights(filter)));
  scalars.push_back(calls.i64(b, loc, 0)); // Reorder hints: see below.
  std::string name =
      calls.kernel(Twine("conv2d_") + (grouped ? "grouped_" : "") + *dtype);
  Value kernelInput = padded ? padded->source : input;
  // Transposed inputs as strided views (the grouped kernels need identity
  // layouts).
  std::optional<TransposedInput> transposedInput, transposedFilter;
  if (!grouped) {
    transposedInput = matchTransposedInput(op, kernelInput);
    if (!cudnnConventions)
      transposedFilter = matchTransposedInput(op, filter);
  }
  Value kernelFilter = filter;
  if (transposedInput)
    kernelInput = buildTransposedView(b, *transposedInput);
  if (transposedFilter)
    kernelFilter = buildTransposedView(b, *transposedFilter);
  if (failed(calls.call(b, op, name, {kernelInput, kernelFilter, out}, scalars)))
    return failure();
  if (init)
    init->erase();
  op->erase();
  erasePadding(padded);
  eraseTransposed(transposedInput);
  eraseTransposed(transposedFilter);
  return success();
}


LogicalResult convertPool(linalg::LinalgOp op, DenseIntElementsAttr strides,
                          DenseIntElementsAttr dilations, bool isMax,
                          CallBuilder &calls) {
  Value input = op.getDpsInputs()[0], window = op.getDpsInputs()[1],
        out = op.getDpsInits()[0];
  // Pooling kernels exist for f32 only.
  auto dtype = getDtypeSuffix(input, out);
  auto windowType = cast<MemRefType>(window.getType());
  if (!dtype || *dtype != "f32" || !windowType.hasStaticShape())
    return failure();
  Neutral neutral = isMax ? Neutral::NegInfinity : Neutral::Zero;
  // Pooling kernels overwrite their output: the init must be the identity.
  Operation *init = findInitFill(op, out, neutral);
  if (!init)
    return failure();
  std::optional<PaddedInput> padded = matchPaddedInput(op, input, neutral);

  SmallVector<int64_t> s = getI64Values(strides), d = getI64Values(dilations);
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> scalars{calls.i64(b, loc, windowType.getDimSize(0)),
                             calls.i64(b, loc, windowType.getDimSize(1)),
                             calls.i64(b, loc, s[0]), calls.i64(b, loc, s[1]),
                             calls.i64(b, loc, d[0]), calls.i64(b, loc, d[1])};
  llvm::append_range(scalars, buildPads(b, loc, input, padded, calls));
  std::string name =
      calls.kernel(Twine(isMax ? "max_pool2d_" : "sum_pool2d_") + *dtype);
  Value kernelInput = padded ? padded->source : input;
  if (failed(calls.call(b, op, name, {kernelInput, out}, scalars)))
    return failure();
  init->erase();
  op->erase();
  erasePadding(padded);
  // The window operand only carries the kernel size.
  if (auto alloc = window.getDefiningOp<memref::AllocOp>();
      alloc && alloc->use_empty())
    alloc->erase();
  return success();
}

} // namespace vitc::cpu
