//===- AllocationCounter.h - count the process's heap allocations ---------===//
//
// The session tests' binary defines malloc and its family itself (ahead of
// libc in symbol lookup, so every library of the process, the runtime,
// oneDNN and libstdc++'s operator new included, calls these) and counts
// calls while counting is on, from any thread. Off under AddressSanitizer,
// which must own malloc: available() is then false.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TESTS_UNIT_RUNTIME_ALLOCATIONCOUNTER_H
#define VITC_TESTS_UNIT_RUNTIME_ALLOCATIONCOUNTER_H

#include <cstddef>
#include <cstdint>

namespace vitc::test {

struct Allocations {
  int64_t count = 0;
  int64_t bytes = 0;
  /// The largest single request.
  int64_t largest = 0;
};

/// Whether this build counts (not under a sanitizer).
bool countingAvailable();
/// Counts allocations from now until stopCounting().
void startCounting();
Allocations stopCounting();

} // namespace vitc::test

#endif // VITC_TESTS_UNIT_RUNTIME_ALLOCATIONCOUNTER_H
