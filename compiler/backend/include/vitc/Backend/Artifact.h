//===- Artifact.h - write a compiled model as a .vtc artifact ---*- C++ -*-===//
//
// The backend's public API: the driver imports a model, reads its entry
// signature, lowers it to the LLVM dialect (with weights externalized by
// vitc-externalize-weights) and calls writeArtifact, which emits native code,
// links it into a shared object and packs code, weights and a protobuf
// manifest into one .vtc file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_BACKEND_ARTIFACT_H
#define VITC_BACKEND_ARTIFACT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/LogicalResult.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vitc::backend {

/// One input or output of the entry function.
struct TensorSig {
  std::string name;
  /// One of: f32 f16 bf16 f64 i64 i32 i8 u8 i1.
  std::string dtype;
  /// -1 marks a dynamic dimension (bound at run time).
  std::vector<int64_t> shape;
};

struct ArtifactOptions {
  std::string target = "cpu";
  /// "native" = the host CPU and its features; otherwise an LLVM CPU name
  /// such as "x86-64-v3" or "znver4".
  std::string cpu = "native";
  std::string mode = "inference";
  std::string precision = "fp32";
  /// The model file the artifact was compiled from (recorded in the manifest).
  std::string source;
  std::vector<TensorSig> inputs, outputs;
};

/// Signature of @main from its vt.name arg/result attrs and tensor types
/// (call on the imported module).
llvm::FailureOr<std::pair<std::vector<TensorSig>, std::vector<TensorSig>>>
getEntrySignature(mlir::ModuleOp module);

/// `module` is fully lowered (LLVM dialect) and carries the weights table from
/// vitc-externalize-weights. Writes `outPath` atomically; reports errors as
/// `vitc: error: ...` on stderr and returns failure.
mlir::LogicalResult writeArtifact(mlir::ModuleOp module,
                                  const ArtifactOptions &options,
                                  llvm::StringRef outPath);

} // namespace vitc::backend

#endif // VITC_BACKEND_ARTIFACT_H
