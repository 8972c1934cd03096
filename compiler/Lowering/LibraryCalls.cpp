//===- LibraryCalls.cpp - registry of the codegen targets' hooks ----------===//
#include "compiler/Lowering/LibraryCalls.h"

#include "llvm/ADT/StringMap.h"

namespace vitc {

/// Filled at start-up (registerCodegenTargets), read while building
/// pipelines; like MLIR's pass registry, it takes no lock.
static llvm::StringMap<LibraryCallsHook> &hooks() {
  static llvm::StringMap<LibraryCallsHook> registry;
  return registry;
}

void registerLibraryCallsHook(llvm::StringRef target, LibraryCallsHook hook) {
  hooks()[target] = std::move(hook);
}

const LibraryCallsHook *lookupLibraryCallsHook(llvm::StringRef target) {
  auto it = hooks().find(target);
  return it == hooks().end() ? nullptr : &it->second;
}

} // namespace vitc
