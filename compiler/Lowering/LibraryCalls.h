//===- LibraryCalls.h - the codegen target's hook in the lowering -*- C++ -*-===//
//
// After bufferization, the anchor ops a tuned library does best (matmuls,
// convolutions, pooling) become calls to the target's runtime kernels:
// oneDNN on the CPU, cuBLASLt and cuDNN on CUDA. Which calls, with which
// ABI, is the codegen target's business, so the target-independent
// lowering asks the target registered under `PipelineOptions::target` to add
// its passes at that point. A target without a hook keeps the anchors as
// linalg ops, which its code generation turns into loops.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_LOWERING_LIBRARYCALLS_H
#define VITC_COMPILER_LOWERING_LIBRARYCALLS_H

#include "compiler/PipelineOptions.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringRef.h"

#include <functional>

namespace vitc {

/// Adds the passes that replace anchor ops on bufferized memrefs by the
/// target's library calls; they run on the module, before the memory plan.
using LibraryCallsHook =
    std::function<void(mlir::OpPassManager &, const PipelineOptions &)>;

/// Registers (or replaces) the hook of `target` ("cpu", "cuda").
void registerLibraryCallsHook(llvm::StringRef target, LibraryCallsHook hook);

/// The hook of `target`; null if that target registered none.
const LibraryCallsHook *lookupLibraryCallsHook(llvm::StringRef target);

} // namespace vitc

#endif // VITC_COMPILER_LOWERING_LIBRARYCALLS_H
