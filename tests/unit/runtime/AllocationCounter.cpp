//===- AllocationCounter.cpp - malloc and family, counted -----------------===//
//
// Forwards to glibc's own entry points (__libc_malloc, ...), which never call
// back into these.
//
//===----------------------------------------------------------------------===//
#include "AllocationCounter.h"

#include <atomic>
#include <cerrno>

namespace vitc::test {
namespace {
std::atomic<bool> counting{false};
std::atomic<int64_t> count{0}, bytes{0}, largest{0};

void note(size_t size) {
  if (!counting.load(std::memory_order_relaxed))
    return;
  count.fetch_add(1, std::memory_order_relaxed);
  bytes.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  int64_t seen = largest.load(std::memory_order_relaxed);
  while (static_cast<int64_t>(size) > seen &&
         !largest.compare_exchange_weak(seen, static_cast<int64_t>(size)))
    ;
}
} // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(VITC_SANITIZE)
bool countingAvailable() { return false; }
#else
bool countingAvailable() { return true; }
#endif

void startCounting() {
  count = 0;
  bytes = 0;
  largest = 0;
  counting = true;
}

Allocations stopCounting() {
  counting = false;
  return {count.load(), bytes.load(), largest.load()};
}

} // namespace vitc::test

#if !defined(__SANITIZE_ADDRESS__) && !defined(VITC_SANITIZE)
extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);

void *malloc(size_t size) {
  vitc::test::note(size);
  return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
  vitc::test::note(n * size);
  return __libc_calloc(n, size);
}
void *realloc(void *pointer, size_t size) {
  vitc::test::note(size);
  return __libc_realloc(pointer, size);
}
void *aligned_alloc(size_t alignment, size_t size) {
  vitc::test::note(size);
  return __libc_memalign(alignment, size);
}
void *memalign(size_t alignment, size_t size) {
  vitc::test::note(size);
  return __libc_memalign(alignment, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
  vitc::test::note(size);
  void *pointer = __libc_memalign(alignment, size);
  if (!pointer)
    return ENOMEM;
  *out = pointer;
  return 0;
}
void free(void *pointer) { __libc_free(pointer); }
}
#endif
