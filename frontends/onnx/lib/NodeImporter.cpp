//===- NodeImporter.cpp - helpers shared by the import rules ----------------===//
#include "ImporterImpl.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/MathExtras.h"

#include <charconv>
#include <cstdlib>

using namespace mlir;
using namespace vitc::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

NodeImporter::NodeImporter(GraphImporter &graph, const ::onnx::NodeProto &node,
                           unsigned index, int64_t opset, Location loc,
                           OpBuilder &builder)
    : graph(graph), nodeProto(node), nodeIndex(index), opsetVersion(opset),
      location(loc), b(builder) {}

InFlightDiagnostic NodeImporter::error() {
  InFlightDiagnostic diag = emitError(location);
  diag << opType() << ": ";
  return diag;
}

InFlightDiagnostic NodeImporter::warning() {
  InFlightDiagnostic diag = emitWarning(location);
  diag << opType() << ": ";
  return diag;
}

//===----------------------------------------------------------------------===//
// Inputs and attributes
//===----------------------------------------------------------------------===//

bool NodeImporter::hasInput(unsigned i) const {
  return i < (unsigned)nodeProto.input_size() && !nodeProto.input(i).empty();
}

Value NodeImporter::input(unsigned i) {
  if (!hasInput(i))
    return {};
  return graph.lookup(nodeProto.input(i), b);
}

FailureOr<Value> NodeImporter::requiredInput(unsigned i, llvm::StringRef what) {
  if (Value v = input(i))
    return v;
  return error() << "missing required input " << i << " ('" << what << "')";
}

SmallVector<Value> NodeImporter::inputs() {
  SmallVector<Value> result;
  for (unsigned i = 0; i < numInputs(); ++i)
    if (Value v = input(i))
      result.push_back(v);
  return result;
}

LogicalResult NodeImporter::expectInputs(unsigned min) {
  for (unsigned i = 0; i < min; ++i)
    if (!hasInput(i))
      return error() << "expects at least " << min << " inputs, input " << i
                     << " is missing";
  return success();
}

const ::onnx::AttributeProto *NodeImporter::attr(llvm::StringRef name) const {
  for (const auto &a : nodeProto.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

/// ONNX stores float32 values; widen to the shortest decimal that
/// round-trips (0.1f becomes 0.1, not 0.10000000149), which is what the
/// exporter meant and converts back to the same float32.
static double widenFloat(float f) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  if (ec != std::errc())
    return f;
  return std::strtod(std::string(buf, end).c_str(), nullptr);
}

int64_t NodeImporter::attrInt(llvm::StringRef name, int64_t dflt) const {
  const auto *a = attr(name);
  return a && a->type() == ::onnx::AttributeProto::INT ? a->i() : dflt;
}

double NodeImporter::attrFloat(llvm::StringRef name, double dflt) const {
  const auto *a = attr(name);
  if (!a)
    return dflt;
  if (a->type() == ::onnx::AttributeProto::INT)
    return (double)a->i();
  return a->type() == ::onnx::AttributeProto::FLOAT ? widenFloat(a->f()) : dflt;
}

std::string NodeImporter::attrString(llvm::StringRef name,
                                     llvm::StringRef dflt) const {
  const auto *a = attr(name);
  return a && a->type() == ::onnx::AttributeProto::STRING ? a->s()
                                                          : dflt.str();
}

std::optional<SmallVector<int64_t>>
NodeImporter::attrInts(llvm::StringRef name) const {
  const auto *a = attr(name);
  if (!a || a->type() != ::onnx::AttributeProto::INTS)
    return std::nullopt;
  return SmallVector<int64_t>(a->ints().begin(), a->ints().end());
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Runs the op's folder over constant operands, recursively, without
/// touching the IR. Memoised in `cache`; bounded so a long chain cannot
/// recurse deeply.
static Attribute evaluate(Value value, unsigned depth,
                          llvm::DenseMap<Value, Attribute> &cache) {
  Attribute attr;
  if (matchPattern(value, m_Constant(&attr)))
    return attr;
  Operation *op = value.getDefiningOp();
  if (!op || depth > 32 || op->getNumResults() != 1 ||
      !isa<vitc::vt::VtDialect>(op->getDialect()))
    return {};
  auto it = cache.find(value);
  if (it != cache.end())
    return it->second;
  auto compute = [&]() -> Attribute {
    // Unknown operands stay null, as folders expect: shape_of of a
    // static-shaped graph input folds without its values.
    SmallVector<Attribute> operands;
    for (Value operand : op->getOperands())
      operands.push_back(evaluate(operand, depth + 1, cache));
    SmallVector<OpFoldResult> results;
    if (failed(op->fold(operands, results)) || results.size() != 1)
      return {};
    if (auto a = dyn_cast<Attribute>(results[0]))
      return a;
    return evaluate(cast<Value>(results[0]), depth + 1, cache);
  };
  Attribute result = compute();
  cache[value] = result;
  return result;
}

Attribute NodeImporter::evaluateConstant(Value value) {
  return evaluate(value, 0, graph.constantCache());
}

FailureOr<SmallVector<int64_t>>
NodeImporter::constantInts(Value value, llvm::StringRef what) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(evaluateConstant(value));
  if (!dense)
    return error() << what << " must be a constant integer tensor";
  SmallVector<int64_t> result;
  for (const APInt &v : dense.getValues<APInt>())
    result.push_back(v.getSExtValue());
  return result;
}

FailureOr<double> NodeImporter::constantScalar(Value value,
                                               llvm::StringRef what) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(evaluateConstant(value));
  if (!dense || dense.getNumElements() != 1)
    return error() << what << " must be a constant scalar";
  if (dense.getElementType().isF32())
    return widenFloat(*dense.getValues<float>().begin());
  if (isa<FloatType>(dense.getElementType()))
    return (*dense.getValues<APFloat>().begin()).convertToDouble();
  APInt v = *dense.getValues<APInt>().begin();
  return dense.getElementType().isUnsignedInteger() ? (double)v.getZExtValue()
                                                    : (double)v.getSExtValue();
}

std::optional<SmallVector<NodeImporter::ShapeElement>>
NodeImporter::symbolicShapeValues(Value shape, unsigned depth) {
  auto type = cast<RankedTensorType>(shape.getType());
  // A longer vector is no shape, and `unknown` below is sized by it.
  if (type.getRank() > 1 || !type.hasStaticShape() ||
      !isa<IntegerType>(type.getElementType()) ||
      type.getNumElements() > kMaxRank)
    return std::nullopt;
  int64_t n = type.getNumElements();
  SmallVector<ShapeElement> unknown(n);
  if (auto dense = dyn_cast_or_null<DenseIntElementsAttr>(evaluateConstant(shape))) {
    SmallVector<ShapeElement> values;
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back({v.getSExtValue(), Value(), -1});
    return values;
  }
  Operation *op = shape.getDefiningOp();
  if (!op || depth > 32)
    return unknown;
  if (auto shapeOf = dyn_cast<vt::ShapeOfOp>(op)) {
    Value src = shapeOf.getInput();
    SmallVector<ShapeElement> values;
    for (auto [j, d] : llvm::enumerate(cast<RankedTensorType>(src.getType()).getShape()))
      values.push_back(d == kDyn ? ShapeElement{kDyn, src, (int64_t)j}
                                 : ShapeElement{d, Value(), -1});
    return values;
  }
  if (auto concat = dyn_cast<vt::ConcatOp>(op)) {
    SmallVector<ShapeElement> values;
    for (Value in : concat.getInputs()) {
      auto part = symbolicShapeValues(in, depth + 1);
      if (!part)
        return unknown;
      llvm::append_range(values, *part);
    }
    return values.size() == (size_t)n ? values : unknown;
  }
  if (auto gather = dyn_cast<vt::GatherOp>(op)) {
    auto src = symbolicShapeValues(gather.getInput(), depth + 1);
    auto idx = dyn_cast_or_null<DenseIntElementsAttr>(
        evaluateConstant(gather.getIndices()));
    if (!src || !idx || (int64_t)idx.getNumElements() != n)
      return unknown;
    SmallVector<ShapeElement> values;
    for (const APInt &v : idx.getValues<APInt>()) {
      int64_t i = v.getSExtValue();
      if (i < 0)
        i += src->size();
      if (i < 0 || i >= (int64_t)src->size())
        return unknown;
      values.push_back((*src)[i]);
    }
    return values;
  }
  // Reshapes of vectors and scalars (Unsqueeze of a gathered dim), and
  // integer casts, keep the values in order.
  if (isa<vt::ReshapeOp, vt::CastOp>(op) &&
      isa<IntegerType>(getElementTypeOrSelf(op->getOperand(0).getType()))) {
    auto part = symbolicShapeValues(op->getOperand(0), depth + 1);
    return part && part->size() == (size_t)n ? *part : unknown;
  }
  if (auto slice = dyn_cast<vt::SliceOp>(op)) {
    auto src = symbolicShapeValues(slice.getInput(), depth + 1);
    if (!src || slice.getStarts().size() != 1)
      return unknown;
    int64_t d = src->size(), step = slice.getSteps()[0];
    int64_t start = slice.getStarts()[0], end = slice.getEnds()[0];
    if (start < 0)
      start += d;
    if (end < 0)
      end += d;
    SmallVector<ShapeElement> values;
    // Steps come from the model: stop before `i += step` could overflow.
    if (step > 0) {
      int64_t last = std::clamp<int64_t>(end, 0, d);
      for (int64_t i = std::clamp<int64_t>(start, 0, d); i < last; i += step) {
        values.push_back((*src)[i]);
        if (step >= last - i)
          break;
      }
    } else if (step < 0) {
      int64_t last = std::clamp<int64_t>(end, -1, d - 1);
      for (int64_t i = std::clamp<int64_t>(start, -1, d - 1); i > last;
           i += step) {
        values.push_back((*src)[i]);
        if (step <= last - i)
          break;
      }
    }
    return values.size() == (size_t)n ? values : unknown;
  }
  return unknown;
}

std::optional<SmallVector<int64_t>>
NodeImporter::partialShapeValues(Value shape) {
  auto symbolic = symbolicShapeValues(shape);
  if (!symbolic)
    return std::nullopt;
  return llvm::to_vector(
      llvm::map_range(*symbolic, [](const ShapeElement &e) { return e.value; }));
}

Value NodeImporter::constI64(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, b.getI64Type());
  auto attr = DenseElementsAttr::get(type, values);
  return vt::ConstantOp::create(b, location, type, cast<TypedAttr>(attr),
                                StringAttr())
      .getResult();
}

Value NodeImporter::scalar(Type elt, double value) {
  auto type = RankedTensorType::get({}, elt);
  Attribute element;
  if (auto ft = dyn_cast<FloatType>(elt))
    element = FloatAttr::get(ft, value);
  else
    element = IntegerAttr::get(elt, elt.isInteger(1) ? (value != 0)
                                                     : (int64_t)value);
  auto attr = DenseElementsAttr::get(type, element);
  return vt::ConstantOp::create(b, location, type, cast<TypedAttr>(attr),
                                StringAttr())
      .getResult();
}

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

FailureOr<Value> NodeImporter::inferResultType(Operation *op) {
  SmallVector<Type> types;
  auto iface = cast<InferTypeOpInterface>(op);
  if (failed(iface.inferReturnTypes(context(), location, op->getOperands(),
                                    op->getRawDictionaryAttrs(),
                                    op->getPropertiesStorage(),
                                    op->getRegions(), types)) ||
      types.size() != 1) {
    op->erase();
    return failure();
  }
  op->getResult(0).setType(types[0]);
  return op->getResult(0);
}

FailureOr<int64_t> NodeImporter::normalizeAxis(int64_t axis, int64_t rank,
                                               llvm::StringRef what) {
  if (axis < -rank || axis >= rank)
    return error() << what << " " << axis << " is out of range for rank "
                   << rank;
  return axis < 0 ? axis + rank : axis;
}

FailureOr<SmallVector<int64_t>>
NodeImporter::normalizeAxes(ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t a : axes) {
    auto n = normalizeAxis(a, rank);
    if (failed(n))
      return failure();
    result.push_back(*n);
  }
  llvm::sort(result);
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

FailureOr<Value> NodeImporter::reshapeToDims(Value input,
                                             ArrayRef<int64_t> dims) {
  auto inType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> resultShape;
  // Pieces of the shape operand: runs of constants, and runtime dims taken
  // from vt.shape_of where a dynamic dim moves to another position.
  SmallVector<Value> pieces;
  SmallVector<int64_t> run;
  Value inputShape;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d >= 0) {
      run.push_back(d);
      resultShape.push_back(d);
      continue;
    }
    int64_t j = -d - 1;
    int64_t size = inType.getDimSize(j);
    resultShape.push_back(size);
    if (size != kDyn) {
      run.push_back(size);
    } else if ((int64_t)i == j) {
      run.push_back(0); // vt.reshape: 0 copies the input dim in place
    } else {
      if (!run.empty())
        pieces.push_back(constI64(run));
      run.clear();
      if (!inputShape)
        inputShape = vt::ShapeOfOp::create(
            b, location,
            RankedTensorType::get({inType.getRank()}, b.getI64Type()), input);
      auto dim = build<vt::GatherOp>(inputShape, constI64({j}),
                                     b.getI64IntegerAttr(0));
      if (failed(dim))
        return failure();
      pieces.push_back(*dim);
    }
  }
  if (!run.empty() || pieces.empty())
    pieces.push_back(constI64(run));
  Value shape = pieces.front();
  if (pieces.size() > 1) {
    auto concat = build<vt::ConcatOp>(pieces, b.getI64IntegerAttr(0));
    if (failed(concat))
      return failure();
    shape = *concat;
  }
  return vt::ReshapeOp::create(
             b, location,
             RankedTensorType::get(resultShape, inType.getElementType()), input,
             shape)
      .getResult();
}

FailureOr<Value> NodeImporter::reshape(Value input, Value shape,
                                       bool allowZero) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto shapeType = cast<RankedTensorType>(shape.getType());
  if (failed(checkShapeOperand(shapeType)))
    return failure();
  if (!shapeType.getElementType().isInteger(64))
    shape = castTo(shape, b.getI64Type());
  // allowzero only differs from the default where the shape holds a 0: a
  // shape that folds to constants without zeros (expanded SpaceToDepth
  // computes it from Shape/Div/Concat) imports like any other.
  if (allowZero) {
    if (auto folded = dyn_cast_or_null<DenseIntElementsAttr>(evaluateConstant(shape)))
      allowZero = llvm::any_of(folded.getValues<APInt>(),
                               [](const APInt &v) { return v.isZero(); });
  }
  SmallVector<ShapeElement> elements = symbolicShapeValues(shape).value_or(
      SmallVector<ShapeElement>(shapeType.getDimSize(0)));
  // The result dims, plus what the -1 needs: the product of the static
  // dims, and which dynamic input dims reappear (each once) in the result.
  SmallVector<int64_t> dims;
  SmallVector<int> reused(inType.getRank(), 0);
  int64_t inferredAt = -1, staticProduct = 1;
  bool unknown = false;
  for (auto [i, e] : llvm::enumerate(elements)) {
    int64_t v = e.value;
    // vt.reshape gives 0 the copy-the-dim meaning; with allowzero a 0 means
    // an empty dim, which only a shape known at compile time can say: it
    // becomes a static 0 of the result type, which the lowering takes as
    // it is (the shape operand's entry is not read).
    if (allowZero && v == kDyn && e.source != input)
      return error() << "allowzero = 1 needs a shape known at compile time";
    if (v == 0 && allowZero) {
      if (llvm::any_of(elements,
                       [](const ShapeElement &o) { return o.value == -1; }))
        return error() << "allowzero = 1: the shape cannot hold both 0 and -1";
      staticProduct = 0;
      dims.push_back(0);
      continue;
    }
    if (v == 0) {
      if ((int64_t)i >= inType.getRank())
        return error() << "shape entry " << i
                       << " is 0 (copy the input dim), but the input has rank "
                       << inType.getRank();
      v = inType.getDimSize(i);
      if (v == kDyn)
        ++reused[i];
    } else if (v == -1) {
      if (inferredAt >= 0)
        return error() << "more than one -1 in the shape";
      inferredAt = i;
    } else if (v == kDyn) {
      if (e.source == input)
        ++reused[e.dim];
      else
        unknown = true;
    } else if (v < 0) {
      return error() << "invalid shape entry " << v;
    }
    if (v >= 0 && llvm::MulOverflow(staticProduct, v, staticProduct))
      return error() << "the shape's dims overflow a 64-bit element count";
    dims.push_back(v);
  }
  if (inferredAt >= 0) {
    // numel(input) = inStatic * prod(dynamic input dims); when every dynamic
    // input dim reappears exactly once, the -1 is inStatic / staticProduct.
    int64_t inStatic = 1;
    bool cancels = !unknown;
    for (int64_t d = 0; d < inType.getRank(); ++d) {
      if (inType.isDynamicDim(d))
        cancels &= reused[d] == 1;
      else
        inStatic *= inType.getDimSize(d);
    }
    int64_t &d = dims[inferredAt];
    d = kDyn;
    if (cancels && staticProduct != 0) {
      if (inStatic % staticProduct != 0)
        return error() << "cannot reshape " << inType << ": " << staticProduct
                       << " does not divide its element count";
      d = inStatic / staticProduct;
    }
  }
  auto resultType = RankedTensorType::get(dims, inType.getElementType());
  if (inType.hasStaticShape() && resultType.hasStaticShape() &&
      inType.getNumElements() != resultType.getNumElements())
    return error() << "cannot reshape " << inType << " to " << resultType;
  return vt::ReshapeOp::create(b, location, resultType, input, shape)
      .getResult();
}

LogicalResult NodeImporter::checkShapeOperand(RankedTensorType shapeType) {
  if (shapeType.getRank() != 1 || !shapeType.hasStaticShape())
    return error() << "the shape must be a 1-D tensor of known length, got "
                   << shapeType;
  // Its length is the result's rank, and sizes vectors here.
  if (shapeType.getDimSize(0) > kMaxRank)
    return error() << "the shape has " << shapeType.getDimSize(0)
                   << " entries, above the importer's rank limit of "
                   << kMaxRank;
  return success();
}

Value NodeImporter::castTo(Value value, Type elt) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementType() == elt)
    return value;
  return vt::CastOp::create(b, location, type.clone(elt), value).getResult();
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

bool NodeImporter::hasOutput(unsigned i) const {
  return i < (unsigned)nodeProto.output_size() && !nodeProto.output(i).empty();
}

void NodeImporter::setResult(unsigned i, Value value) {
  if (hasOutput(i))
    graph.define(nodeProto.output(i), value);
}

LogicalResult NodeImporter::expectOutputsUnused(unsigned n,
                                                llvm::StringRef why) {
  for (unsigned i = n; i < numOutputs(); ++i)
    if (hasOutput(i))
      return error() << "output " << i << " ('" << nodeProto.output(i)
                     << "') is not supported: " << why;
  return success();
}

//===----------------------------------------------------------------------===//
// Training import
//===----------------------------------------------------------------------===//

bool NodeImporter::training() const { return graph.isTraining(); }

llvm::StringRef NodeImporter::modelDir() const { return graph.getModelDir(); }

Value NodeImporter::seed() { return graph.seedArgument(); }

bool NodeImporter::isInitializer(unsigned i) {
  Value v = input(i);
  auto constant = v ? v.getDefiningOp<vt::ConstantOp>() : vt::ConstantOp();
  return constant && constant.getName() == nodeProto.input(i);
}

LogicalResult NodeImporter::updateInitializer(unsigned i, Value value) {
  if (!graph.addInitializerUpdate(nodeProto.input(i), value))
    return error() << "initializer '" << nodeProto.input(i)
                   << "' is already updated by another node";
  return success();
}
