//===- VtInferShapes.cpp - refine vt result types to a fixed point ----------===//
//
// Importers give results the types ONNX shape inference knew, often `?`
// where a shape is computed in the graph. This pass alternates
//   1. canonicalisation of vt ops (folding Shape->Gather->Concat chains into
//      constants wherever the dims are static), and
//   2. a forward walk that re-infers each vt op's result type from its
//      operands and, for reshape / expand / range / random_uniform, from
//      their shape operands, read symbolically: a shape vector is a list of
//      entries that are constants or "dim d of value v", so the exporter's
//      Reshape(x, Concat(Shape(x)[0], -1)) with a dynamic batch still gets
//      its static trailing dim,
// until nothing changes, then rewrites function signatures to match.
// Types are only ever refined (a static dim stays), never generalised.
//
//===----------------------------------------------------------------------===//
#include "compiler/Graph/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTINFERSHAPES
#include "compiler/Graph/Passes.h.inc"

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// Symbolic shape vectors
//===----------------------------------------------------------------------===//

/// One element of a 1-D shape tensor: a known constant, dim `dim` of
/// `source` (dynamic there), or unknown.
struct ShapeEntry {
  std::optional<int64_t> constant;
  Value source;
  int64_t dim = -1;

  bool isDimOf(Value v, int64_t d) const {
    return source == v && dim == d;
  }
};

using ShapeEntries = SmallVector<ShapeEntry>;


/// The entries of `v`, a shape-like tensor with a static element count, as
/// far as they can be traced through the ops exporters build shapes with.
static std::optional<ShapeEntries> shapeEntries(Value v, int depth = 0) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() > 1 || !type.hasStaticShape() ||
      !isa<IntegerType>(type.getElementType()))
    return std::nullopt;
  int64_t n = type.getNumElements();
  ShapeEntries unknown(n);
  if (depth > 16)
    return unknown;
  if (auto values = vt::getConstantInts(v)) {
    ShapeEntries entries;
    for (int64_t x : *values)
      entries.push_back({x, {}, -1});
    return entries;
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return unknown;
  if (auto shapeOf = dyn_cast<vt::ShapeOfOp>(def)) {
    auto in = shapeOf.getInput().getType();
    ShapeEntries entries;
    for (int64_t d = 0; d < in.getRank(); ++d) {
      if (in.isDynamicDim(d))
        entries.push_back({std::nullopt, shapeOf.getInput(), d});
      else
        entries.push_back({in.getDimSize(d), {}, -1});
    }
    return entries;
  }
  if (auto gather = dyn_cast<vt::GatherOp>(def)) {
    auto source = shapeEntries(gather.getInput(), depth + 1);
    auto indices = vt::getConstantInts(gather.getIndices());
    if (!source || !indices || gather.getAxis() != 0)
      return unknown;
    ShapeEntries entries;
    for (int64_t i : *indices) {
      if (i < 0)
        i += source->size();
      if (i < 0 || i >= (int64_t)source->size())
        return unknown;
      entries.push_back((*source)[i]);
    }
    return entries;
  }
  if (auto slice = dyn_cast<vt::SliceOp>(def)) {
    auto source = shapeEntries(slice.getInput(), depth + 1);
    if (!source)
      return unknown;
    int64_t size = source->size(), start = slice.getStarts()[0],
            step = slice.getSteps()[0];
    if (start < 0)
      start += size;
    start = step > 0 ? std::clamp<int64_t>(start, 0, size)
                     : std::clamp<int64_t>(start, -1, size - 1);
    ShapeEntries entries;
    for (int64_t i = 0; i < n; ++i) {
      int64_t p = start + i * step;
      if (p < 0 || p >= size)
        return unknown;
      entries.push_back((*source)[p]);
    }
    return entries;
  }
  if (auto concat = dyn_cast<vt::ConcatOp>(def)) {
    ShapeEntries entries;
    for (Value in : concat.getInputs()) {
      auto part = shapeEntries(in, depth + 1);
      if (!part)
        return unknown;
      llvm::append_range(entries, *part);
    }
    return entries.size() == (size_t)n ? entries : unknown;
  }
  // Where(Equal(shape, -1), 1, shape): what exporters write for
  // expand(n, -1, -1). Elementwise, each condition decided where both sides
  // are known, or where a dim (never negative) meets a negative constant.
  if (auto select = dyn_cast<vt::SelectOp>(def)) {
    auto eq = select.getCond().getDefiningOp<vt::EqualOp>();
    if (!eq)
      return unknown;
    auto lhs = shapeEntries(eq.getLhs(), depth + 1);
    auto rhs = shapeEntries(eq.getRhs(), depth + 1);
    auto onTrue = shapeEntries(select.getLhs(), depth + 1);
    auto onFalse = shapeEntries(select.getRhs(), depth + 1);
    if (!lhs || !rhs || !onTrue || !onFalse)
      return unknown;
    auto at = [&](const ShapeEntries &e, int64_t i) -> std::optional<ShapeEntry> {
      if (e.size() == 1)
        return e[0];
      if ((int64_t)e.size() == n)
        return e[i];
      return std::nullopt;
    };
    ShapeEntries entries;
    for (int64_t i = 0; i < n; ++i) {
      auto a = at(*lhs, i), c = at(*rhs, i), t = at(*onTrue, i),
           f = at(*onFalse, i);
      if (!a || !c || !t || !f)
        return unknown;
      std::optional<bool> equal;
      if (a->constant && c->constant)
        equal = *a->constant == *c->constant;
      else if ((a->source && c->constant && *c->constant < 0) ||
               (c->source && a->constant && *a->constant < 0))
        equal = false;
      if (!equal)
        entries.push_back({});
      else
        entries.push_back(*equal ? *t : *f);
    }
    return entries;
  }
  // Reshapes of a vector (Unsqueeze / Squeeze of a dim) and integer casts
  // keep the elements in order.
  if (isa<vt::ReshapeOp, vt::CastOp>(def)) {
    auto part = shapeEntries(def->getOperand(0), depth + 1);
    if (part && part->size() == (size_t)n &&
        (!isa<vt::CastOp>(def) ||
         isa<IntegerType>(getElementTypeOrSelf(def->getOperand(0).getType()))))
      return part;
  }
  return unknown;
}

//===----------------------------------------------------------------------===//
// Result shapes of the ops that read shape tensors
//===----------------------------------------------------------------------===//

/// ONNX Reshape (allowzero = 0): 0 copies the input dim, one -1 is the
/// element count over the other dims. The -1 is static when the other dims
/// account for every dynamic input dim (each a "dim of the input" entry).
static std::optional<SmallVector<int64_t>> reshapeShape(vt::ReshapeOp op) {
  auto entries = shapeEntries(op.getShape());
  if (!entries)
    return std::nullopt;
  Value input = op.getInput();
  auto in = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  // Input dims the other entries are known to equal, symbolically.
  SmallVector<int64_t> usedInputDims;
  int64_t staticProduct = 1, inferredAt = -1;
  bool othersKnown = true;
  for (auto [i, e] : llvm::enumerate(*entries)) {
    int64_t pos = i;
    if (e.constant && *e.constant == -1) {
      inferredAt = pos;
      shape.push_back(kDyn);
      continue;
    }
    if (e.constant && *e.constant == 0 && pos < in.getRank()) {
      shape.push_back(in.getDimSize(pos));
      if (in.isDynamicDim(pos))
        usedInputDims.push_back(pos);
      else
        staticProduct *= in.getDimSize(pos);
      continue;
    }
    if (e.constant && *e.constant > 0) {
      shape.push_back(*e.constant);
      staticProduct *= *e.constant;
      continue;
    }
    shape.push_back(kDyn);
    if (e.source == input)
      usedInputDims.push_back(e.dim);
    else
      othersKnown = false;
  }
  if (inferredAt >= 0 && othersKnown) {
    SmallVector<int64_t> dynamicInputDims;
    int64_t inputStatic = 1;
    for (int64_t d = 0; d < in.getRank(); ++d) {
      if (in.isDynamicDim(d))
        dynamicInputDims.push_back(d);
      else
        inputStatic *= in.getDimSize(d);
    }
    llvm::sort(usedInputDims);
    if (usedInputDims == dynamicInputDims && staticProduct != 0 &&
        inputStatic % staticProduct == 0)
      shape[inferredAt] = inputStatic / staticProduct;
  }
  return shape;
}

/// Bidirectional broadcast of the input with the shape vector.
static std::optional<SmallVector<int64_t>> expandShape(vt::ExpandOp op) {
  auto entries = shapeEntries(op.getShape());
  if (!entries)
    return std::nullopt;
  auto in = op.getInput().getType();
  int64_t rank = std::max<int64_t>(in.getRank(), entries->size());
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t sd = d - (rank - entries->size()), id = d - (rank - in.getRank());
    int64_t x = id >= 0 ? in.getDimSize(id) : 1;
    if (sd < 0) {
      shape.push_back(x);
      continue;
    }
    const ShapeEntry &e = (*entries)[sd];
    if (e.constant && *e.constant == 1)
      shape.push_back(x);
    else if (e.constant && *e.constant > 1)
      shape.push_back(*e.constant);
    else if (x != kDyn && x != 1)
      shape.push_back(x);
    else
      shape.push_back(kDyn);
  }
  return shape;
}

/// The dims in a random_uniform's shape operand.
static std::optional<SmallVector<int64_t>>
randomUniformShape(vt::RandomUniformOp op) {
  if (!op.getShape())
    return std::nullopt;
  auto entries = shapeEntries(op.getShape());
  if (!entries)
    return std::nullopt;
  return llvm::map_to_vector(*entries, [](const ShapeEntry &e) {
    return e.constant && *e.constant >= 0 ? *e.constant : kDyn;
  });
}

/// The element count of a range with constant operands.
static std::optional<SmallVector<int64_t>> rangeShape(vt::RangeOp op) {
  auto scalar = [](Value v) -> std::optional<double> {
    DenseElementsAttr attr;
    if (!matchPattern(v, m_Constant(&attr)) || attr.getNumElements() != 1)
      return std::nullopt;
    if (isa<IntegerType>(attr.getElementType()))
      return (double)(*attr.getValues<APInt>().begin()).getSExtValue();
    return (*attr.getValues<APFloat>().begin()).convertToDouble();
  };
  auto start = scalar(op.getStart()), limit = scalar(op.getLimit()),
       delta = scalar(op.getDelta());
  if (!start || !limit || !delta || *delta == 0)
    return std::nullopt;
  int64_t n = (int64_t)std::ceil((*limit - *start) / *delta);
  return SmallVector<int64_t>{std::max<int64_t>(n, 0)};
}

//===----------------------------------------------------------------------===//
// Refinement
//===----------------------------------------------------------------------===//

/// `current` with its dynamic dims replaced by static ones of `inferred`;
/// null when the two disagree on the rank, element type or a static dim.
static RankedTensorType refine(RankedTensorType current, ArrayRef<int64_t> inferred,
                               Type elementType) {
  if ((int64_t)inferred.size() != current.getRank() ||
      elementType != current.getElementType())
    return {};
  SmallVector<int64_t> shape;
  for (auto [c, i] : llvm::zip(current.getShape(), inferred)) {
    if (c != kDyn && i != kDyn && c != i)
      return {};
    shape.push_back(c != kDyn ? c : i);
  }
  return RankedTensorType::get(shape, elementType, current.getEncoding());
}

/// The shapes the operands now imply for `op`'s results (one per result;
/// empty where nothing is known).
static SmallVector<std::optional<SmallVector<int64_t>>>
inferredShapes(Operation *op) {
  SmallVector<std::optional<SmallVector<int64_t>>> shapes(op->getNumResults());
  auto shapeOfValue = [](Value v) {
    return llvm::to_vector(cast<RankedTensorType>(v.getType()).getShape());
  };
  if (auto reshape = dyn_cast<vt::ReshapeOp>(op))
    shapes[0] = reshapeShape(reshape);
  else if (auto expand = dyn_cast<vt::ExpandOp>(op))
    shapes[0] = expandShape(expand);
  else if (auto range = dyn_cast<vt::RangeOp>(op))
    shapes[0] = rangeShape(range);
  else if (auto random = dyn_cast<vt::RandomUniformOp>(op))
    shapes[0] = randomUniformShape(random);
  else if (op->hasTrait<mlir::OpTrait::SameOperandsAndResultType>() ||
           op->hasTrait<mlir::OpTrait::SameOperandsAndResultShape>() ||
           isa<vt::LayerNormOp, vt::BatchNormOp>(op))
    shapes[0] = shapeOfValue(op->getOperand(0));
  else if (auto argmax = dyn_cast<vt::ArgMaxOp>(op)) {
    SmallVector<int64_t> shape;
    for (auto [d, s] : llvm::enumerate(argmax.getInput().getType().getShape())) {
      if ((int64_t)d != (int64_t)argmax.getAxis())
        shape.push_back(s);
      else if (argmax.getKeepdims())
        shape.push_back(1);
    }
    shapes[0] = shape;
  } else if (auto infer = dyn_cast<InferTypeOpInterface>(op)) {
    SmallVector<Type> types;
    if (succeeded(infer.inferReturnTypes(
            op->getContext(), std::nullopt, op->getOperands(),
            op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
            op->getRegions(), types)))
      for (auto [i, t] : llvm::enumerate(types))
        if (auto ranked = dyn_cast<RankedTensorType>(t))
          shapes[i] = llvm::to_vector(ranked.getShape());
  }
  return shapes;
}

/// Gives `result` the more precise `type`. Users outside vt that need the
/// old type exactly (anything but vt ops, yields and returns, which this
/// pass updates too) read it through a tensor.cast.
static void setResultType(Value result, Type type) {
  Type old = result.getType();
  result.setType(type);
  for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
    Operation *user = use.getOwner();
    if (isa<vt::VtDialect>(user->getDialect()) || isa<func::ReturnOp>(user))
      continue;
    OpBuilder b(user);
    use.set(tensor::CastOp::create(b, user->getLoc(), old, result));
  }
}

/// Refines the result types of the ops in `region`, in order; returns
/// whether anything changed.
static bool refineRegion(Region &region) {
  bool changed = false;
  for (Block &block : region) {
    for (Operation &op : block) {
      if (!isa<vt::VtDialect>(op.getDialect()))
        continue;
      if (auto fusion = dyn_cast<vt::FusionOp>(op)) {
        Block &body = fusion.getBody().front();
        for (auto [arg, in] : llvm::zip(body.getArguments(), fusion.getInputs()))
          if (arg.getType() != in.getType()) {
            arg.setType(in.getType());
            changed = true;
          }
        changed |= refineRegion(fusion.getBody());
        auto yield = cast<vt::YieldOp>(body.getTerminator());
        for (auto [res, v] : llvm::zip(fusion.getResults(), yield.getValues())) {
          auto cur = cast<RankedTensorType>(res.getType());
          auto next = refine(cur, cast<RankedTensorType>(v.getType()).getShape(),
                             cur.getElementType());
          if (next && next != cur) {
            setResultType(res, next);
            changed = true;
          }
        }
        continue;
      }
      auto shapes = inferredShapes(&op);
      for (auto [res, shape] : llvm::zip(op.getResults(), shapes)) {
        auto cur = dyn_cast<RankedTensorType>(res.getType());
        if (!cur || !shape)
          continue;
        auto next = refine(cur, *shape, cur.getElementType());
        if (next && next != cur) {
          setResultType(res, next);
          changed = true;
        }
      }
    }
  }
  return changed;
}

/// Function result types := the types returned; call sites follow.
static bool updateSignatures(ModuleOp module) {
  bool changed = false;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    auto ret = cast<func::ReturnOp>(func.getBody().back().getTerminator());
    SmallVector<Type> results(ret.getOperandTypes());
    if (results == SmallVector<Type>(func.getResultTypes()))
      continue;
    func.setFunctionType(FunctionType::get(
        func.getContext(), func.getArgumentTypes(), results));
    changed = true;
    if (auto uses = SymbolTable::getSymbolUses(func, module))
      for (const SymbolTable::SymbolUse &use : *uses)
        if (auto call = dyn_cast<func::CallOp>(use.getUser()))
          for (auto [res, t] : llvm::zip(call.getResults(), results))
            if (res.getType() != t)
              setResultType(res, t);
  }
  return changed;
}

struct VtInferShapesPass : impl::VtInferShapesBase<VtInferShapesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    for (RegisteredOperationName name : ctx->getRegisteredOperations())
      if (name.getDialectNamespace() == vt::VtDialect::getDialectNamespace())
        name.getCanonicalizationPatterns(patterns, ctx);
    FrozenRewritePatternSet frozen(std::move(patterns));

    // Each round folds what the last refinement made static; shape chains
    // are short, so a handful of rounds reach the fixed point.
    constexpr int kMaxRounds = 32;
    for (int round = 0; round < kMaxRounds; ++round) {
      bool canonicalized = false;
      (void)applyPatternsGreedily(module, frozen, GreedyRewriteConfig(),
                                  &canonicalized);
      bool refined = false;
      for (auto func : module.getOps<func::FuncOp>())
        refined |= refineRegion(func.getBody());
      refined |= updateSignatures(module);
      if (!canonicalized && !refined)
        return;
    }
  }
};

} // namespace
} // namespace vitc
