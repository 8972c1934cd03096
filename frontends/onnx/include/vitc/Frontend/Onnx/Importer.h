//===- Importer.h - ONNX to vt ------------------------------------*- C++ -*-===//
//
// Imports an ONNX model (binary .onnx with inline or external weights, or
// ONNX text syntax .onnxtext) into a module holding one `func.func @main` of
// vt ops. Graph inputs/outputs keep their ONNX names (`vt.name` arg/result
// attributes); every op's location is the ONNX node name (NameLoc wrapping
// the file location), so diagnostics name the node at fault.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_FRONTEND_ONNX_IMPORTER_H
#define VITC_FRONTEND_ONNX_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vitc::onnx {

struct ImportOptions {
  /// Overrides of graph input shapes, e.g. {"input", {8, 3, 224, 224}}:
  /// pins a symbolic batch for a static-shape artifact. -1 keeps a dim dynamic.
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// Keep Dropout and training-mode BatchNormalization as training ops
  /// (training compilation); otherwise they import as inference ops.
  bool training = false;
  /// Graph inputs to bake in as constants: {"axes", "axes.pb"}, the file a
  /// serialized ONNX TensorProto. For inputs that define shapes (Reshape's
  /// shape, Slice's starts, reduction axes), which a compiled artifact must
  /// know at compile time.
  std::vector<std::pair<std::string, std::string>> constantInputs;
};

/// Imports `path`. On failure, emits diagnostics on `context` (naming the
/// file, node and op) and returns null.
mlir::OwningOpRef<mlir::ModuleOp> importModelFile(mlir::MLIRContext &context,
                                                  llvm::StringRef path,
                                                  const ImportOptions &options);

/// Imports a binary ModelProto held in memory. `sourceName` stands for the
/// file in locations and diagnostics; external data resolves under
/// `modelDir` and may not leave it. What importModelFile does after reading
/// the file; the importer's fuzzer (tests/fuzz) calls it directly.
mlir::OwningOpRef<mlir::ModuleOp>
importModelBytes(mlir::MLIRContext &context, llvm::StringRef bytes,
                 llvm::StringRef sourceName, llvm::StringRef modelDir,
                 const ImportOptions &options);

} // namespace vitc::onnx

#endif // VITC_FRONTEND_ONNX_IMPORTER_H
