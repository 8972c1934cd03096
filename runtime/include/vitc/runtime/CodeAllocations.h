//===- CodeAllocations.h - where compiled code's heap memory comes from -*- C++ -*-===//
//
// Compiled code allocates with malloc: its memory plan's arena at entry,
// buffers that escape (the results) and a few more, freed before it returns
// except the results. A session wants that memory from its own arena, so a
// call allocates nothing once the session has seen its shapes.
//
// The code is a shared object, so its imports of malloc and free are GOT
// entries: after loading, they are pointed at hooks here (plthook's
// technique; no change to the compiler or the artifact). A hook serves the
// CodeAllocator that this thread has installed, or else malloc and free, so
// code run outside a session (vitc_model_run) behaves exactly as before.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_CODEALLOCATIONS_H
#define VITC_RUNTIME_CODEALLOCATIONS_H

#include "vitc/runtime/Status.h"

#include <cstddef>
#include <cstdint>

namespace vitc::rt {

/// Serves the compiled code's allocations on one thread during one call.
class CodeAllocator {
public:
  virtual ~CodeAllocator() = default;
  /// Memory for malloc(bytes), aligned as malloc aligns (16) or better.
  virtual void *allocate(size_t bytes) = 0;
  /// Called for free(pointer); returns false if `pointer` is not this
  /// allocator's (the hook then frees it with free).
  virtual bool release(void *pointer) = 0;
};

/// Installs `allocator` for compiled code that runs on this thread (nullptr:
/// malloc and free); returns the previous one.
CodeAllocator *setCodeAllocator(CodeAllocator *allocator);

/// Points the allocation imports (malloc, free, calloc, aligned_alloc) of
/// the shared object `handle`, loaded from the ELF image `elf` of `size`
/// bytes, at the hooks. `redirected` is false where this cannot be done (not
/// an x86-64 or AArch64 ELF image, or imports such as realloc that no hook
/// serves): the code then allocates with malloc.
Status redirectCodeAllocations(void *handle, const uint8_t *elf, size_t size,
                               bool &redirected);

} // namespace vitc::rt

#endif // VITC_RUNTIME_CODEALLOCATIONS_H
