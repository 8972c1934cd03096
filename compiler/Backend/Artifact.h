//===- Artifact.h - write a compiled model as a .vtc artifact ---*- C++ -*-===//
//
// The backend's public API: the driver imports a model, reads the signatures
// of the functions to export, lowers it to the LLVM dialect (with weights
// externalized by vitc-externalize-weights) and calls writeArtifact, which
// emits native code, links it into a shared object and packs code, weights
// and a protobuf manifest into one .vtc file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_BACKEND_ARTIFACT_H
#define VITC_BACKEND_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vitc::backend {

/// One input or output of an exported function.
struct TensorSig {
  std::string name;
  /// One of: f32 f16 bf16 f64 i64 i32 i8 u8 i1.
  std::string dtype;
  /// -1 marks a dynamic dimension (bound at run time).
  std::vector<int64_t> shape;
  /// What the tensor is to a trainer ("param", "data", "loss", ...; see
  /// TensorInfo in artifact.proto); empty for plain inference tensors.
  std::string role;
  /// For an output: the input it replaces after a call; empty otherwise.
  std::string updates;
  /// Of a sharded tensor (attribute vt.full_shape): the whole tensor's
  /// shape; empty otherwise.
  std::vector<int64_t> fullShape;
};

/// A function exported by the artifact, with the packed entry
/// kEntryPrefix + name.
struct FunctionSig {
  std::string name;
  std::vector<TensorSig> inputs, outputs;
};

/// How a training artifact was built: the proto `Training` message except
/// initial_values, which the writer derives from the weights table entries
/// named "init:<input name>".
struct TrainingInfo {
  std::string loss;
  float labelSmoothing = 0;
  std::string optimizer;
  float weightDecay = 0, momentum = 0;
  bool nesterov = false;
  float beta1 = 0, beta2 = 0, epsilon = 0, clipNorm = 0, lr = 0;
  int64_t numClasses = 0;
  /// How train_step is split across ranks: "none" or "ddp" (vitc --shard).
  std::string sharding = "none";
};

struct ArtifactOptions {
  std::string target = "cpu";
  /// "native" = the host CPU and its features; otherwise an LLVM CPU name
  /// such as "x86-64-v3" or "znver4".
  std::string cpu = "native";
  /// "inference" or "train" (then `training` is required).
  std::string mode = "inference";
  std::string precision = "fp32";
  /// The model file the artifact was compiled from (recorded in the manifest).
  std::string source;
  /// The exported functions, in manifest order (at least one).
  std::vector<FunctionSig> functions;
  std::optional<TrainingInfo> training;
  /// Non-empty: write the weights to this file instead of into the artifact
  /// (runtime/include/vitc/runtime/WeightsFile.h); the manifest records
  /// `weightsFileName`, the path the runtime resolves against the
  /// artifact's directory.
  std::string weightsFile, weightsFileName;
};

/// Signature of the func.func `funcName` from its tensor types and the
/// vt.name / vt.role / vt.updates string attrs of its arguments and results
/// (call on the imported module, before lowering erases them).
llvm::FailureOr<FunctionSig> getFunctionSignature(mlir::ModuleOp module,
                                                  llvm::StringRef funcName);

/// Names of the public func.func definitions of `module`, in module order:
/// the functions an artifact of a hand-written .mlir module exports.
std::vector<std::string> getPublicFunctionNames(mlir::ModuleOp module);

/// `module` is fully lowered (LLVM dialect) and carries the weights table from
/// vitc-externalize-weights. Writes `outPath` atomically; reports errors as
/// `vitc: error: ...` on stderr and returns failure.
mlir::LogicalResult writeArtifact(mlir::ModuleOp module,
                                  const ArtifactOptions &options,
                                  llvm::StringRef outPath);

} // namespace vitc::backend

#endif // VITC_BACKEND_ARTIFACT_H
