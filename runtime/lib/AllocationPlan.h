//===- AllocationPlan.h - a call's heap allocations, recorded and replayed ===//
//
// For given input shapes, compiled code allocates the same sizes in the same
// order (it is straight-line code; the memory plan's arena size is a formula
// of the shapes). A session therefore records the first call at a set of
// input shapes, places every allocation in one arena by lifetime, and serves
// later calls at those shapes from the arena: they allocate nothing. An
// allocation that differs from the plan ends the replay for that call: the
// rest come from malloc, and the next call records again.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_LIB_ALLOCATIONPLAN_H
#define VITC_RUNTIME_LIB_ALLOCATIONPLAN_H

#include "vitc/runtime/CodeAllocations.h"

#include <cstdint>
#include <vector>

namespace vitc::rt {

/// Arena offsets are multiples of this (what the compiler aligns buffers
/// to), so code that rounds a pointer up to 64 bytes finds it aligned.
constexpr uint64_t kArenaAlignment = 64;

struct PlannedAllocation {
  /// The size the code asked for.
  size_t bytes = 0;
  /// Where it lives in the arena.
  uint64_t offset = 0;
  /// The output this allocation holds whole, or -1. Such an allocation may
  /// be served from caller memory bound to that output: the result then
  /// lands there directly.
  int32_t output = -1;
  /// How the code aligns the pointer it gets (malloc(size + alignment),
  /// then round up, as MLIR lowers an aligned alloc); 1 if it uses it as is.
  uint64_t alignment = 1;
};

/// The allocations of one call at one set of input shapes.
struct AllocationPlan {
  std::vector<std::vector<int64_t>> inputShapes, outputShapes;
  std::vector<PlannedAllocation> allocations;
  uint64_t arenaBytes = 0;
};

/// One call's allocations: a CodeAllocator that logs each one and serves it
/// from the plan where the plan has it.
class CallAllocator final : public CodeAllocator {
public:
  struct Event {
    void *pointer;
    size_t bytes;
    /// When it was allocated and freed, counting allocations and frees;
    /// kAlive if it outlived the call.
    uint32_t allocatedAt, freedAt;
    /// Served by the plan (arena or caller memory), not off plan (malloc,
    /// or mmap for large blocks).
    bool planned;
  };
  static constexpr uint32_t kAlive = UINT32_MAX;

  /// Starts a call: replays `plan` (nullptr: records) over `arena`, with
  /// allocation k served from `callerMemory[k]` where that is set.
  void begin(const AllocationPlan *plan, uint8_t *arena,
             const std::vector<void *> *callerMemory);
  void *allocate(size_t bytes) override;
  bool release(void *pointer) override;

  /// Whether the call followed its plan to the end (false when recording).
  bool replayed() const;
  const std::vector<Event> &events() const { return events_; }
  /// The event of the live allocation at `pointer`, or nullptr.
  const Event *findLive(const void *pointer) const;
  /// Frees what was served off plan and the code left alive (its results,
  /// once they are copied out).
  void releaseUnplanned();
  /// Room for `count` events, so replaying allocates no log.
  void reserve(size_t count) { events_.reserve(count); }

private:
  const AllocationPlan *plan_ = nullptr;
  uint8_t *arena_ = nullptr;
  const std::vector<void *> *callerMemory_ = nullptr;
  std::vector<Event> events_;
  uint32_t clock_ = 0;
  bool diverged_ = false;
};

/// Places recorded allocations in one arena: largest first, each at the
/// lowest offset clear of every placed allocation whose lifetime overlaps
/// its own. Allocations alive at the end (results) stay until the next call.
/// Fills `allocations` (bytes, offset) and `arenaBytes` of `plan`.
void placeAllocations(const std::vector<CallAllocator::Event> &events,
                      AllocationPlan &plan);

} // namespace vitc::rt

#endif // VITC_RUNTIME_LIB_ALLOCATIONPLAN_H
