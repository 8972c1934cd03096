//===- Importer.cpp - ONNX model to a vt module ------------------------------===//
//
// Loads a binary .onnx or text .onnxtext model, then builds
//
//   module attributes {vt.source = "<file>", vt.opset = N : i64} {
//     func.func @main(%x: tensor<?x3x224x224xf32> {vt.name = "input"})
//         -> (tensor<?x1000xf32> {vt.name = "logits"})
//   }
//
// walking the graph's nodes in order and dispatching each to the import rule
// registered for its (op type, opset). Initializers that are also graph
// inputs are weights, not arguments.
//
// A training import (ImportOptions::training) may add to this signature: a
// `tensor<i64> {vt.name = "seed", vt.role = "seed"}` argument when a Dropout
// drops, and, after the graph outputs, one result per updated initializer
// (BatchNormalization running statistics) with `vt.name` and `vt.updates`
// naming the initializer and `vt.role = "buffer"`.
//
//===----------------------------------------------------------------------===//
#include "vitc/Frontend/Onnx/Importer.h"
#include "ImporterImpl.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"

#include <fstream>
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "onnx/defs/parser.h"

using namespace mlir;
using namespace vitc::onnx_import;

//===----------------------------------------------------------------------===//
// OpRegistry
//===----------------------------------------------------------------------===//

void OpRegistry::add(llvm::StringRef opType, int64_t sinceVersion,
                     ImportFn fn) {
  auto &versions = rules[opType];
  versions.push_back({sinceVersion, fn});
  llvm::sort(versions, [](auto &a, auto &b) { return a.first < b.first; });
}

ImportFn OpRegistry::lookup(llvm::StringRef opType, int64_t opset,
                            bool &known) const {
  auto it = rules.find(opType);
  known = it != rules.end();
  if (!known)
    return nullptr;
  ImportFn best = nullptr;
  for (auto [since, fn] : it->second)
    if (since <= opset)
      best = fn;
  return best;
}

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerOpsAtoC(r);
    registerOpsDtoG(r);
    registerOpsHtoL(r);
    registerOpsMtoR(r);
    registerOpsStoZ(r);
    registerOpsIndexing(r);
    registerOpsEinsum(r);
    return r;
  }();
  return registry;
}

//===----------------------------------------------------------------------===//
// GraphImporter
//===----------------------------------------------------------------------===//

Location GraphImporter::locFor(llvm::StringRef name) {
  MLIRContext *ctx = module.getContext();
  return NameLoc::get(StringAttr::get(ctx, name),
                      FileLineColLoc::get(ctx, file, 0, 0));
}

FailureOr<Value> GraphImporter::materializeInitializer(llvm::StringRef name,
                                                       OpBuilder &builder) {
  auto it = pendingInitializers.find(name);
  ::onnx::TensorProto *tensor = it->second;
  pendingInitializers.erase(it);
  Location loc = locFor(name);
  FailureOr<ElementsAttr> value =
      convertTensor(*tensor, modelDir, name, loc);
  if (failed(value))
    return failure();
  auto op = vt::ConstantOp::create(builder, loc, value->getType(), *value,
                                   builder.getStringAttr(name));
  values[name] = op.getResult();
  return op.getResult();
}

Value GraphImporter::seedArgument() {
  if (seed)
    return seed;
  MLIRContext *ctx = module.getContext();
  Builder b(ctx);
  auto attrs = b.getDictionaryAttr(
      {b.getNamedAttr("vt.name", b.getStringAttr("seed")),
       b.getNamedAttr("vt.role", b.getStringAttr("seed"))});
  unsigned index = mainFunc.getNumArguments();
  (void)mainFunc.insertArgument(index,
                                RankedTensorType::get({}, b.getI64Type()),
                                attrs, locFor("seed"));
  seed = mainFunc.getArgument(index);
  return seed;
}

bool GraphImporter::addInitializerUpdate(llvm::StringRef name, Value value) {
  for (const auto &update : initializerUpdates)
    if (update.first == name)
      return false;
  initializerUpdates.push_back({name.str(), value});
  return true;
}

Value GraphImporter::lookup(llvm::StringRef name, OpBuilder &builder) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  if (!pendingInitializers.count(name))
    return {};
  FailureOr<Value> v = materializeInitializer(name, builder);
  return succeeded(v) ? *v : Value();
}

LogicalResult vitc::onnx_import::checkTensorSize(RankedTensorType type,
                                                 Location loc,
                                                 const llvm::Twine &what) {
  if (type.getRank() > kMaxRank)
    return emitError(loc) << what << " has rank " << type.getRank()
                          << ", above the importer's limit of " << kMaxRank;
  // Inferred from the model's numbers (a window larger than its input).
  if (llvm::any_of(type.getShape(), [](int64_t d) {
        return d < 0 && d != ShapedType::kDynamic;
      }))
    return emitError(loc) << what << " has type " << type
                          << ", with a negative dim";
  if (!staticByteSize(type.getShape(), type.getElementType()))
    return emitError(loc) << what << " has type " << type
                          << ", whose byte size overflows 64 bits";
  return success();
}

/// The tensor type of a graph input/output's ValueInfo: `?` for symbolic or
/// missing dims.
static FailureOr<RankedTensorType>
convertValueInfoType(const ::onnx::ValueInfoProto &info, Location loc) {
  if (!info.type().has_tensor_type())
    return emitError(loc) << "graph input '" << info.name()
                          << "' is not a tensor";
  const auto &tt = info.type().tensor_type();
  Type elt = convertElementType(loc.getContext(), tt.elem_type());
  if (!elt)
    return emitError(loc) << "graph input '" << info.name()
                          << "' has an unsupported element type "
                          << dataTypeName(tt.elem_type());
  if (!tt.has_shape())
    return emitError(loc) << "graph input '" << info.name()
                          << "' has no shape (unknown rank); pin it with "
                             "--input-shape";
  SmallVector<int64_t> shape;
  for (const auto &dim : tt.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  auto type = RankedTensorType::get(shape, elt);
  if (failed(checkTensorSize(type, loc, "graph input '" + info.name() + "'")))
    return failure();
  return type;
}

LogicalResult GraphImporter::importNode(const ::onnx::NodeProto &node,
                                        unsigned index,
                                        const llvm::StringMap<int64_t> &opsets,
                                        OpBuilder &builder) {
  std::string name = node.name().empty()
                         ? node.op_type() + "_" + std::to_string(index)
                         : node.name();
  Location loc = locFor(name);
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opsetIt = opsets.find(domain);
  if (opsetIt == opsets.end())
    return emitError(loc) << "op '" << node.op_type() << "' is in domain '"
                          << node.domain()
                          << "', which the model does not import";
  int64_t opset = opsetIt->second;
  if (!domain.empty())
    return emitError(loc) << "unsupported op '" << node.op_type()
                          << "' of domain '" << node.domain() << "' (opset "
                          << opset << ")";
  if (opset > kMaxKnownOpset)
    return emitError(loc) << "unsupported op version: '" << node.op_type()
                          << "' at opset " << opset
                          << " (the importer knows opsets up to "
                          << kMaxKnownOpset << ")";
  bool known = false;
  ImportFn rule = OpRegistry::get().lookup(node.op_type(), opset, known);
  if (!known)
    return emitError(loc) << "unsupported op '" << node.op_type()
                          << "' (opset " << opset << ")";
  if (!rule)
    return emitError(loc) << "unsupported op version: '" << node.op_type()
                          << "' at opset " << opset << " is not supported";
  // Every op imported here has an output 0, which rules may name.
  if (node.output_size() == 0)
    return emitError(loc) << node.op_type() << ": the node has no outputs";

  // Every named input must be defined by now (graph inputs, initializers,
  // earlier nodes): ONNX graphs are topologically sorted.
  for (const std::string &in : node.input()) {
    if (in.empty() || values.count(in))
      continue;
    if (!pendingInitializers.count(in))
      return emitError(loc) << node.op_type() << ": input '" << in
                            << "' is not defined before this node";
    if (failed(materializeInitializer(in, builder)))
      return failure();
  }
  NodeImporter importer(*this, node, index, opset, loc, builder);
  if (failed(rule(importer)))
    return failure();
  for (auto [i, out] : llvm::enumerate(node.output())) {
    if (out.empty())
      continue;
    auto it = values.find(out);
    if (it == values.end())
      return emitError(loc) << node.op_type() << ": output " << i << " ('"
                            << out << "') is not produced by the importer";
    // Constant shapes can make any size (Expand to [2^40, 2^40, 2^40]):
    // stop it here, before later stages multiply its dims.
    if (auto type = dyn_cast<RankedTensorType>(it->second.getType()))
      if (failed(checkTensorSize(type, loc,
                                 node.op_type() + ": output '" + out + "'")))
        return failure();
  }
  return success();
}

LogicalResult GraphImporter::importGraph(
    ::onnx::GraphProto &graph, const llvm::StringMap<int64_t> &opsets,
    const std::vector<std::pair<std::string, std::vector<int64_t>>>
        &inputShapes) {
  MLIRContext *ctx = module.getContext();
  OpBuilder builder(ctx);
  builder.setInsertionPointToEnd(module.getBody());

  for (auto &init : *graph.mutable_initializer())
    pendingInitializers[init.name()] = &init;

  // Arguments: graph inputs that are not initializers.
  SmallVector<Type> argTypes;
  SmallVector<std::string> argNames;
  SmallVector<Location> argLocs;
  for (const auto &info : graph.input()) {
    if (pendingInitializers.count(info.name()))
      continue;
    Location loc = locFor(info.name());
    auto type = convertValueInfoType(info, loc);
    if (failed(type))
      return failure();
    argTypes.push_back(*type);
    argNames.push_back(info.name());
    argLocs.push_back(loc);
  }
  for (const auto &[name, shape] : inputShapes) {
    auto it = llvm::find(argNames, name);
    if (it == argNames.end()) {
      std::string known;
      for (const std::string &n : argNames)
        known += (known.empty() ? "'" : ", '") + n + "'";
      return emitError(FileLineColLoc::get(ctx, file, 0, 0))
             << "input shape given for '" << name
             << "', which is not a graph input (inputs: " << known << ")";
    }
    unsigned i = it - argNames.begin();
    auto type = cast<RankedTensorType>(argTypes[i]);
    if ((int64_t)shape.size() != type.getRank())
      return emitError(argLocs[i])
             << "input shape for '" << name << "' has rank " << shape.size()
             << ", but the model's input has rank " << type.getRank() << ": "
             << type;
    SmallVector<int64_t> dims;
    for (auto [d, model] : llvm::zip(shape, type.getShape())) {
      if (d >= 0 && model != ShapedType::kDynamic && d != model)
        return emitError(argLocs[i])
               << "input shape for '" << name << "' fixes a dim to " << d
               << ", but the model has " << model << " there: " << type;
      dims.push_back(d < 0 ? model : d);
    }
    argTypes[i] = RankedTensorType::get(dims, type.getElementType());
    if (failed(checkTensorSize(cast<RankedTensorType>(argTypes[i]), argLocs[i],
                               "graph input '" + name + "'")))
      return failure();
  }

  auto func = func::FuncOp::create(builder, FileLineColLoc::get(ctx, file, 0, 0),
                                   "main", builder.getFunctionType(argTypes, {}));
  mainFunc = func;
  Block *entry = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argNames)) {
    entry->getArgument(i).setLoc(argLocs[i]);
    func.setArgAttr(i, "vt.name", builder.getStringAttr(name));
    values[name] = entry->getArgument(i);
  }
  builder.setInsertionPointToEnd(entry);

  for (auto [index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index, opsets, builder)))
      return failure();

  SmallVector<Value> results;
  for (const auto &info : graph.output()) {
    Value v = lookup(info.name(), builder);
    if (!v)
      return emitError(locFor(info.name()))
             << "graph output '" << info.name() << "' is never computed";
    results.push_back(v);
  }
  for (const auto &update : initializerUpdates)
    results.push_back(update.second);
  func::ReturnOp::create(builder, FileLineColLoc::get(ctx, file, 0, 0),
                         results);
  // The arguments as they are now: a seed may have been added.
  func.setFunctionType(builder.getFunctionType(
      func.getArgumentTypes(), ValueRange(results).getTypes()));
  for (auto [i, info] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "vt.name", builder.getStringAttr(info.name()));
  for (auto [i, update] : llvm::enumerate(initializerUpdates)) {
    unsigned r = graph.output_size() + i;
    StringAttr name = builder.getStringAttr(update.first);
    func.setResultAttr(r, "vt.name", name);
    func.setResultAttr(r, "vt.updates", name);
    func.setResultAttr(r, "vt.role", builder.getStringAttr("buffer"));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

/// Parses a binary ModelProto. Protobuf bounds everything by the input's
/// length (repeated fields, nesting depth); what the fields say (dims,
/// offsets, counts) is checked where it is used.
static LogicalResult parseBinaryModel(llvm::StringRef bytes,
                                      ::onnx::ModelProto &model,
                                      Location fileLoc) {
  if (bytes.size() > (size_t)INT_MAX)
    return emitError(fileLoc) << "the model is larger than 2 GB; store its "
                                 "weights as external data";
  // A truncated file or random bytes may still parse as some protobuf
  // message; an ONNX model has an IR version and a graph.
  if (!model.ParseFromArray(bytes.data(), (int)bytes.size()) ||
      model.ir_version() <= 0 || !model.has_graph())
    return emitError(fileLoc) << "not a valid ONNX model (truncated file or "
                                 "not an ONNX protobuf)";
  return success();
}

static LogicalResult loadModel(llvm::StringRef path, ::onnx::ModelProto &model,
                               Location fileLoc) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/true);
  if (!buffer)
    return emitError(fileLoc) << "cannot read the model: "
                              << buffer.getError().message();
  llvm::StringRef bytes = (*buffer)->getBuffer();
  // ONNX text syntax (onnx/defs/parser.h) by extension; anything else is
  // read as a binary ModelProto.
  if (path.ends_with(".onnxtext") || path.ends_with(".onnxtxt")) {
    auto status = ::onnx::OnnxParser::Parse(model, bytes.data());
    if (!status.IsOK())
      return emitError(fileLoc) << "not valid ONNX text: "
                                << status.ErrorMessage();
    return success();
  }
  return parseBinaryModel(bytes, model, fileLoc);
}

/// Turns the named graph inputs into initializers holding the tensors read
/// from their files, so the graph imports them as constants.
static LogicalResult addConstantInputs(
    ::onnx::GraphProto &graph,
    const std::vector<std::pair<std::string, std::string>> &constants,
    Location fileLoc) {
  for (const auto &constant : constants) {
    // Named copies: C++17 lambdas cannot capture structured bindings.
    const std::string &name = constant.first, &tensorPath = constant.second;
    bool isInput = llvm::any_of(graph.input(), [&](const auto &info) {
      return info.name() == name;
    });
    bool isInitializer = llvm::any_of(graph.initializer(), [&](const auto &t) {
      return t.name() == name;
    });
    if (!isInput || isInitializer)
      return emitError(fileLoc) << "constant input '" << name
                                << "' is not a graph input of the model";
    std::ifstream in(tensorPath, std::ios::binary);
    ::onnx::TensorProto tensor;
    if (!in || !tensor.ParseFromIstream(&in))
      return emitError(fileLoc) << "constant input '" << name << "': cannot read '"
                                << tensorPath << "' as an ONNX TensorProto";
    tensor.set_name(name);
    *graph.add_initializer() = std::move(tensor);
  }
  return success();
}

/// The import proper, shared by importModelFile and importModelBytes.
static OwningOpRef<ModuleOp>
importModel(MLIRContext &context, ::onnx::ModelProto &model,
            llvm::StringRef path, llvm::StringRef modelDir,
            const vitc::onnx::ImportOptions &options) {
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  llvm::StringMap<int64_t> opsets;
  for (const auto &op : model.opset_import())
    opsets[op.domain() == "ai.onnx" ? "" : op.domain()] = op.version();
  auto defaultIt = opsets.find("");
  if (defaultIt == opsets.end()) {
    emitError(fileLoc) << "the model imports no default-domain (ai.onnx) "
                          "opset";
    return nullptr;
  }

  OpBuilder builder(&context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  (*module)->setAttr("vt.source", builder.getStringAttr(path));
  (*module)->setAttr("vt.opset", builder.getI64IntegerAttr(defaultIt->second));

  if (failed(addConstantInputs(*model.mutable_graph(), options.constantInputs,
                               fileLoc)))
    return nullptr;
  GraphImporter importer(*module, path, modelDir, options.training);
  if (failed(importer.importGraph(*model.mutable_graph(), opsets,
                                  options.inputShapes)))
    return nullptr;
  // Op verifiers catch what type inference cannot (conv channel counts, ...);
  // their diagnostics carry the node's location.
  if (failed(mlir::verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp>
vitc::onnx::importModelFile(MLIRContext &context, llvm::StringRef path,
                            const ImportOptions &options) {
  context.loadDialect<vt::VtDialect, func::FuncDialect>();
  ::onnx::ModelProto model;
  if (failed(loadModel(path, model, FileLineColLoc::get(&context, path, 0, 0))))
    return nullptr;
  llvm::SmallString<256> modelDir(path);
  llvm::sys::path::remove_filename(modelDir);
  if (modelDir.empty())
    modelDir = ".";
  return importModel(context, model, path, modelDir, options);
}

OwningOpRef<ModuleOp> vitc::onnx::importModelBytes(
    MLIRContext &context, llvm::StringRef bytes, llvm::StringRef sourceName,
    llvm::StringRef modelDir, const ImportOptions &options) {
  context.loadDialect<vt::VtDialect, func::FuncDialect>();
  ::onnx::ModelProto model;
  if (failed(parseBinaryModel(bytes, model,
                              FileLineColLoc::get(&context, sourceName, 0, 0))))
    return nullptr;
  return importModel(context, model, sourceName, modelDir, options);
}
