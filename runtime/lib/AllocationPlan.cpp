//===- AllocationPlan.cpp - record, place and replay a call's allocations -===//
#include "AllocationPlan.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <sys/mman.h>

namespace vitc::rt {
namespace {

/// Off-plan allocations (a recording, a call that left its plan) of at
/// least this many bytes are mapped directly and unmapped when freed, as
/// glibc maps large blocks by default. glibc raises that threshold as mapped
/// blocks are freed, and a recording's activations would then leave a hole
/// the size of the arena in its heap, which later small allocations make
/// resident again page by page (a training step's activations twice over,
/// growing each step).
constexpr size_t kMappedBytes = 128 * 1024;

void *allocateOffPlan(size_t bytes) {
  if (bytes < kMappedBytes)
    return std::malloc(bytes ? bytes : 1);
  void *pointer = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return pointer == MAP_FAILED ? nullptr : pointer;
}

void freeOffPlan(void *pointer, size_t bytes) {
  if (bytes < kMappedBytes)
    std::free(pointer);
  else
    ::munmap(pointer, bytes);
}

} // namespace

void CallAllocator::begin(const AllocationPlan *plan, uint8_t *arena,
                          const std::vector<void *> *callerMemory) {
  plan_ = plan;
  arena_ = arena;
  callerMemory_ = callerMemory;
  events_.clear(); // keeps its capacity
  clock_ = 0;
  diverged_ = false;
}

void *CallAllocator::allocate(size_t bytes) {
  size_t k = events_.size();
  void *pointer = nullptr;
  bool planned = plan_ && !diverged_ && k < plan_->allocations.size() &&
                 plan_->allocations[k].bytes == bytes;
  if (planned) {
    void *caller = callerMemory_ ? (*callerMemory_)[k] : nullptr;
    pointer = caller ? caller : arena_ + plan_->allocations[k].offset;
  } else {
    // Recording, or the call left its plan: from here on, the system's.
    diverged_ = plan_ != nullptr;
    pointer = allocateOffPlan(bytes);
    if (!pointer)
      return nullptr;
  }
  events_.push_back({pointer, bytes, clock_++, kAlive, planned});
  return pointer;
}

bool CallAllocator::release(void *pointer) {
  // Latest first: an arena offset is reused by allocations that do not
  // overlap in time, so only the live one matches.
  for (size_t i = events_.size(); i-- > 0;) {
    Event &event = events_[i];
    if (event.pointer == pointer && event.freedAt == kAlive) {
      event.freedAt = clock_++;
      if (!event.planned)
        freeOffPlan(pointer, event.bytes);
      return true;
    }
  }
  return false; // not the call's: the hook frees it
}

bool CallAllocator::replayed() const {
  return plan_ && !diverged_ && events_.size() == plan_->allocations.size();
}

const CallAllocator::Event *
CallAllocator::findLive(const void *pointer) const {
  for (size_t i = events_.size(); i-- > 0;)
    if (events_[i].pointer == pointer && events_[i].freedAt == kAlive)
      return &events_[i];
  return nullptr;
}

void CallAllocator::releaseUnplanned() {
  for (Event &event : events_)
    if (!event.planned && event.freedAt == kAlive) {
      freeOffPlan(event.pointer, event.bytes);
      event.freedAt = clock_++;
    }
}

void placeAllocations(const std::vector<CallAllocator::Event> &events,
                      AllocationPlan &plan) {
  size_t n = events.size();
  plan.allocations.assign(n, PlannedAllocation());
  auto rounded = [](size_t bytes) {
    return (std::max<uint64_t>(bytes, 1) + kArenaAlignment - 1) /
           kArenaAlignment * kArenaAlignment;
  };
  auto overlap = [&](size_t a, size_t b) {
    return events[a].allocatedAt < events[b].freedAt &&
           events[b].allocatedAt < events[a].freedAt;
  };
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return events[a].bytes != events[b].bytes ? events[a].bytes > events[b].bytes
                                              : a < b;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<uint64_t, uint64_t>> busy; // [begin, end) in time
  uint64_t arenaBytes = 0;
  for (size_t k : order) {
    busy.clear();
    for (size_t p : placed)
      if (overlap(k, p))
        busy.push_back({plan.allocations[p].offset,
                        plan.allocations[p].offset + rounded(events[p].bytes)});
    std::sort(busy.begin(), busy.end());
    uint64_t size = rounded(events[k].bytes), offset = 0;
    for (const auto &[begin, end] : busy) {
      if (offset + size <= begin)
        break; // fits in the gap before this one
      offset = std::max(offset, end);
    }
    plan.allocations[k].bytes = events[k].bytes;
    plan.allocations[k].offset = offset;
    arenaBytes = std::max(arenaBytes, offset + size);
    placed.push_back(k);
  }
  plan.arenaBytes = arenaBytes;
}

} // namespace vitc::rt
