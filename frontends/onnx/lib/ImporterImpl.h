//===- ImporterImpl.h - internals of the ONNX importer ------------*- C++ -*-===//
//
// The importer walks the ONNX graph in order; for each node it looks up the
// import rule registered for (op type, since-version) and hands it a
// NodeImporter: typed access to the node's inputs and attributes, helpers to
// build vt ops with inferred result types, and `setResult` to bind the
// node's outputs. Rules live in alphabetical files (OpsA_C.cpp, ...), each
// exporting one `register...` function that fills the OpRegistry.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_FRONTEND_ONNX_IMPORTERIMPL_H
#define VITC_FRONTEND_ONNX_IMPORTERIMPL_H

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <optional>

namespace vitc::onnx_import {

using namespace mlir;

/// The newest default-domain opset whose op semantics this importer knows
/// (checked against the schemas of onnx 1.23): past the versions that have
/// their own rule, opsets up to 28 only widened the type lists of the ops
/// imported here or added attributes the rules check. A newer opset may
/// change semantics, so it is refused rather than guessed.
constexpr int64_t kMaxKnownOpset = 28;

/// The highest tensor rank the importer accepts (graph inputs, weights, node
/// results). Vision models stay under 8 (the runtime's C API limit); the
/// bound keeps a crafted model's rank-sized loops short.
constexpr int64_t kMaxRank = 32;

class GraphImporter;
class NodeImporter;

/// One import rule: lowers one ONNX node to vt ops.
using ImportFn = LogicalResult (*)(NodeImporter &);

/// Import rules keyed by (op type, since-version). A node of opset N uses the
/// rule with the greatest since-version <= N.
class OpRegistry {
public:
  void add(llvm::StringRef opType, int64_t sinceVersion, ImportFn fn);
  /// The rule for `opType` at `opset`, or null. `known` tells whether any
  /// rule exists for the op type (to tell "unknown op" from "bad version").
  ImportFn lookup(llvm::StringRef opType, int64_t opset, bool &known) const;

  static const OpRegistry &get();

private:
  llvm::StringMap<llvm::SmallVector<std::pair<int64_t, ImportFn>, 2>> rules;
};

// Rule groups, one per source file.
void registerOpsAtoC(OpRegistry &registry);
void registerOpsDtoG(OpRegistry &registry);
void registerOpsHtoL(OpRegistry &registry);
void registerOpsMtoR(OpRegistry &registry);
void registerOpsStoZ(OpRegistry &registry);
void registerOpsIndexing(OpRegistry &registry);
void registerOpsEinsum(OpRegistry &registry);

//===----------------------------------------------------------------------===//
// Tensors (Tensors.cpp)
//===----------------------------------------------------------------------===//

/// The MLIR element type of an ONNX TensorProto::DataType, or null.
Type convertElementType(MLIRContext *ctx, int32_t onnxType);
/// The name of an ONNX data type for diagnostics ("FLOAT8E4M3FN", or
/// "data type 17" for types newer than the linked ONNX library).
std::string dataTypeName(int32_t onnxType);

/// The byte size of a tensor whose static dims are `shape` (dynamic dims are
/// skipped), or nullopt where the element count times the element size
/// overflows 64 bits. Dims come from the model: check before multiplying.
std::optional<int64_t> staticByteSize(ArrayRef<int64_t> shape, Type elt);

/// Errors at `loc`, naming `what`, unless `type` is within kMaxRank and its
/// static dims have a byte size that fits in 64 bits.
LogicalResult checkTensorSize(RankedTensorType type, Location loc,
                              const llvm::Twine &what);

/// Converts a TensorProto (inline typed fields, raw_data, or external data
/// under `modelDir`) to an attribute: dense for small integer tensors,
/// scalars and small float tensors, a resource blob keyed by `name` (made
/// an identifier) otherwise. `tensor` may be consumed (its raw_data is moved into the
/// blob). Errors are emitted at `loc`.
FailureOr<ElementsAttr> convertTensor(::onnx::TensorProto &tensor,
                                      llvm::StringRef modelDir,
                                      llvm::StringRef name, Location loc);

//===----------------------------------------------------------------------===//
// NodeImporter (NodeImporter.cpp)
//===----------------------------------------------------------------------===//

class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const ::onnx::NodeProto &node,
               unsigned index, int64_t opset, Location loc,
               OpBuilder &builder);

  const ::onnx::NodeProto &node() const { return nodeProto; }
  /// The node's position in the graph (distinct per node: dropout streams).
  unsigned index() const { return nodeIndex; }
  llvm::StringRef opType() const { return nodeProto.op_type(); }
  int64_t opset() const { return opsetVersion; }
  Location loc() const { return location; }
  OpBuilder &builder() { return b; }
  MLIRContext *context() { return b.getContext(); }

  /// An error at the node's location, prefixed with the op type.
  InFlightDiagnostic error();
  /// A warning there: the model imports, but not as its author may expect.
  InFlightDiagnostic warning();

  //--- Inputs ---------------------------------------------------------------
  /// Number of inputs, counting absent optional ones ("").
  unsigned numInputs() const { return nodeProto.input_size(); }
  /// Whether input `i` is present (listed and not "").
  bool hasInput(unsigned i) const;
  /// Input `i`; null when absent.
  Value input(unsigned i);
  /// Input `i`, or an error naming `what` when it is absent.
  FailureOr<Value> requiredInput(unsigned i, llvm::StringRef what);
  /// All present inputs.
  SmallVector<Value> inputs();
  /// Requires at least `min` present inputs (counted from the front).
  LogicalResult expectInputs(unsigned min);

  //--- Attributes -----------------------------------------------------------
  const ::onnx::AttributeProto *attr(llvm::StringRef name) const;
  bool hasAttr(llvm::StringRef name) const { return attr(name) != nullptr; }
  int64_t attrInt(llvm::StringRef name, int64_t dflt) const;
  double attrFloat(llvm::StringRef name, double dflt) const;
  std::string attrString(llvm::StringRef name, llvm::StringRef dflt) const;
  std::optional<SmallVector<int64_t>> attrInts(llvm::StringRef name) const;

  //--- Constants --------------------------------------------------------------
  /// Evaluates `value` to a constant if it is one, or if the vt folders fold
  /// its defining ops (over constant operands) to one. Does not change IR.
  Attribute evaluateConstant(Value value);
  /// The integer values of a constant tensor input, or an error naming
  /// `what` ("input 'starts' must be a constant").
  FailureOr<SmallVector<int64_t>> constantInts(Value value, llvm::StringRef what);
  /// The scalar value of a constant (one-element) float or int tensor.
  FailureOr<double> constantScalar(Value value, llvm::StringRef what);
  /// One element of a shape vector as far as it is known statically: a
  /// value, or "dim `dim` of `source`" (from vt.shape_of), or unknown.
  struct ShapeElement {
    int64_t value = ShapedType::kDynamic;
    Value source;
    int64_t dim = -1;
  };
  /// Per element of a small 1-D integer tensor, what is statically known:
  /// looks through vt.constant, shape_of, gather, concat, slice, reshape and
  /// cast, so the exporters' dynamic-batch shape chains still give precise
  /// result types. nullopt if `shape` is not a 1-D tensor of static length.
  std::optional<SmallVector<ShapeElement>> symbolicShapeValues(Value shape,
                                                               unsigned depth = 0);
  /// The values of symbolicShapeValues (ShapedType::kDynamic where unknown).
  std::optional<SmallVector<int64_t>> partialShapeValues(Value shape);

  /// A 1-D i64 constant.
  Value constI64(ArrayRef<int64_t> values);
  /// A rank-0 constant of element type `elt` (float or int).
  Value scalar(Type elt, double value);

  //--- Building ---------------------------------------------------------------
  /// Builds a vt op whose result type comes from its InferTypeOpInterface;
  /// inference errors become diagnostics at the node (no fatal error).
  template <typename OpTy, typename... Args>
  FailureOr<Value> build(Args &&...args) {
    auto op = OpTy::create(b, location, Type(NoneType::get(context())),
                           std::forward<Args>(args)...);
    return inferResultType(op.getOperation());
  }
  /// Normalises an axis in [-rank, rank) to [0, rank), or errors.
  FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank,
                                   llvm::StringRef what = "axis");
  /// Normalises, sorts and de-duplicates axes.
  FailureOr<SmallVector<int64_t>> normalizeAxes(ArrayRef<int64_t> axes,
                                                int64_t rank);
  /// Reshapes `input` to `dims`, where each entry is either a static size
  /// (>= 0) or `-(j + 1)` meaning "the (possibly dynamic) input dim j". The
  /// shape operand is a constant where every dim is static (or copied in
  /// place, using vt.reshape's 0 = copy-dim rule); otherwise it is built
  /// from vt.shape_of + vt.gather + vt.concat so it holds for any batch.
  FailureOr<Value> reshapeToDims(Value input, ArrayRef<int64_t> dims);
  /// vt.reshape to the runtime `shape`, with the most precise result type.
  FailureOr<Value> reshape(Value input, Value shape, bool allowZero = false);
  /// Errors unless `shapeType` fits a shape operand (Reshape, Expand,
  /// ConstantOfShape): 1-D, of static length at most kMaxRank.
  LogicalResult checkShapeOperand(RankedTensorType shapeType);
  /// Casts `value` to element type `elt` (no-op when equal).
  Value castTo(Value value, Type elt);

  //--- Results ----------------------------------------------------------------
  unsigned numOutputs() const { return nodeProto.output_size(); }
  /// Whether output `i` is used (listed and not "").
  bool hasOutput(unsigned i) const;
  void setResult(unsigned i, Value value);
  /// Sets output `i` from a build that may have failed (and reported why):
  /// the last line of most rules.
  LogicalResult setResult(unsigned i, FailureOr<Value> value) {
    if (failed(value))
      return failure();
    setResult(i, *value);
    return success();
  }
  /// Errors unless every output from `n` on is absent.
  LogicalResult expectOutputsUnused(unsigned n, llvm::StringRef why);

  //--- Training import -------------------------------------------------------
  /// Whether the model is imported for training (ImportOptions::training):
  /// Dropout drops and BatchNormalization uses batch statistics.
  bool training() const;
  /// The model's folder, for tensors of attributes stored as external data.
  llvm::StringRef modelDir() const;
  /// The model's random seed, a `tensor<i64>` argument of @main added on
  /// first use.
  Value seed();
  /// Whether input `i` is an initializer (a weight or buffer, imported as a
  /// named vt.constant).
  bool isInitializer(unsigned i);
  /// Returns `value` from @main as the new value of initializer input `i`
  /// (a buffer such as a running mean). Errors if another node updates it too.
  LogicalResult updateInitializer(unsigned i, Value value);

private:
  FailureOr<Value> inferResultType(Operation *op);

  GraphImporter &graph;
  const ::onnx::NodeProto &nodeProto;
  unsigned nodeIndex;
  int64_t opsetVersion;
  Location location;
  OpBuilder &b;
};

//===----------------------------------------------------------------------===//
// GraphImporter (Importer.cpp)
//===----------------------------------------------------------------------===//

class GraphImporter {
public:
  GraphImporter(ModuleOp module, llvm::StringRef file, llvm::StringRef modelDir,
                bool training)
      : module(module), file(file.str()), modelDir(modelDir.str()),
        training(training) {}

  bool isTraining() const { return training; }
  /// Where external data resolves (and may not leave).
  llvm::StringRef getModelDir() const { return modelDir; }

  /// The value of an ONNX tensor name (materialising an initializer on first
  /// use), or null if it is not defined.
  Value lookup(llvm::StringRef name, OpBuilder &builder);
  void define(llvm::StringRef name, Value value) { values[name] = value; }
  /// `NameLoc(name, FileLineColLoc(file, 0, 0))`.
  Location locFor(llvm::StringRef name);
  /// Results of NodeImporter::evaluateConstant (null: not a constant). Ops
  /// are never changed once built, so entries stay valid; the cache keeps
  /// evaluation linear on graphs that share subexpressions.
  llvm::DenseMap<Value, Attribute> &constantCache() { return constants; }
  /// The seed argument of @main, appended on first use (NodeImporter::seed).
  Value seedArgument();
  /// Adds `value` as a result of @main that replaces initializer `name`
  /// (`vt.updates`, role "buffer"); false if `name` already has one.
  bool addInitializerUpdate(llvm::StringRef name, Value value);

  LogicalResult importGraph(::onnx::GraphProto &graph,
                            const llvm::StringMap<int64_t> &opsets,
                            const std::vector<std::pair<std::string, std::vector<int64_t>>>
                                &inputShapes);

private:
  LogicalResult importNode(const ::onnx::NodeProto &node, unsigned index,
                           const llvm::StringMap<int64_t> &opsets,
                           OpBuilder &builder);
  FailureOr<Value> materializeInitializer(llvm::StringRef name,
                                          OpBuilder &builder);

  ModuleOp module;
  std::string file, modelDir;
  bool training;
  func::FuncOp mainFunc;
  Value seed;
  /// New values of initializers (running statistics), returned after the
  /// graph outputs, in the order the nodes produced them.
  SmallVector<std::pair<std::string, Value>> initializerUpdates;
  llvm::StringMap<Value> values;
  llvm::DenseMap<Value, Attribute> constants;
  /// Initializers not yet materialised, by name. They become vt.constant
  /// ops at their first use (nodes are topologically ordered, so that use
  /// dominates every later one), keeping unused weights out of the module.
  llvm::StringMap<::onnx::TensorProto *> pendingInitializers;
};

} // namespace vitc::onnx_import

#endif // VITC_FRONTEND_ONNX_IMPORTERIMPL_H
