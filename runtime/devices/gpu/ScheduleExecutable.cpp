//===- ScheduleExecutable.cpp - run a GPU artifact's schedules ------------===//
//
// One call: the inputs' shapes select the scalar values (evaluated once per
// set of shapes, then cached), the inputs are copied to the device, the
// commands run in order on the backend's stream, and each output is copied
// back into host memory the caller owns. The weights are uploaded once,
// when the executable is created.
//
// Kernel arguments follow cuLaunchKernel: params[i] points to argument i,
// and a memref is its expanded descriptor (allocated pointer, aligned
// pointer, offset, sizes, strides), as MLIR lowers kernel signatures.
//
//===----------------------------------------------------------------------===//
#include "GpuBackend.h"
#include "ScalarProgram.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace vitc::rt {
namespace {

/// Device memory freed when the owner goes out of scope; counts the bytes
/// it holds into `held` (shared by the executable's calls) and the peak.
class DeviceAllocations {
public:
  DeviceAllocations(GpuBackend &backend, std::atomic<int64_t> &held,
                    std::atomic<int64_t> &peak)
      : backend(backend), held(held), peak(peak) {}
  ~DeviceAllocations() {
    for (auto [pointer, bytes] : pointers)
      if (pointer) {
        backend.free(pointer);
        held -= bytes;
      }
  }
  StatusOr<DevicePtr> allocate(size_t bytes) {
    if (bytes == 0)
      return DevicePtr(0);
    auto pointer = backend.allocate(bytes);
    if (pointer.isOk()) {
      pointers.emplace_back(*pointer, static_cast<int64_t>(bytes));
      int64_t now = held += static_cast<int64_t>(bytes);
      for (int64_t seen = peak; now > seen && !peak.compare_exchange_weak(seen, now);)
        ;
    }
    return pointer;
  }

private:
  GpuBackend &backend;
  std::atomic<int64_t> &held, &peak;
  std::vector<std::pair<DevicePtr, int64_t>> pointers;
};

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t dim : shape)
    n *= dim;
  return n;
}

class ScheduleExecutable final : public Executable {
public:
  ScheduleExecutable(const Artifact &artifact,
                     std::shared_ptr<GpuBackend> backend)
      : artifact(artifact), backend(std::move(backend)) {}
  ~ScheduleExecutable() override {
    if (weights)
      backend->free(weights);
  }

  Status uploadWeights() {
    const Section *section = artifact.section("weights");
    weightsBytes = section->size;
    if (weightsBytes == 0)
      return Status::ok();
    auto pointer = backend->allocate(weightsBytes);
    if (!pointer.isOk())
      return Status::error("uploading the weights (" +
                           std::to_string(weightsBytes) +
                           " bytes): " + pointer.status().message());
    weights = *pointer;
    held = peak = static_cast<int64_t>(weightsBytes);
    return backend->copyToDevice(weights, section->data, weightsBytes);
  }

  Status invoke(size_t function, void **args, Stream &) override;
  int64_t peakDeviceBytes() const override { return peak; }

private:
  /// The slots of `schedule` for these shapes, computed once per shapes.
  StatusOr<const std::vector<int64_t> *>
  slotsFor(size_t function, const std::vector<std::vector<int64_t>> &shapes) {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto key = std::make_pair(function, shapes);
    auto it = slotCache.find(key);
    if (it != slotCache.end())
      return &it->second;
    auto slots = evaluateScalars(artifact.functions()[function].schedule, shapes);
    if (!slots.isOk())
      return slots.status();
    return &slotCache.emplace(key, std::move(*slots)).first->second;
  }

  const Artifact &artifact;
  std::shared_ptr<GpuBackend> backend;
  DevicePtr weights = 0;
  uint64_t weightsBytes = 0;
  std::atomic<int64_t> held{0}, peak{0};
  std::mutex cacheMutex;
  std::map<std::pair<size_t, std::vector<std::vector<int64_t>>>,
           std::vector<int64_t>>
      slotCache;
};

/// "node 'Conv_3': " or "" for a command without a node.
std::string atNode(const GpuCommand &command) {
  return command.node.empty() ? std::string()
                              : "node '" + command.node + "': ";
}

Status ScheduleExecutable::invoke(size_t function, void **args, Stream &) {
  const FunctionSpec &spec = artifact.functions()[function];
  const GpuScheduleSpec &schedule = spec.schedule;

  // The packed arguments (Device.h): args[2 + i] is input i's descriptor.
  std::vector<std::vector<int64_t>> shapes{
      {static_cast<int64_t>(weightsBytes)}};
  std::vector<const void *> hostInputs;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    auto *words = static_cast<const int64_t *>(args[2 + i]);
    size_t rank = spec.inputs[i].shape.size();
    shapes.emplace_back(words + 3, words + 3 + rank);
    hostInputs.push_back(reinterpret_cast<const void *>(words[1]));
  }
  auto slotsOr = slotsFor(function, shapes);
  if (!slotsOr.isOk())
    return slotsOr.status();
  const std::vector<int64_t> &slot = **slotsOr;

  DeviceAllocations memory(*backend, held, peak);
  // Argument base pointers: the weights, then each input on the device.
  std::vector<DevicePtr> argumentBase{weights};
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    size_t bytes = static_cast<size_t>(product(shapes[i + 1])) *
                   dtypeSize(spec.inputs[i].dtype);
    auto pointer = memory.allocate(bytes);
    if (!pointer.isOk())
      return Status::error("input '" + spec.inputs[i].name +
                           "': " + pointer.status().message());
    if (bytes) {
      Status copied = backend->copyToDevice(*pointer, hostInputs[i], bytes);
      if (!copied.isOk())
        return Status::error("input '" + spec.inputs[i].name +
                             "': " + copied.message());
    }
    argumentBase.push_back(*pointer);
  }
  std::vector<DevicePtr> allocBase(static_cast<size_t>(schedule.numAllocs), 0);
  auto baseOf = [&](const GpuMemref &m) {
    DevicePtr base = m.base == GpuMemref::Base::Alloc
                         ? allocBase[static_cast<size_t>(m.index)]
                         : argumentBase[static_cast<size_t>(
                               m.base == GpuMemref::Base::Weights ? 0
                                                                  : m.index)];
    return base;
  };

  // Parameter storage of one launch: every word gets its own slot, and
  // params[i] points into it (reserved up front: the pointers must stay).
  std::vector<int64_t> words;
  std::vector<void *> params;
  for (const GpuCommand &command : schedule.commands) {
    switch (command.op) {
    case GpuCommand::Op::Alloc: {
      auto pointer = memory.allocate(static_cast<size_t>(slot[command.bytes]));
      if (!pointer.isOk())
        return Status::error(atNode(command) + "allocating " +
                             std::to_string(slot[command.bytes]) + " bytes: " +
                             pointer.status().message());
      allocBase[static_cast<size_t>(command.alloc)] = *pointer;
      break;
    }
    case GpuCommand::Op::Free:
      // Frees are deferred to the end of the call: the backend's stream
      // may still run kernels that read the memory.
      break;
    case GpuCommand::Op::Copy: {
      const GpuMemref &src = schedule.memrefs[command.src];
      const GpuMemref &dst = schedule.memrefs[command.dst];
      int64_t count = 1;
      bool contiguous = true;
      int64_t expected = 1;
      for (size_t d = src.sizes.size(); d-- > 0;) {
        int64_t size = slot[src.sizes[d]];
        contiguous &= size == 1 || (slot[src.strides[d]] == expected &&
                                    slot[dst.strides[d]] == expected);
        expected *= size;
        count *= size;
      }
      if (!contiguous)
        return Status::error(atNode(command) +
                             "a strided copy on the GPU (the compiler lowers "
                             "those to kernels)");
      size_t elem = dtypeSize(src.dtype);
      if (count > 0) {
        Status copied = backend->copyOnDevice(
            baseOf(dst) + slot[dst.byteOffset] + slot[dst.offset] * elem,
            baseOf(src) + slot[src.byteOffset] + slot[src.offset] * elem,
            static_cast<size_t>(count) * elem);
        if (!copied.isOk())
          return Status::error(atNode(command) + copied.message());
      }
      break;
    }
    case GpuCommand::Op::Call: {
      LibraryCall call{command.routine, {}, {}};
      for (const GpuArgument &arg : command.args) {
        if (arg.kind != GpuArgument::Kind::Memref) {
          call.scalars.push_back(slot[arg.value]);
          continue;
        }
        const GpuMemref &m = schedule.memrefs[arg.value];
        DeviceTensor tensor;
        tensor.dtype = m.dtype;
        tensor.data = baseOf(m) + slot[m.byteOffset] +
                      slot[m.offset] * dtypeSize(m.dtype);
        for (int64_t s : m.sizes)
          tensor.sizes.push_back(slot[s]);
        for (int64_t s : m.strides)
          tensor.strides.push_back(slot[s]);
        call.tensors.push_back(std::move(tensor));
      }
      Status called = backend->callLibrary(call);
      if (!called.isOk())
        return Status::error(atNode(command) + command.routine + ": " +
                             called.message());
      break;
    }
    case GpuCommand::Op::Launch: {
      std::array<uint32_t, 3> grid, block;
      bool empty = false;
      for (int i = 0; i < 3; ++i) {
        int64_t g = slot[command.grid[i]], b = slot[command.block[i]];
        if (g < 0 || b <= 0 || g > UINT32_MAX || b > 1024)
          return Status::error(atNode(command) + "invalid launch: grid " +
                               std::to_string(g) + ", block " +
                               std::to_string(b));
        empty |= g == 0;
        grid[i] = static_cast<uint32_t>(g);
        block[i] = static_cast<uint32_t>(b);
      }
      if (empty) // a batch of zero: nothing to compute
        break;
      size_t numWords = 0;
      for (const GpuArgument &arg : command.args)
        numWords += arg.kind == GpuArgument::Kind::Memref
                        ? 3 + 2 * schedule.memrefs[arg.value].sizes.size()
                        : 1;
      words.assign(numWords, 0);
      params.clear();
      size_t next = 0;
      auto push = [&](int64_t value) {
        words[next] = value;
        params.push_back(&words[next++]);
      };
      for (const GpuArgument &arg : command.args) {
        if (arg.kind == GpuArgument::Kind::I32 ||
            arg.kind == GpuArgument::Kind::F32) {
          // The low four bytes of the slot's word, as a 32-bit argument.
          int32_t narrow = static_cast<int32_t>(slot[arg.value]);
          std::memcpy(&words[next], &narrow, sizeof(narrow));
          params.push_back(&words[next++]);
          continue;
        }
        if (arg.kind == GpuArgument::Kind::I64) {
          push(slot[arg.value]);
          continue;
        }
        const GpuMemref &m = schedule.memrefs[arg.value];
        DevicePtr base = baseOf(m);
        push(static_cast<int64_t>(base));
        push(static_cast<int64_t>(base + slot[m.byteOffset]));
        push(slot[m.offset]);
        for (int64_t s : m.sizes)
          push(slot[s]);
        for (int64_t s : m.strides)
          push(slot[s]);
      }
      int64_t shared = slot[command.shared];
      if (shared < 0 || shared > UINT32_MAX)
        return Status::error(atNode(command) + "invalid shared memory size");
      Status launched =
          backend->launch(static_cast<size_t>(command.kernel), grid, block,
                          static_cast<uint32_t>(shared), params.data());
      if (!launched.isOk()) {
        const GpuKernelSpec &kernel = artifact.kernels()[command.kernel];
        return Status::error(atNode(command) + "kernel " + kernel.module +
                             "." + kernel.name + ": " + launched.message());
      }
      break;
    }
    }
  }

  // The outputs, each into host memory of its own (contiguous span of the
  // memref, from its first element): the session hands it out or copies
  // it into C order.
  auto *resultWords = static_cast<int64_t *>(args[0]);
  std::vector<void *> hostOutputs;
  Status status = backend->synchronize();
  for (size_t r = 0; status.isOk() && r < schedule.results.size(); ++r) {
    const GpuMemref &m = schedule.memrefs[schedule.results[r]];
    size_t elem = dtypeSize(m.dtype);
    int64_t last = 0;
    bool empty = false;
    for (size_t d = 0; d < m.sizes.size(); ++d) {
      empty |= slot[m.sizes[d]] == 0;
      last += (slot[m.sizes[d]] - 1) * slot[m.strides[d]];
    }
    size_t bytes = empty ? 0 : static_cast<size_t>(last + 1) * elem;
    void *host = std::malloc(bytes ? bytes : 1);
    if (!host) {
      status = Status::error("out of host memory for output '" +
                             spec.outputs[r].name + "'");
      break;
    }
    hostOutputs.push_back(host);
    if (bytes)
      status = backend->copyToHost(
          host, baseOf(m) + slot[m.byteOffset] + slot[m.offset] * elem, bytes);
    size_t rank = m.sizes.size();
    resultWords[0] = resultWords[1] = reinterpret_cast<int64_t>(host);
    resultWords[2] = 0;
    for (size_t d = 0; d < rank; ++d) {
      resultWords[3 + d] = slot[m.sizes[d]];
      resultWords[3 + rank + d] = slot[m.strides[d]];
    }
    resultWords += 3 + 2 * rank;
  }
  if (!status.isOk()) {
    for (void *host : hostOutputs)
      std::free(host);
    return status;
  }
  return Status::ok();
}

} // namespace

StatusOr<std::unique_ptr<Executable>>
createScheduleExecutable(const Artifact &artifact,
                         std::shared_ptr<GpuBackend> backend) {
  auto executable =
      std::make_unique<ScheduleExecutable>(artifact, std::move(backend));
  Status uploaded = executable->uploadWeights();
  if (!uploaded.isOk())
    return uploaded;
  return std::unique_ptr<Executable>(std::move(executable));
}

} // namespace vitc::rt
