//===- BoundSession.cpp - bindings, the arena and one call ----------------===//
//
// A run must not allocate once its shapes are planned, so everything a call
// touches is sized at creation (descriptors: ranks are static) or when a
// plan is recorded (the arena, the event log, output buffers), and a call
// only writes into it. Errors may allocate: they end the call.
//
//===----------------------------------------------------------------------===//
#include "vitc/runtime/BoundSession.h"

#include "AllocationPlan.h"
#include "MemRefs.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <sys/mman.h>

namespace vitc::rt {
namespace {

/// Sessions take at most this many threads: a larger count is a bug (an
/// uninitialised variable), not a machine.
constexpr int kMaxThreads = 4096;

/// The calling thread's OpenMP thread count, which oneDNN's kernels and the
/// compiled parallel loops follow, set for the length of one call. OpenMP is
/// whichever runtime oneDNN brought into the process (see CpuDevice.cpp), so
/// it is looked up, not linked.
class ThreadCountScope {
public:
  explicit ThreadCountScope(int threads) {
    static const auto set = reinterpret_cast<void (*)(int)>(
        ::dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    static const auto get = reinterpret_cast<int (*)()>(
        ::dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    if (threads <= 0 || !set || !get)
      return;
    previous_ = get();
    if (previous_ != threads)
      set(threads);
    else
      previous_ = 0;
    set_ = set;
  }
  ~ThreadCountScope() {
    if (set_ && previous_ > 0)
      set_(previous_);
  }

private:
  void (*set_)(int) = nullptr;
  int previous_ = 0;
};

/// Installs a CodeAllocator on this thread for one call.
class AllocatorScope {
public:
  explicit AllocatorScope(CodeAllocator *allocator)
      : previous_(setCodeAllocator(allocator)) {}
  ~AllocatorScope() { setCodeAllocator(previous_); }

private:
  CodeAllocator *previous_;
};

bool isDigits(const std::string &text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

Status checkDevice(const std::string &device, const Artifact &artifact) {
  if (device == "cpu") {
    if (artifact.target() != "cpu")
      return Status::error("'" + artifact.path() + "' was compiled for target '" +
                           artifact.target() +
                           "'; a session on device 'cpu' runs cpu artifacts");
    return Status::ok();
  }
  if (device == "cuda" ||
      (device.rfind("cuda:", 0) == 0 && isDigits(device.substr(5))))
    return Status::error("device '" + device +
                         "': sessions run on 'cpu' only so far (vitc_model_run "
                         "runs cuda artifacts)");
  return Status::error("unknown device '" + device +
                       "' (devices: cpu, cuda:N)");
}

/// An arena is mapped memory of its own (page aligned, so 64-byte aligned),
/// not malloc's: the plans' arenas are the size of a call's activations, and
/// one freed for a larger one would leave a hole that size in malloc's heap.
uint8_t *mapArena(uint64_t bytes) {
  void *arena = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return arena == MAP_FAILED ? nullptr : static_cast<uint8_t *>(arena);
}

void unmapArena(uint8_t *arena, uint64_t bytes) {
  if (arena)
    ::munmap(arena, bytes);
}

void *alignUp(void *pointer, uint64_t alignment) {
  auto value = reinterpret_cast<uintptr_t>(pointer);
  return reinterpret_cast<void *>((value + alignment - 1) / alignment *
                                  alignment);
}

} // namespace

/// One output as the code returned it.
struct BoundSession::Result {
  char *allocated = nullptr, *data = nullptr;
  const int64_t *sizes = nullptr, *strides = nullptr;
  size_t rank = 0, bytes = 0;
  bool contiguous = true;
};

BoundSession::BoundSession() : allocator_(new CallAllocator()) {}

BoundSession::~BoundSession() {
  unmapArena(arena_, arenaBytes_);
  for (Buffer &buffer : copies_)
    std::free(buffer.data);
}

StatusOr<std::unique_ptr<BoundSession>>
BoundSession::create(std::shared_ptr<Session> model, size_t function,
                     const std::string &device, int threads) {
  const Artifact &artifact = model->artifact();
  Status status = checkDevice(device, artifact);
  if (!status.isOk())
    return status;
  if (threads < 0 || threads > kMaxThreads)
    return Status::error("invalid thread count " + std::to_string(threads) +
                         " (0: the default, or 1 to " +
                         std::to_string(kMaxThreads) + ")");
  if (function >= artifact.functions().size())
    return Status::error("no function #" + std::to_string(function) +
                         " (the model has " +
                         std::to_string(artifact.functions().size()) + ")");
  if (!model->executable().codeAllocationsRedirected())
    return Status::error("'" + artifact.path() +
                         "': its code's allocations cannot be served from a "
                         "session's arena on this platform (use "
                         "vitc_model_run)");

  std::unique_ptr<BoundSession> session(new BoundSession());
  session->model_ = std::move(model);
  session->functionIndex_ = function;
  session->function_ = &artifact.functions()[function];
  session->threads_ = threads;
  session->stream_ = session->model_->device().createStream();
  ThreadCountScope resolveOpenMp(0); // looks OpenMP up now, not in a call
  const FunctionSpec &spec = *session->function_;
  size_t numInputs = spec.inputs.size(), numOutputs = spec.outputs.size();
  session->inputs_.resize(numInputs);
  session->outputs_.resize(numOutputs);
  session->results_.resize(numOutputs);
  session->copies_.resize(numOutputs);
  // Capacity for every shape a binding or result will hold: a rebinding
  // then reuses it.
  for (size_t i = 0; i < numInputs; ++i)
    session->inputs_[i].shape.reserve(spec.inputs[i].shape.size());
  size_t resultWords = 0;
  for (size_t i = 0; i < numOutputs; ++i) {
    size_t rank = spec.outputs[i].shape.size();
    session->outputs_[i].shape.reserve(rank);
    session->results_[i].dtype = spec.outputs[i].dtype;
    session->results_[i].shape.reserve(rank);
    resultWords += 3 + 2 * rank;
  }
  session->resultWords_.assign(resultWords, 0);
  session->descriptors_.push_back(std::vector<int64_t>(3 + 2));
  for (const TensorSpec &input : spec.inputs)
    session->descriptors_.push_back(
        std::vector<int64_t>(3 + 2 * input.shape.size()));
  session->args_.push_back(session->resultWords_.data());
  for (std::vector<int64_t> &descriptor : session->descriptors_)
    session->args_.push_back(descriptor.data());
  return session;
}

StatusOr<size_t> BoundSession::findInput(const std::string &name) const {
  std::string names;
  for (size_t i = 0; i < function_->inputs.size(); ++i) {
    if (function_->inputs[i].name == name)
      return i;
    names += (i ? ", " : "") + function_->inputs[i].name;
  }
  return Status::error("no input '" + name + "' (inputs: " + names + ")");
}

StatusOr<size_t> BoundSession::findOutput(const std::string &name) const {
  std::string names;
  for (size_t i = 0; i < function_->outputs.size(); ++i) {
    if (function_->outputs[i].name == name)
      return i;
    names += (i ? ", " : "") + function_->outputs[i].name;
  }
  return Status::error("no output '" + name + "' (outputs: " + names + ")");
}

Status BoundSession::checkBinding(const TensorSpec &spec, const char *what,
                                  DType dtype,
                                  const std::vector<int64_t> &shape) const {
  if (dtype != spec.dtype)
    return Status::error(std::string(what) + " '" + spec.name +
                         "': expected dtype " + dtypeName(spec.dtype) +
                         ", got " + (dtypeName(dtype) ? dtypeName(dtype) : "?"));
  bool matches = shape.size() == spec.shape.size();
  for (size_t d = 0; matches && d < shape.size(); ++d)
    matches = shape[d] >= 0 && (spec.shape[d] == -1 || spec.shape[d] == shape[d]);
  if (!matches) {
    bool dynamic = std::count(spec.shape.begin(), spec.shape.end(), -1) > 0;
    return Status::error(std::string(what) + " '" + spec.name +
                         "': expected shape " + shapeString(spec.shape) +
                         (dynamic ? " (-1 = any size)" : "") + ", got " +
                         shapeString(shape));
  }
  return Status::ok();
}

Status BoundSession::bindInput(size_t index, DType dtype,
                               const std::vector<int64_t> &shape,
                               const void *data) {
  if (index >= inputs_.size())
    return Status::error("no input #" + std::to_string(index) + " (" +
                         std::to_string(inputs_.size()) + " inputs)");
  const TensorSpec &spec = function_->inputs[index];
  Status valid = checkBinding(spec, "input", dtype, shape);
  if (!valid.isOk())
    return valid;
  if (!data && product(shape) != 0)
    return Status::error("input '" + spec.name + "': data is NULL");
  Binding &binding = inputs_[index];
  binding.dtype = dtype;
  binding.shape.assign(shape.begin(), shape.end());
  binding.data = const_cast<void *>(data);
  binding.bound = true;
  return Status::ok();
}

Status BoundSession::bindOutput(size_t index, DType dtype,
                                const std::vector<int64_t> &shape, void *data) {
  if (index >= outputs_.size())
    return Status::error("no output #" + std::to_string(index) + " (" +
                         std::to_string(outputs_.size()) + " outputs)");
  Binding &binding = outputs_[index];
  if (!data) {
    binding.bound = false;
    binding.data = nullptr;
    return Status::ok();
  }
  Status valid = checkBinding(function_->outputs[index], "output", dtype, shape);
  if (!valid.isOk())
    return valid;
  binding.dtype = dtype;
  binding.shape.assign(shape.begin(), shape.end());
  binding.data = data;
  binding.bound = true;
  return Status::ok();
}

AllocationPlan *BoundSession::findPlan() {
  for (std::unique_ptr<AllocationPlan> &plan : plans_) {
    bool same = true;
    for (size_t i = 0; same && i < inputs_.size(); ++i)
      same = plan->inputShapes[i] == inputs_[i].shape;
    if (same)
      return plan.get();
  }
  return nullptr;
}

void BoundSession::fillDescriptors() {
  const Section *weights = model_->artifact().section("weights");
  int64_t weightsBytes = static_cast<int64_t>(weights->size);
  fillDescriptor(descriptors_[0].data(), weights->data, &weightsBytes, 1);
  for (size_t i = 0; i < inputs_.size(); ++i)
    fillDescriptor(descriptors_[i + 1].data(), inputs_[i].data,
                   inputs_[i].shape.data(), inputs_[i].shape.size());
}

BoundSession::Result BoundSession::readResult(size_t index,
                                              const int64_t *&words) const {
  const TensorSpec &spec = function_->outputs[index];
  Result result;
  result.rank = spec.shape.size();
  size_t elemSize = dtypeSize(spec.dtype);
  result.allocated = reinterpret_cast<char *>(words[0]);
  result.data = reinterpret_cast<char *>(words[1]) +
                words[2] * static_cast<int64_t>(elemSize);
  result.sizes = words + 3;
  result.strides = words + 3 + result.rank;
  int64_t expected = 1;
  for (size_t d = result.rank; d-- > 0;) {
    if (result.sizes[d] != 1 && result.strides[d] != expected)
      result.contiguous = false;
    expected *= result.sizes[d];
  }
  result.bytes = static_cast<size_t>(expected) * elemSize;
  words += 3 + 2 * result.rank;
  return result;
}

StatusOr<AllocationPlan *> BoundSession::recordPlan() {
  auto plan = std::make_unique<AllocationPlan>();
  const std::vector<CallAllocator::Event> &events = allocator_->events();
  placeAllocations(events, *plan);
  for (const Binding &input : inputs_)
    plan->inputShapes.push_back(input.shape);
  // Which allocations hold an output whole, so that later calls may serve
  // them from the caller's memory: the result starts where the code's
  // alignment puts it in an allocation of exactly its size (plus that
  // alignment: MLIR allocates size + alignment and rounds up).
  const int64_t *words = resultWords_.data();
  for (size_t j = 0; j < outputs_.size(); ++j) {
    Result result = readResult(j, words);
    plan->outputShapes.emplace_back(result.sizes, result.sizes + result.rank);
    const CallAllocator::Event *event = allocator_->findLive(result.allocated);
    if (!event || !result.contiguous || result.bytes == 0)
      continue;
    PlannedAllocation &slot = plan->allocations[event - events.data()];
    uint64_t slack = event->bytes - std::min(event->bytes, result.bytes);
    bool exact = slack == 0 && result.data == result.allocated;
    bool aligned = slack == kArenaAlignment && event->bytes > result.bytes &&
                   reinterpret_cast<uintptr_t>(result.data) % slack == 0 &&
                   result.data >= result.allocated &&
                   result.data - result.allocated < static_cast<ptrdiff_t>(slack);
    if (slot.output >= 0 || !(exact || aligned))
      continue;
    slot.output = static_cast<int32_t>(j);
    slot.alignment = exact ? 1 : slack;
  }
  // The arena only grows: one arena serves every planned shape.
  if (plan->arenaBytes > arenaBytes_) {
    uint8_t *arena = mapArena(plan->arenaBytes);
    if (!arena)
      return Status::error("out of memory for a session arena of " +
                           std::to_string(plan->arenaBytes) + " bytes");
    unmapArena(arena_, arenaBytes_);
    arena_ = arena;
    arenaBytes_ = plan->arenaBytes;
  }
  size_t most = 0;
  for (const std::unique_ptr<AllocationPlan> &other : plans_)
    most = std::max(most, other->allocations.size());
  most = std::max(most, plan->allocations.size());
  allocator_->reserve(most);
  if (callerMemory_.size() < most)
    callerMemory_.resize(most);
  plans_.push_back(std::move(plan));
  return plans_.back().get();
}

void *BoundSession::copyBuffer(size_t index, size_t bytes) {
  Buffer &buffer = copies_[index];
  if (buffer.capacity < bytes || !buffer.data) {
    std::free(buffer.data);
    size_t capacity = (std::max<size_t>(bytes, 1) + kArenaAlignment - 1) /
                      kArenaAlignment * kArenaAlignment;
    buffer.data = std::aligned_alloc(kArenaAlignment, capacity);
    buffer.capacity = buffer.data ? capacity : 0;
  }
  return buffer.data;
}

Status BoundSession::deliverOutputs(const AllocationPlan *plan) {
  // Where an output the caller did not bind lives: in the arena when the
  // plan has its allocation (the code puts it there), else a buffer of the
  // session's.
  auto arenaSlot = [&](size_t j) -> void * {
    if (!plan)
      return nullptr;
    for (const PlannedAllocation &slot : plan->allocations)
      if (slot.output == static_cast<int32_t>(j))
        return alignUp(arena_ + slot.offset, slot.alignment);
    return nullptr;
  };
  const int64_t *words = resultWords_.data();
  lastInPlace_ = 0;
  for (size_t j = 0; j < outputs_.size(); ++j) {
    Result result = readResult(j, words);
    Binding &binding = outputs_[j];
    Output &output = results_[j];
    output.shape.assign(result.sizes, result.sizes + result.rank);
    if (binding.bound && binding.shape != output.shape)
      return Status::error("output '" + function_->outputs[j].name +
                           "' is bound with shape " +
                           shapeString(binding.shape) + ", but the call "
                           "returns " + shapeString(output.shape));
    void *dest = binding.bound ? binding.data : arenaSlot(j);
    if (!dest)
      dest = copyBuffer(j, result.bytes);
    if (!dest)
      return Status::error("out of memory for output '" +
                           function_->outputs[j].name + "'");
    if (dest == result.data) {
      ++lastInPlace_;
    } else if (result.contiguous) {
      std::memcpy(dest, result.data, result.bytes);
    } else {
      size_t written = 0;
      copyStrided(result.data, static_cast<char *>(dest), result.sizes,
                  result.strides, result.rank,
                  dtypeSize(function_->outputs[j].dtype), written);
    }
    output.data = dest;
  }
  return Status::ok();
}

Status BoundSession::run() {
  for (size_t i = 0; i < inputs_.size(); ++i)
    if (!inputs_[i].bound)
      return Status::error("input '" + function_->inputs[i].name +
                           "' is not bound (vitc_session_bind_input)");
  AllocationPlan *plan = findPlan();
  if (plan) {
    // Known shapes: a bound output of another shape is refused before the
    // call writes anything.
    for (size_t j = 0; j < outputs_.size(); ++j)
      if (outputs_[j].bound && outputs_[j].shape != plan->outputShapes[j])
        return Status::error("output '" + function_->outputs[j].name +
                             "' is bound with shape " +
                             shapeString(outputs_[j].shape) +
                             ", but the call returns " +
                             shapeString(plan->outputShapes[j]));
    std::fill(callerMemory_.begin(), callerMemory_.end(), nullptr);
    for (size_t k = 0; k < plan->allocations.size(); ++k) {
      const PlannedAllocation &slot = plan->allocations[k];
      if (slot.output < 0 || !outputs_[slot.output].bound)
        continue;
      void *memory = outputs_[slot.output].data;
      if (reinterpret_cast<uintptr_t>(memory) % slot.alignment == 0)
        callerMemory_[k] = memory;
    }
  }
  if (!plan && arena_) {
    // A recording: the code's allocations are served off plan (malloc,
    // mmap), the arena sits idle. Release its pages for the call (a training step's activations
    // would otherwise be resident twice), unless an input lives in it (the
    // last run's output fed back).
    bool inputInArena = false;
    for (const Binding &input : inputs_)
      inputInArena |= static_cast<uint8_t *>(input.data) >= arena_ &&
                      static_cast<uint8_t *>(input.data) < arena_ + arenaBytes_;
    if (!inputInArena)
      ::madvise(arena_, arenaBytes_, MADV_DONTNEED);
  }
  fillDescriptors();
  hasRun_ = false;
  Status status = Status::ok();
  {
    ThreadCountScope threads(threads_);
    AllocatorScope scope(allocator_.get());
    allocator_->begin(plan, arena_, plan ? &callerMemory_ : nullptr);
    status = model_->executable().invoke(functionIndex_, args_.data(),
                                         *stream_);
    if (status.isOk())
      status = stream_->synchronize();
  }
  lastReplayed_ = allocator_->replayed();
  if (status.isOk()) {
    if (!plan) {
      StatusOr<AllocationPlan *> recorded = recordPlan();
      if (recorded.isOk())
        plan = *recorded;
      else
        status = recorded.status();
    } else if (!lastReplayed_) {
      // The call left its plan (shapes alone did not decide its
      // allocations): forget the plan, the next call records again.
      auto found = std::find_if(plans_.begin(), plans_.end(),
                                [&](const auto &p) { return p.get() == plan; });
      plans_.erase(found);
      plan = nullptr;
    }
  }
  if (status.isOk())
    status = deliverOutputs(plan);
  allocator_->releaseUnplanned();
  hasRun_ = status.isOk();
  return status;
}

} // namespace vitc::rt
