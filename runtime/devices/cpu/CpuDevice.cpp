//===- CpuDevice.cpp - the host CPU as a vitc device ----------------------===//
//
// Runs cpu artifacts: each function is a packed entry of the code section
// (HostCode.h loads it).
//
//===----------------------------------------------------------------------===//
#include "HostCode.h"

#include "vitc/runtime/CodeAllocations.h"

#include <dlfcn.h>
#include <vector>

namespace vitc::rt {
namespace {

using PackedEntry = void (*)(void **);

class SharedObjectExecutable final : public Executable {
public:
  SharedObjectExecutable(void *handle, std::vector<PackedEntry> entries,
                         bool redirected)
      : handle_(handle), entries_(std::move(entries)),
        redirected_(redirected) {}
  ~SharedObjectExecutable() override { ::dlclose(handle_); }
  Status invoke(size_t function, void **args, Stream &) override {
    if (function >= entries_.size())
      return Status::error("no function #" + std::to_string(function));
    entries_[function](args);
    return Status::ok();
  }
  bool codeAllocationsRedirected() const override { return redirected_; }

private:
  void *handle_;
  std::vector<PackedEntry> entries_;
  bool redirected_;
};

class CpuDevice final : public Device {
public:
  DeviceKind kind() const override { return DeviceKind::Cpu; }
  std::string name() const override { return "cpu"; }

  Status checkCompatible(const Artifact &artifact) const override {
    return checkHostCode(artifact, "cpu", "the cpu");
  }

  StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const Artifact &artifact) override {
    auto loaded = loadHostCode(artifact);
    if (!loaded.isOk())
      return loaded.status();
    void *handle = *loaded;
    std::vector<PackedEntry> entries;
    for (const FunctionSpec &function : artifact.functions()) {
      auto entry = reinterpret_cast<PackedEntry>(
          ::dlsym(handle, function.entry.c_str()));
      if (!entry) {
        ::dlclose(handle);
        return Status::error("'" + artifact.path() + "' has no entry symbol '" +
                             function.entry + "' (function '" +
                             function.name + "')");
      }
      entries.push_back(entry);
    }
    // Sessions serve the code's allocations from their arena.
    const Section *code = artifact.section("code");
    bool redirected = false;
    Status status =
        redirectCodeAllocations(handle, code->data, code->size, redirected);
    if (!status.isOk()) {
      ::dlclose(handle);
      return Status::error("'" + artifact.path() + "': " + status.message());
    }
    return std::unique_ptr<Executable>(
        new SharedObjectExecutable(handle, std::move(entries), redirected));
  }

  StatusOr<std::unique_ptr<Buffer>> allocate(size_t bytes) override {
    return allocateHostBuffer(bytes);
  }

  std::unique_ptr<Stream> createStream() override { return createHostStream(); }

  /// oneDNN (Debian builds it on OpenMP) follows the OpenMP thread count.
  /// The OpenMP runtime is whichever one the kernels brought into the
  /// process, so it is looked up rather than linked.
  void setThreadCount(int threads) override {
    using SetThreads = void (*)(int);
    using GetThreads = int (*)();
    auto set = reinterpret_cast<SetThreads>(
        ::dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    auto get = reinterpret_cast<GetThreads>(
        ::dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    if (!set || !get)
      return; // no OpenMP in the process: kernels run single-threaded
    static const int defaultThreads = get();
    set(threads > 0 ? threads : defaultThreads);
  }
};

} // namespace

std::unique_ptr<Device> createCpuDevice() {
  return std::unique_ptr<Device>(new CpuDevice());
}

} // namespace vitc::rt
