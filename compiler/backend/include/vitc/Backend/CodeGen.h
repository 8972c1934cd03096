//===- CodeGen.h - LLVM dialect -> native shared object ---------*- C++ -*-===//
#ifndef VITC_BACKEND_CODEGEN_H
#define VITC_BACKEND_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace vitc::backend {

struct CpuCodeOptions {
  /// "native" or an LLVM CPU name ("x86-64-v3", "znver4", ...).
  std::string cpu = "native";
  /// Number of entry inputs (excluding the weights argument) and outputs;
  /// checked against the signature of @main.
  size_t numInputs = 0, numOutputs = 0;
};

struct CpuCode {
  /// The linked shared object.
  std::vector<char> sharedObject;
  /// Resolved CPU name, target triple and the checkable ISA features the
  /// code may use (LLVM names).
  std::string cpu, triple;
  std::vector<std::string> features;
};

/// Translates the LLVM-dialect `module` to LLVM IR, adds the packed entry
/// `void vitc_entry_main(void **args)` around `_mlir_ciface_main`, optimises
/// at O3 for the chosen CPU, emits an object and links it with ld.lld into a
/// shared object.
llvm::Expected<CpuCode> compileToSharedObject(mlir::ModuleOp module,
                                              const CpuCodeOptions &options);

} // namespace vitc::backend

#endif // VITC_BACKEND_CODEGEN_H
