//===- CodeGen.h - LLVM dialect -> native shared object ---------*- C++ -*-===//
#ifndef VITC_BACKEND_CODEGEN_H
#define VITC_BACKEND_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace vitc::backend {

/// A function to export: its packed entry wraps _mlir_ciface_<name>.
struct EntryFunction {
  std::string name;
  /// Number of inputs (excluding the weights argument) and outputs; checked
  /// against the lowered signature of @<name>.
  size_t numInputs = 0, numOutputs = 0;
};

struct CpuCodeOptions {
  /// "native" or an LLVM CPU name ("x86-64-v3", "znver4", ...).
  std::string cpu = "native";
  std::vector<EntryFunction> entries;
  /// Emulated-GPU kernels {module, kernel}: each gets the launch entry
  /// `void vitc_launch.<module>.<kernel>(void *context, void **params)`
  /// around `vitc_kernel.<module>.<kernel>` (GpuKernelsToHost), params[i]
  /// pointing to its argument i as a GPU kernel takes it (cuLaunchKernel).
  std::vector<std::pair<std::string, std::string>> kernels;
};

struct CpuCode {
  /// The linked shared object.
  std::vector<char> sharedObject;
  /// Resolved CPU name, target triple and the checkable ISA features the
  /// code may use (LLVM names).
  std::string cpu, triple;
  std::vector<std::string> features;
};

/// Translates the LLVM-dialect `module` to LLVM IR, adds for each entry
/// function <name> the packed entry `void vitc_entry_<name>(void **args)`
/// around `_mlir_ciface_<name>`, internalises everything else, optimises at
/// O3 for the chosen CPU, emits an object and links it with ld.lld into a
/// shared object.
llvm::Expected<CpuCode> compileToSharedObject(mlir::ModuleOp module,
                                              const CpuCodeOptions &options);

} // namespace vitc::backend

#endif // VITC_BACKEND_CODEGEN_H
