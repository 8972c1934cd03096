//===- BlockFibers.cpp - a block's threads as fibers (emulated GPU) -------===//
//
// Fibers switch with a few instructions on x86-64 (the callee-saved
// registers, the stack pointer, the FP control words) and with
// swapcontext elsewhere. Each fiber has its own stack with a guard page
// below it, so a kernel that overflows faults instead of corrupting its
// neighbour. The scheduler resumes the ready fibers in thread order until
// all are done; when none is ready but some are not done, the block has
// deadlocked and says where its threads wait.
//
//===----------------------------------------------------------------------===//
#include "BlockFibers.h"

#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

namespace vitc::rt {

namespace {
constexpr size_t kStackBytes = 256 * 1024;
constexpr int kWarpSize = 32;
thread_local BlockFibers *activeScheduler = nullptr;
} // namespace

#if defined(__x86_64__)
// vitc_emu_switch_stack(save, load): pushes the callee-saved registers and
// the MXCSR/x87 control words, stores the stack pointer to *save, switches
// to `load` and pops the same frame from there.
asm(R"(
  .text
  .p2align 4
  .globl vitc_emu_switch_stack
  .hidden vitc_emu_switch_stack
  .type vitc_emu_switch_stack,@function
vitc_emu_switch_stack:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size vitc_emu_switch_stack, .-vitc_emu_switch_stack
)");
extern "C" void vitc_emu_switch_stack(void **save, void *load);
#endif

struct BlockFibers::Fiber {
  enum class State { Ready, AtBarrier, AtShuffle, Done };
  LaunchContext context;
  State state = State::Done;
  int32_t shuffleSource = 0;
  uint64_t shuffleResult = 0;
  char *stack = nullptr; // the mapping, guard page first
#if defined(__x86_64__)
  void *sp = nullptr;
#else
  ucontext_t uc;
#endif

  Fiber() {
    long page = ::sysconf(_SC_PAGESIZE);
    void *mapping = ::mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapping == MAP_FAILED)
      return;
    stack = static_cast<char *>(mapping);
    ::mprotect(stack, page, PROT_NONE);
  }
  ~Fiber() {
    if (stack)
      ::munmap(stack, kStackBytes + ::sysconf(_SC_PAGESIZE));
  }
  char *stackTop() const {
    return stack + ::sysconf(_SC_PAGESIZE) + kStackBytes;
  }
};

struct BlockFibers::Warp {
  uint32_t values[kWarpSize];
  int32_t arrived = 0, width = 0;
};

BlockFibers::BlockFibers() = default;
BlockFibers::~BlockFibers() = default;

void BlockFibers::ensureFibers(size_t count) {
  while (fibers.size() < count)
    fibers.push_back(std::make_unique<Fiber>());
}

void BlockFibers::fiberMain() {
  BlockFibers *self = activeScheduler;
  Fiber &fiber = *self->fibers[self->current];
  self->entry(&fiber.context, self->params);
  fiber.state = Fiber::State::Done;
  --self->running;
  // The threads still waiting at a barrier no longer wait for this one.
  if (self->atBarrier && self->atBarrier == self->running) {
    self->atBarrier = 0;
    for (size_t i = 0; i < self->threads; ++i)
      if (self->fibers[i]->state == Fiber::State::AtBarrier)
        self->fibers[i]->state = Fiber::State::Ready;
  }
  self->suspend(); // never resumed
}

void BlockFibers::suspend() {
  Fiber &fiber = *fibers[current];
#if defined(__x86_64__)
  vitc_emu_switch_stack(&fiber.sp, schedulerStack);
#else
  swapcontext(&fiber.uc, static_cast<ucontext_t *>(schedulerStack));
#endif
}

void BlockFibers::fail(const std::string &message) {
  if (error.empty())
    error = message;
  // The failing thread stops here for good; the others run on until they
  // finish or wait for it, and the block reports the error.
  fibers[current]->state = Fiber::State::Done;
  --running;
  suspend();
}

Status BlockFibers::runBlock(LaunchEntry kernel, void **kernelParams,
                             const LaunchContext &block) {
  threads = size_t(block.blockDim[0]) * block.blockDim[1] * block.blockDim[2];
  ensureFibers(threads);
  warps.assign((threads + kWarpSize - 1) / kWarpSize, Warp{});
  entry = kernel;
  params = kernelParams;
  error.clear();
  atBarrier = 0;
  running = threads;
  for (size_t i = 0; i < threads; ++i) {
    Fiber &fiber = *fibers[i];
    if (!fiber.stack)
      return Status::error("the emulated GPU cannot map a fiber stack");
    fiber.context = block;
    fiber.context.threadId[0] = int64_t(i % block.blockDim[0]);
    fiber.context.threadId[1] = int64_t(i / block.blockDim[0] % block.blockDim[1]);
    fiber.context.threadId[2] =
        int64_t(i / (block.blockDim[0] * block.blockDim[1]));
    fiber.context.fibers = this;
    fiber.state = Fiber::State::Ready;
#if defined(__x86_64__)
    // A frame that vitc_emu_switch_stack pops into fiberMain, with the
    // stack aligned as after a call.
    auto *frame = reinterpret_cast<uint64_t *>(fiber.stackTop() - 72);
    std::memset(frame, 0, 72);
    uint32_t mxcsr = __builtin_ia32_stmxcsr();
    uint16_t fpcw;
    asm volatile("fnstcw %0" : "=m"(fpcw));
    std::memcpy(frame, &mxcsr, 4);
    std::memcpy(reinterpret_cast<char *>(frame) + 4, &fpcw, 2);
    frame[7] = reinterpret_cast<uint64_t>(&BlockFibers::fiberMain);
    fiber.sp = frame;
#else
    getcontext(&fiber.uc);
    fiber.uc.uc_stack.ss_sp = fiber.stackTop() - kStackBytes;
    fiber.uc.uc_stack.ss_size = kStackBytes;
    fiber.uc.uc_link = nullptr;
    makecontext(&fiber.uc, &BlockFibers::fiberMain, 0);
#endif
  }

  BlockFibers *outer = activeScheduler;
  activeScheduler = this;
#if !defined(__x86_64__)
  ucontext_t scheduler;
  schedulerStack = &scheduler;
#endif
  while (running > 0) {
    bool resumed = false;
    for (size_t i = 0; i < threads; ++i) {
      if (fibers[i]->state != Fiber::State::Ready)
        continue;
      current = i;
      resumed = true;
#if defined(__x86_64__)
      vitc_emu_switch_stack(&schedulerStack, fibers[i]->sp);
#else
      swapcontext(&scheduler, &fibers[i]->uc);
#endif
    }
    if (!resumed)
      break;
  }
  activeScheduler = outer;

  if (!error.empty())
    return Status::error(error);
  if (running > 0) {
    size_t barrier = 0, shuffle = 0;
    for (size_t i = 0; i < threads; ++i) {
      barrier += fibers[i]->state == Fiber::State::AtBarrier;
      shuffle += fibers[i]->state == Fiber::State::AtShuffle;
    }
    return Status::error(
        "deadlock in block (" + std::to_string(block.blockId[0]) + "," +
        std::to_string(block.blockId[1]) + "," +
        std::to_string(block.blockId[2]) + "): " + std::to_string(barrier) +
        " thread(s) wait at a barrier and " + std::to_string(shuffle) +
        " at a shuffle that the others never reach");
  }
  return Status::ok();
}

void BlockFibers::barrier() {
  if (++atBarrier == running) {
    atBarrier = 0;
    for (size_t i = 0; i < threads; ++i)
      if (fibers[i]->state == Fiber::State::AtBarrier)
        fibers[i]->state = Fiber::State::Ready;
    return;
  }
  fibers[current]->state = Fiber::State::AtBarrier;
  suspend();
}

uint64_t BlockFibers::shuffle(LaunchContext *, uint32_t value, int32_t offset,
                              int32_t width, int32_t mode) {
  Fiber &fiber = *fibers[current];
  int32_t lane = int32_t(current % kWarpSize);
  size_t warpBase = current - size_t(lane);
  Warp &warp = warps[current / kWarpSize];
  if (width <= 0 || width > kWarpSize || lane >= width)
    fail("a shuffle of width " + std::to_string(width) + " by lane " +
         std::to_string(lane));
  if (warp.arrived == 0)
    warp.width = width;
  else if (warp.width != width)
    fail("lanes of one warp shuffle with widths " +
         std::to_string(warp.width) + " and " + std::to_string(width));
  warp.values[lane] = value;
  switch (mode) {
  case 0: fiber.shuffleSource = lane ^ offset; break;
  case 1: fiber.shuffleSource = lane - offset; break;
  case 2: fiber.shuffleSource = lane + offset; break;
  default: fiber.shuffleSource = offset; break;
  }
  if (++warp.arrived < width) {
    fiber.state = Fiber::State::AtShuffle;
    suspend();
    return fiber.shuffleResult;
  }
  // The last lane to arrive hands every lane its value.
  for (int32_t l = 0; l < width; ++l) {
    Fiber &member = *fibers[warpBase + size_t(l)];
    int32_t source = member.shuffleSource;
    bool valid = source >= 0 && source < width;
    uint32_t result = valid ? warp.values[source] : warp.values[l];
    member.shuffleResult = (uint64_t(valid) << 32) | result;
    if (member.state == Fiber::State::AtShuffle)
      member.state = Fiber::State::Ready;
  }
  warp.arrived = 0;
  return fiber.shuffleResult;
}

} // namespace vitc::rt

// Called by the emulated kernels (compiler/Codegen/GpuEmulator).
extern "C" void vitc_emu_barrier(vitc::rt::LaunchContext *context) {
  context->fibers->barrier();
}

extern "C" uint64_t vitc_emu_shuffle(vitc::rt::LaunchContext *context,
                                     uint32_t value, int32_t offset,
                                     int32_t width, int32_t mode) {
  return context->fibers->shuffle(context, value, offset, width, mode);
}
