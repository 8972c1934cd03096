//===- BufferAnalysis.cpp - buffers around library calls ------------------===//
#include "compiler/Codegen/CPU/BufferAnalysis.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace vitc::cpu {

/// The buffer a memref value views (through subviews, casts, reshapes).
Value getRootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `op` calls a library kernel this pass emits whose name starts
/// with `prefix`.
bool isKernelCall(Operation *op, StringRef prefix) {
  auto call = dyn_cast<func::CallOp>(op);
  return call && call.getCallee().starts_with(prefix);
}

/// Whether `op` may access (or, with `writesOnly`, write) memory of `root`.
/// Ops with unknown effects may access anything.
bool mayAccess(Operation *op, Value root, bool writesOnly) {
  // The library kernels this pass calls access their memref operands only,
  // and write the last one (the output) only.
  if (isKernelCall(op)) {
    SmallVector<Value> memrefs;
    for (Value v : op->getOperands())
      if (isa<MemRefType>(v.getType()))
        memrefs.push_back(v);
    ArrayRef<Value> accessed = memrefs;
    if (writesOnly && !accessed.empty())
      accessed = accessed.take_back();
    return llvm::any_of(accessed,
                        [&](Value v) { return getRootBuffer(v) == root; });
  }
  auto iface = dyn_cast<MemoryEffectOpInterface>(op);
  if (!iface) {
    if (!op->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return true;
    for (Region &region : op->getRegions())
      for (Operation &nested : region.getOps())
        if (mayAccess(&nested, root, writesOnly))
          return true;
    return false;
  }
  SmallVector<MemoryEffects::EffectInstance> effects;
  iface.getEffects(effects);
  for (const MemoryEffects::EffectInstance &effect : effects) {
    if (isa<MemoryEffects::Allocate>(effect.getEffect()))
      continue;
    if (writesOnly && isa<MemoryEffects::Read>(effect.getEffect()))
      continue;
    Value value = effect.getValue();
    if (!value || getRootBuffer(value) == root)
      return true;
  }
  return false;
}

/// Whether an op strictly between `from` and `to` (same block) may access
/// `root`.
bool mayAccessBetween(Operation *from, Operation *to, Value root,
                      bool writesOnly) {
  for (Operation *op = from->getNextNode(); op && op != to;
       op = op->getNextNode())
    if (mayAccess(op, root, writesOnly))
      return true;
  return false;
}

std::optional<APFloat> getConstantFloat(Value v) {
  FloatAttr attr;
  if (matchPattern(v, m_Constant(&attr)))
    return attr.getValue();
  return std::nullopt;
}

/// If `op` overwrites all of its single output with one constant
/// (linalg.fill, or a linalg.map / generic without inputs that yields a
/// value from outside its body), returns the output and the constant.
std::optional<std::pair<Value, APFloat>> matchConstantFill(Operation *op) {
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    if (!fill.hasPureBufferSemantics())
      return std::nullopt;
    if (auto value = getConstantFloat(fill.getInputs()[0]))
      return std::make_pair(fill.getOutputs()[0], *value);
    return std::nullopt;
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !isa<linalg::MapOp, linalg::GenericOp>(op) ||
      !linalgOp.hasPureBufferSemantics() || linalgOp.getNumDpsInputs() != 0 ||
      linalgOp.getNumDpsInits() != 1 ||
      linalgOp.getNumParallelLoops() != linalgOp.getNumLoops())
    return std::nullopt;
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    if (!generic.getIndexingMapsArray()[0].isPermutation())
      return std::nullopt;
  // The body may hold more than the yield: bufferized tensor.pad lowers to
  // a linalg.map whose body still computes the (unused) linalg.index of
  // every dim, and no canonicalisation runs between bufferization and this
  // pass. Such side-effect-free ops cannot change what is yielded.
  Block *body = linalgOp.getBlock();
  for (Operation &nested : body->without_terminator())
    if (!isMemoryEffectFree(&nested))
      return std::nullopt;
  Value yielded = body->getTerminator()->getOperand(0);
  if (yielded.getParentBlock() == body)
    return std::nullopt;
  if (auto value = getConstantFloat(yielded))
    return std::make_pair(linalgOp.getDpsInits()[0], *value);
  return std::nullopt;
}

bool isNeutral(const APFloat &value, Neutral neutral) {
  if (neutral == Neutral::Zero)
    return value.isZero();
  return value.isNegative() &&
         (value.isInfinity() || value.isLargest());
}

/// The fill that initialises `out` just for `anchor`: same buffer value,
/// neutral constant, and nothing accesses the buffer in between.
Operation *findInitFill(Operation *anchor, Value out, Neutral neutral) {
  Value root = getRootBuffer(out);
  for (Operation *op = anchor->getPrevNode(); op; op = op->getPrevNode()) {
    if (auto fill = matchConstantFill(op)) {
      if (fill->first == out && isNeutral(fill->second, neutral))
        return op;
    }
    if (mayAccess(op, root, /*writesOnly=*/false))
      return nullptr;
  }
  return nullptr;
}

std::optional<PaddedInput> matchPaddedInput(Operation *anchor, Value padded,
                                            Neutral neutral) {
  auto alloc = padded.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != anchor->getBlock())
    return std::nullopt;
  auto type = cast<MemRefType>(padded.getType());
  int64_t rank = type.getRank();
  Operation *fill = nullptr;
  memref::SubViewOp subview;
  for (Operation *user : padded.getUsers()) {
    if (user == anchor)
      continue;
    if (auto sv = dyn_cast<memref::SubViewOp>(user); sv && !subview) {
      subview = sv;
      continue;
    }
    auto constFill = matchConstantFill(user);
    if (constFill && !fill && isNeutral(constFill->second, neutral)) {
      fill = user;
      continue;
    }
    return std::nullopt;
  }
  if (!fill || !subview || !subview->hasOneUse())
    return std::nullopt;
  // Only the spatial dims (the last two) are padded, with unit strides.
  ArrayRef<int64_t> offsets = subview.getStaticOffsets();
  for (int64_t d = 0; d < rank; ++d) {
    if (ShapedType::isDynamic(offsets[d]) || subview.getStaticStrides()[d] != 1)
      return std::nullopt;
    if (d < rank - 2 && offsets[d] != 0)
      return std::nullopt;
  }
  if (subview.getSourceType().getRank() != subview.getType().getRank())
    return std::nullopt; // Rank-reducing.
  // The copy (memref.copy or linalg.copy) writes the whole subview; copies
  // require equal shapes, so the subview's sizes are the source's.
  Operation *copy = *subview->getUsers().begin();
  Value source;
  if (auto memCopy = dyn_cast<memref::CopyOp>(copy);
      memCopy && memCopy.getTarget() == subview.getResult())
    source = memCopy.getSource();
  else if (auto linCopy = dyn_cast<linalg::CopyOp>(copy);
           linCopy && linCopy.hasPureBufferSemantics() &&
           linCopy.getOutputs()[0] == subview.getResult())
    source = linCopy.getInputs()[0];
  if (!source)
    return std::nullopt;
  Block *block = anchor->getBlock();
  if (fill->getBlock() != block || copy->getBlock() != block ||
      !fill->isBeforeInBlock(copy) || !copy->isBeforeInBlock(anchor))
    return std::nullopt;
  // The padded buffer must hold exactly fill + copy when the anchor reads
  // it, and the source must still hold what was copied.
  if (mayAccessBetween(fill, copy, getRootBuffer(padded), /*writesOnly=*/true) ||
      mayAccessBetween(copy, anchor, getRootBuffer(padded), true) ||
      mayAccessBetween(copy, anchor, getRootBuffer(source), true))
    return std::nullopt;
  return PaddedInput{alloc, source, offsets[rank - 2], offsets[rank - 1],
                     {copy, subview, fill, alloc}};
}

/// Whether every access of `buffer` is visible to mayAccess in `block`:
/// through views of it, by ops with known effects or library calls; never
/// returned, yielded or passed to another function.
bool hasOnlyTrackedUsers(Value buffer, Block *block) {
  SmallVector<Value> views{buffer};
  while (!views.empty()) {
    Value v = views.pop_back_val();
    for (Operation *user : v.getUsers()) {
      if (auto view = dyn_cast<ViewLikeOpInterface>(user);
          view && view.getViewSource() == v) {
        llvm::append_range(views, user->getResults());
        continue;
      }
      // Terminators (returns, yields) hand the buffer on: it escapes.
      bool known = isa<func::CallOp>(user)
                       ? isKernelCall(user)
                       : isa<MemoryEffectOpInterface>(user) &&
                             !user->hasTrait<OpTrait::IsTerminator>();
      if (!known || user->getBlock() != block)
        return false;
    }
  }
  return true;
}

/// Whether `buffer` holds nothing that is read after `from`: the next op
/// that accesses it overwrites it whole (a transpose into it: bufferization
/// reuses dead buffers) or deallocates it, or none does.
bool isDeadAfter(Operation *from, Value buffer) {
  for (Operation *op = from->getNextNode(); op; op = op->getNextNode()) {
    if (!mayAccess(op, buffer, /*writesOnly=*/false))
      continue;
    auto t = dyn_cast<linalg::TransposeOp>(op);
    return isa<memref::DeallocOp>(op) || (t && t.getInit() == buffer);
  }
  return true;
}

/// Erases `alloc` and its deallocations once nothing else uses it.
void eraseIfUnused(memref::AllocOp alloc) {
  if (!llvm::all_of(alloc->getUsers(), [](Operation *user) {
        return isa<memref::DeallocOp>(user);
      }))
    return;
  for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
    user->erase();
  alloc->erase();
}

std::optional<TransposedInput> matchTransposedInput(Operation *anchor,
                                                    Value buffer) {
  Operation *reshape = buffer.getDefiningOp();
  Value allocated = buffer;
  if (isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp>(reshape))
    allocated = reshape->getOperand(0);
  else
    reshape = nullptr;
  auto alloc = allocated.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != anchor->getBlock())
    return std::nullopt;
  // Through a reshape, the alloc has no other view (every access of the
  // memory then goes through `buffer`).
  if (reshape && !llvm::all_of(alloc->getUsers(), [&](Operation *user) {
        return user == reshape || isa<memref::DeallocOp>(user);
      }))
    return std::nullopt;
  if (!hasOnlyTrackedUsers(allocated, anchor->getBlock()))
    return std::nullopt;
  // mayAccess and isDeadAfter take the root buffer: the alloc.
  linalg::TransposeOp transpose;
  for (Operation *op = anchor->getPrevNode(); op; op = op->getPrevNode()) {
    if (!mayAccess(op, allocated, /*writesOnly=*/false))
      continue;
    auto t = dyn_cast<linalg::TransposeOp>(op);
    if (!t || t.getInit() != buffer)
      return std::nullopt;
    transpose = t;
    break;
  }
  if (!transpose ||
      mayAccessBetween(transpose, anchor, getRootBuffer(transpose.getInput()),
                       /*writesOnly=*/true) ||
      !isDeadAfter(anchor, allocated))
    return std::nullopt;
  return TransposedInput{transpose, alloc, reshape};
}

/// The transposed view of `t`'s source, replacing the buffer it wrote.
Value buildTransposedView(OpBuilder &b, TransposedInput t) {
  auto map = AffineMap::getPermutationMap(
      llvm::map_to_vector(t.transpose.getPermutation(),
                          [](int64_t p) { return static_cast<unsigned>(p); }),
      b.getContext());
  return memref::TransposeOp::create(b, t.transpose.getLoc(),
                                     t.transpose.getInput(),
                                     AffineMapAttr::get(map));
}

/// The 2-D transpose that is the only reader of `anchor`'s output `buffer`
/// (an alloc): the next op after the anchor that accesses the buffer is the
/// transpose, which writes a buffer nothing touches in between, and the
/// buffer is dead after it (overwritten whole, or never accessed again).
linalg::TransposeOp matchTransposedOutput(Operation *anchor, Value buffer) {
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != anchor->getBlock() ||
      !hasOnlyTrackedUsers(buffer, anchor->getBlock()))
    return nullptr;
  linalg::TransposeOp transpose;
  Operation *op = anchor->getNextNode();
  for (; op; op = op->getNextNode()) {
    if (!mayAccess(op, buffer, /*writesOnly=*/false))
      continue;
    transpose = dyn_cast<linalg::TransposeOp>(op);
    break;
  }
  if (!transpose || transpose.getInput() != buffer ||
      transpose.getPermutation() != ArrayRef<int64_t>{1, 0} ||
      mayAccessBetween(anchor, transpose, getRootBuffer(transpose.getInit()),
                       /*writesOnly=*/false))
    return nullptr;
  // The destination must exist at the anchor: an alloc made in between moves
  // up when its sizes are known there.
  memref::AllocOp destToMove;
  if (Operation *def = transpose.getInit().getDefiningOp();
      def && def->getBlock() == anchor->getBlock() &&
      anchor->isBeforeInBlock(def)) {
    destToMove = dyn_cast<memref::AllocOp>(def);
    if (!destToMove || llvm::any_of(destToMove->getOperands(), [&](Value v) {
          Operation *sizeDef = v.getDefiningOp();
          return sizeDef && sizeDef->getBlock() == anchor->getBlock() &&
                 !sizeDef->isBeforeInBlock(anchor);
        }))
      return nullptr;
  }
  if (!isDeadAfter(transpose, buffer))
    return nullptr;
  if (destToMove)
    destToMove->moveBefore(anchor);
  return transpose;
}

/// Erases the transpose, and its buffer if nothing else uses it, once the
/// anchor reads the view.
void eraseTransposed(const std::optional<TransposedInput> &t) {
  if (!t)
    return;
  t->transpose->erase();
  if (t->reshape && t->reshape->use_empty())
    t->reshape->erase();
  eraseIfUnused(t->alloc);
}

/// Whether `v` views the module's weights section (the `@main` argument that
/// vitc-externalize-weights named "weights"): its content is constant for the
/// lifetime of the loaded artifact, so a kernel may cache a reordered copy of
/// it keyed by its address. Computed tensors (e.g. weights being trained)
/// never qualify.
bool isViewOfWeights(Value v) {
  auto arg = dyn_cast<BlockArgument>(getRootBuffer(v));
  if (!arg)
    return false;
  auto fn = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!fn || arg.getOwner() != &fn.getFunctionBody().front())
    return false;
  auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "vt.name");
  return name && name.getValue() == "weights";
}

} // namespace vitc::cpu
