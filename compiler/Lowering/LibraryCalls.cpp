//===- LibraryCalls.cpp - registry of the codegen targets' hooks ----------===//
#include "compiler/Lowering/LibraryCalls.h"

#include "llvm/ADT/StringMap.h"

#include <mutex>

namespace vitc {

namespace {
struct Registry {
  std::mutex mutex;
  llvm::StringMap<LibraryCallsHook> hooks;
};
Registry &registry() {
  static Registry instance;
  return instance;
}
} // namespace

void registerLibraryCallsHook(llvm::StringRef target, LibraryCallsHook hook) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.hooks[target] = std::move(hook);
}

const LibraryCallsHook *lookupLibraryCallsHook(llvm::StringRef target) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.hooks.find(target);
  // StringMap entries are stable: the pointer outlives the lock.
  return it == r.hooks.end() ? nullptr : &it->second;
}

} // namespace vitc
