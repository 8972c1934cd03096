//===- LinalgToLibrary.cpp - anchors on memrefs -> runtime kernel calls -----===//
//
// After one-shot bufferization, the anchor ops that a tuned library does best
// (matmul, batch_matmul, 2-D convolution, 2-D pooling) become calls to the
// runtime's CPU kernels:
//
//   func.func private @vitc_cpu_<op>_<dtype>(memref<?x..xT, strided<[?..], offset: ?>>...,
//                                           i64...) attributes {llvm.emit_c_interface}
//
// whose C symbols `_mlir_ciface_vitc_cpu_<op>_<dtype>` take memref
// descriptors (runtime/kernels/cpu). Operands are cast to fully dynamic
// shapes and layouts so one symbol serves every shape and stride. <dtype>
// is f32, or bf16 for matmuls and convolutions with bf16 inputs that
// accumulate into an f32 output (mixed precision: linalg widens each input
// element to the output type, what the library does in its f32 accumulators).
//
// linalg accumulates into its output; the kernels overwrite it unless told to
// accumulate. The zero (or -inf for max pooling) fill that initialises the
// output is dropped when nothing touches the output between the fill and the
// op; otherwise matmul and conv are called with accumulate = 1 and pooling
// stays a linalg op.
//
// Matmul B operands and convolution filters that view the weights section
// are marked constant (a trailing i64 1): the kernel may then keep them
// reordered into the library's layout across calls.
//
// The lowering pads convolution / pooling inputs by materialising a bigger
// buffer (fill with the pad value, copy the input into a subview). When that
// pattern is found, the kernel gets the unpadded input and the pads instead,
// and the padded buffer disappears.
//
//===----------------------------------------------------------------------===//
#include "vitc/Compiler/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace vitc {
#define GEN_PASS_DEF_LINALGTOLIBRARY
#include "vitc/Compiler/Passes.h.inc"

using namespace mlir;

namespace {

//===----------------------------------------------------------------------===//
// Memory helpers
//===----------------------------------------------------------------------===//

/// The buffer a memref value views (through subviews, casts, reshapes).
Value getRootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// Whether `op` calls a library kernel this pass emits whose name starts
/// with `prefix`.
bool isKernelCall(Operation *op, StringRef prefix = "vitc_cpu_") {
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

/// The identity of the reduction a kernel performs: the value that padding
/// and output initialisation must hold for the library call to be exact.
enum class Neutral { Zero, NegInfinity };

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

/// An input that the lowering padded by hand: `padded` = alloc, filled with
/// the pad value, with `source` copied into a subview at (top, left).
struct PaddedInput {
  memref::AllocOp alloc;
  Value source;
  int64_t top, left;
  SmallVector<Operation *> ops; // fill, copy, subview, alloc: erased after.
};

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

/// An input that a linalg.transpose wrote just for the anchor: the last
/// write of `buffer` (an alloc) before the anchor is the transpose, nothing
/// between them touches the buffer or writes the transpose's source, and
/// after the anchor the buffer is overwritten whole (another transpose into
/// it: bufferization reuses dead buffers) or never read again. The kernel
/// can then read a transposed view of the source (memref.transpose:
/// strides, no copy) instead; the autodiff's x^T and g^T of a filter
/// gradient are such inputs, and the kernel swaps them back without touching
/// memory.
struct TransposedInput {
  linalg::TransposeOp transpose;
  memref::AllocOp alloc;
};

std::optional<TransposedInput> matchTransposedInput(Operation *anchor,
                                                    Value buffer) {
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != anchor->getBlock())
    return std::nullopt;
  if (!hasOnlyTrackedUsers(buffer, anchor->getBlock()))
    return std::nullopt;
  linalg::TransposeOp transpose;
  for (Operation *op = anchor->getPrevNode(); op; op = op->getPrevNode()) {
    if (!mayAccess(op, buffer, /*writesOnly=*/false))
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
      !isDeadAfter(anchor, buffer))
    return std::nullopt;
  return TransposedInput{transpose, alloc};
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

//===----------------------------------------------------------------------===//
// Building the calls
//===----------------------------------------------------------------------===//

/// The kernel name suffix for inputs of element type `input` and an output
/// of `output`: f32 for f32 -> f32, bf16 for bf16 -> f32 (mixed precision);
/// nullopt where the runtime has no kernel.
std::optional<StringRef> getDtypeSuffix(Type input, Type output) {
  if (!output.isF32())
    return std::nullopt;
  if (input.isF32())
    return StringRef("f32");
  if (input.isBF16())
    return StringRef("bf16");
  return std::nullopt;
}

/// The kernel suffix of an anchor reading `inputs` (of one element type)
/// into `output`.
std::optional<StringRef> getDtypeSuffix(ValueRange inputs, Value output) {
  Type input = getElementTypeOrSelf(inputs.front().getType());
  if (llvm::any_of(inputs, [&](Value v) {
        return getElementTypeOrSelf(v.getType()) != input;
      }))
    return std::nullopt;
  return getDtypeSuffix(input, getElementTypeOrSelf(output.getType()));
}

/// A memref type of the same rank and element type with every size, stride
/// and the offset dynamic: the one signature all shapes share.
MemRefType getFullyDynamicType(MemRefType type) {
  SmallVector<int64_t> shape(type.getRank(), ShapedType::kDynamic);
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic,
                                       strides);
  return MemRefType::get(shape, type.getElementType(), layout,
                         type.getMemorySpace());
}

class CallBuilder {
public:
  CallBuilder(ModuleOp module, SymbolTable &symbols)
      : module(module), symbols(symbols) {}

  /// Casts `memref` to its fully dynamic type.
  Value castToDynamic(OpBuilder &b, Location loc, Value memref) {
    auto type = getFullyDynamicType(cast<MemRefType>(memref.getType()));
    if (memref.getType() == type)
      return memref;
    return memref::CastOp::create(b, loc, type, memref);
  }

  /// An i64 constant, shared by the arguments of one call.
  Value i64(OpBuilder &b, Location loc, int64_t v) {
    Value &cached = constants[v];
    if (!cached)
      cached = arith::ConstantIntOp::create(b, loc, v, 64);
    return cached;
  }

  /// Starts a new call site: constants are not shared across them.
  void beginCall() { constants.clear(); }

  Value indexToI64(OpBuilder &b, Location loc, Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }

  /// Emits `func.call @name(memrefs..., scalars...)`, declaring `name` on
  /// first use. Fails (with a diagnostic) if the module already holds a
  /// different `name`.
  LogicalResult call(OpBuilder &b, Operation *anchor, StringRef name,
                     ArrayRef<Value> memrefs, ArrayRef<Value> scalars) {
    Location loc = anchor->getLoc();
    SmallVector<Value> args;
    for (Value m : memrefs)
      args.push_back(castToDynamic(b, loc, m));
    args.append(scalars.begin(), scalars.end());
    auto fnType = b.getFunctionType(TypeRange(ValueRange(args)), {});
    auto fn = symbols.lookup<func::FuncOp>(name);
    if (!fn) {
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      fn = func::FuncOp::create(mb, module.getLoc(), name, fnType);
      fn.setPrivate();
      // The C symbol takes memref descriptors: _mlir_ciface_<name>.
      fn->setAttr("llvm.emit_c_interface", UnitAttr::get(b.getContext()));
      // Kernels never retain their arguments (vitc-plan-memory relies on it).
      fn->setAttr("vitc.library_kernel", UnitAttr::get(b.getContext()));
      symbols.insert(fn);
    } else if (fn.getFunctionType() != fnType) {
      hadError = true;
      return anchor->emitOpError("library kernel '")
             << name << "' is already declared with type "
             << fn.getFunctionType() << ", expected " << fnType;
    }
    func::CallOp::create(b, loc, fn, args);
    return success();
  }

  /// Whether a call could not be emitted (a diagnostic was reported).
  bool hadError = false;

private:
  ModuleOp module;
  SymbolTable &symbols;
  llvm::DenseMap<int64_t, Value> constants;
};

//===----------------------------------------------------------------------===//
// Matmul
//===----------------------------------------------------------------------===//

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
      (Twine("vitc_cpu_") + (batched ? "batch_matmul_" : "matmul_") + dtype).str();
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
LogicalResult convertGenericContraction(linalg::GenericOp op,
                                        CallBuilder &calls) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op))
    return failure();
  FailureOr<linalg::ContractionDimensions> dimsOr =
      linalg::inferContractionDims(op);
  if (failed(dimsOr) || dimsOr->k.empty() || dimsOr->n.empty() ||
      dimsOr->m.empty())
    return failure();
  Value a = op.getDpsInputs()[0], bMat = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
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

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

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

LogicalResult convertConv(linalg::LinalgOp op, DenseIntElementsAttr strides,
                          DenseIntElementsAttr dilations, bool grouped,
                          CallBuilder &calls) {
  Value input = op.getDpsInputs()[0], filter = op.getDpsInputs()[1],
        out = op.getDpsInits()[0];
  auto dtype = getDtypeSuffix({input, filter}, out);
  if (!dtype)
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
  std::string name = (Twine("vitc_cpu_conv2d_") +
                      (grouped ? "grouped_" : "") + *dtype)
                         .str();
  Value kernelInput = padded ? padded->source : input;
  // Transposed inputs as strided views (the grouped kernels need identity
  // layouts).
  std::optional<TransposedInput> transposedInput, transposedFilter;
  if (!grouped) {
    transposedInput = matchTransposedInput(op, kernelInput);
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
      (Twine("vitc_cpu_") + (isMax ? "max_pool2d_" : "sum_pool2d_") + *dtype)
          .str();
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

//===----------------------------------------------------------------------===//
// Reorder hints
//===----------------------------------------------------------------------===//

/// The value a kernel operand reads memory of, looking through views that
/// keep its address (casts, transposes): two operands with the same origin
/// start at the same address.
Value getOrigin(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<memref::CastOp, memref::TransposeOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

/// Whether a convolution call reads `origin` as its input or filter.
bool convReads(Operation *op, Value origin) {
  return isKernelCall(op, "vitc_cpu_conv2d_") &&
         (getOrigin(op->getOperand(0)) == origin ||
                            getOrigin(op->getOperand(1)) == origin);
}

/// Whether, walking from `call` in `forward` direction within its block, a
/// convolution call reads the same origin before anything writes its buffer
/// (reads by other ops leave the content as it is).
bool convReadsUnchanged(Operation *call, Value origin, bool forward) {
  Value root = getRootBuffer(origin);
  for (Operation *op = forward ? call->getNextNode() : call->getPrevNode(); op;
       op = forward ? op->getNextNode() : op->getPrevNode()) {
    if (convReads(op, origin))
      return true;
    if (mayAccess(op, root, /*writesOnly=*/true))
      return false;
  }
  return false;
}

/// Sets the last operand of every convolution call to its reorder hints, two
/// bits per read operand (input: bits 0-1, filter: bits 2-3). The kernels
/// reorder their operands into oneDNN's blocked layouts; a convolution and
/// its gradients read the same x and g two or three times in one step.
///  - reuse (bit 0 / 2): the previous convolution that read this memory read
///    it at the same address, and nothing wrote it since: a copy it kept in
///    the chosen layout still holds the same values;
///  - keep (bit 1 / 3): a later convolution reads it unchanged, so keeping
///    the reordered copy pays.
/// The kernel drops its copies of an address on any read without `reuse`,
/// so a copy is only ever used by the chain of unchanged reads that made it.
void assignReorderHints(ModuleOp module, CallBuilder &calls) {
  module.walk([&](func::CallOp call) {
    if (!isKernelCall(call, "vitc_cpu_conv2d_"))
      return;
    int64_t hints = 0;
    for (unsigned i = 0; i < 2; ++i) {
      Value origin = getOrigin(call.getOperand(i));
      if (convReadsUnchanged(call, origin, /*forward=*/false))
        hints |= int64_t(1) << (2 * i);
      if (convReadsUnchanged(call, origin, /*forward=*/true))
        hints |= int64_t(2) << (2 * i);
    }
    if (hints == 0)
      return;
    OpBuilder b(call);
    calls.beginCall();
    call->setOperand(call->getNumOperands() - 1,
                     calls.i64(b, call.getLoc(), hints));
  });
}

struct LinalgToLibraryPass
    : impl::LinalgToLibraryBase<LinalgToLibraryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    CallBuilder calls(module, symbols);
    SmallVector<linalg::LinalgOp> anchors;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() &&
          isa<linalg::MatmulOp, linalg::BatchMatmulOp, linalg::Conv2DNchwFchwOp,
              linalg::Conv2DNgchwGfchwOp, linalg::PoolingNchwMaxOp,
              linalg::PoolingNchwSumOp>(op))
        anchors.push_back(op);
      else if (op.hasPureBufferSemantics() && isa<linalg::GenericOp>(op) &&
               linalg::isaContractionOpInterface(op))
        anchors.push_back(op);
    });
    for (linalg::LinalgOp op : anchors) {
      calls.beginCall();
      // A failure to match leaves the op to the generic loop lowering; only
      // a conflicting declaration is an error.
      LogicalResult converted =
          TypeSwitch<Operation *, LogicalResult>(op)
              .Case<linalg::MatmulOp, linalg::BatchMatmulOp>(
                  [&](auto) { return convertMatmul(op, calls); })
              .Case([&](linalg::Conv2DNchwFchwOp conv) {
                return convertConv(op, conv.getStrides(), conv.getDilations(),
                                   /*grouped=*/false, calls);
              })
              .Case([&](linalg::Conv2DNgchwGfchwOp conv) {
                return convertConv(op, conv.getStrides(), conv.getDilations(),
                                   /*grouped=*/true, calls);
              })
              .Case([&](linalg::PoolingNchwMaxOp pool) {
                return convertPool(op, pool.getStrides(), pool.getDilations(),
                                   /*isMax=*/true, calls);
              })
              .Case([&](linalg::PoolingNchwSumOp pool) {
                return convertPool(op, pool.getStrides(), pool.getDilations(),
                                   /*isMax=*/false, calls);
              })
              .Case([&](linalg::GenericOp generic) {
                return convertGenericContraction(generic, calls);
              })
              .Default([](Operation *) { return failure(); });
      (void)converted;
    }
    assignReorderHints(module, calls);
    if (calls.hadError)
      signalPassFailure();
  }
};

} // namespace
} // namespace vitc
