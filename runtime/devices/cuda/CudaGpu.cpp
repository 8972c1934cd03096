//===- CudaGpu.cpp - the CUDA device --------------------------------------===//
//
// The device owns the driver (loaded at run time, CudaDriver.h) and the GPU's
// primary context in one shared CudaContext; every backend, buffer and
// stream made on the device holds it too, so the context and the driver
// library stay alive until the last of them is gone, whatever order the
// caller frees them in.
//
// All of an executable's work goes to one stream: copies and launches are
// ordered on it without relying on the legacy default stream, and the host
// waits only where the interface needs it (host memory read or released).
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"

#include "CudaDriver.h"
#include "CudnnConv.h"
#include "LtMatmul.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>

namespace vitc::rt {
namespace {

using cuda::CUcontext;
using cuda::CUdevice;
using cuda::CUdeviceptr;
using cuda::CUfunction;
using cuda::CUmodule;
using cuda::CUstream;
using cuda::Driver;

/// The driver, one GPU and its primary context (retained for our lifetime).
class CudaContext {
public:
  CudaContext(std::unique_ptr<Driver> driver, cuda::DeviceInfo info,
              CUdevice device, CUcontext context)
      : driver(std::move(driver)), info(std::move(info)), device(device),
        context(context) {
    name = "cuda:" + std::to_string(this->info.ordinal) + " (" +
           this->info.name + ", sm_" + std::to_string(this->info.major) +
           std::to_string(this->info.minor) + ")";
  }
  // The driver may already have shut down at process exit: nothing to
  // report then.
  ~CudaContext() { (void)api().cuDevicePrimaryCtxRelease(device); }
  CudaContext(const CudaContext &) = delete;
  CudaContext &operator=(const CudaContext &) = delete;

  const cuda::DriverApi &api() const { return driver->api(); }

  /// Makes the context current on the calling thread. Every entry point
  /// that calls the driver does this first: sessions and the C API may run
  /// on any thread, and another library may have set its own context.
  Status bind() const {
    return Driver::check(api().cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  std::unique_ptr<Driver> driver;
  cuda::DeviceInfo info;
  CUdevice device;
  CUcontext context;
  /// "cuda:0 (NVIDIA H100 80GB HBM3, sm_90)".
  std::string name;
};

/// Device memory (Device::allocate); data() is the device address.
class CudaBuffer final : public Buffer {
public:
  CudaBuffer(std::shared_ptr<CudaContext> context, CUdeviceptr pointer,
             size_t bytes)
      : context(std::move(context)), pointer(pointer), bytes(bytes) {}
  ~CudaBuffer() override {
    if (pointer && context->bind().isOk())
      (void)context->api().cuMemFree(pointer);
  }
  void *data() override { return reinterpret_cast<void *>(pointer); }
  size_t size() const override { return bytes; }

private:
  std::shared_ptr<CudaContext> context;
  CUdeviceptr pointer;
  size_t bytes;
};

/// A CUDA stream (Device::createStream). createStream cannot fail, so a
/// stream the driver refused reports why from synchronize().
class CudaStream final : public Stream {
public:
  explicit CudaStream(std::shared_ptr<CudaContext> context)
      : context(std::move(context)) {
    created = this->context->bind();
    if (created.isOk())
      created = Driver::check(this->context->api().cuStreamCreate(&stream, 0),
                              "cuStreamCreate");
  }
  ~CudaStream() override {
    if (stream && context->bind().isOk())
      (void)context->api().cuStreamDestroy(stream);
  }
  Status synchronize() override {
    if (!created.isOk())
      return created;
    if (Status s = context->bind(); !s.isOk())
      return s;
    return Driver::check(context->api().cuStreamSynchronize(stream),
                         "cuStreamSynchronize");
  }

private:
  std::shared_ptr<CudaContext> context;
  CUstream stream = nullptr;
  Status created = Status::ok();
};

/// The driver's JIT log as one line ("" if empty).
std::string oneLine(const char *log) {
  std::string text;
  for (const char *c = log; *c; ++c) {
    if (*c == '\n') {
      if (!text.empty() && c[1])
        text += "; ";
    } else {
      text += *c;
    }
  }
  return text;
}

/// What a GpuBackend needs of the GPU: device memory, copies and launches
/// on one stream of the context.
class CudaBackend final : public GpuBackend {
public:
  explicit CudaBackend(std::shared_ptr<CudaContext> context)
      : context(std::move(context)) {}
  ~CudaBackend() override {
    if (!context->bind().isOk())
      return;
    const cuda::DriverApi &api = context->api();
    if (stream)
      (void)api.cuStreamSynchronize(stream);
    // The libraries' scratch memory is free once the stream is idle.
    blas.reset();
    dnn.reset();
    if (stream)
      (void)api.cuStreamDestroy(stream);
    for (CUmodule module : modules)
      (void)api.cuModuleUnload(module);
  }

  /// Creates the stream and loads `kernels`, each module once.
  Status load(const std::vector<Section> &sections,
              const std::vector<GpuKernelSpec> &kernels);

  std::string name() const override { return context->name; }

  StatusOr<DevicePtr> allocate(size_t bytes) override {
    if (Status s = context->bind(); !s.isOk())
      return s;
    CUdeviceptr pointer = 0; // cuMemAlloc aligns to at least 256 bytes
    if (Status s =
            Driver::check(api().cuMemAlloc(&pointer, bytes), "cuMemAlloc");
        !s.isOk())
      return s;
    return DevicePtr(pointer);
  }

  void free(DevicePtr pointer) override {
    if (!context->bind().isOk())
      return;
    // The stream may still run kernels that use the memory (an error in
    // the middle of a schedule returns before it synchronizes): wait for
    // them first. After a schedule's final synchronize this costs little.
    (void)api().cuStreamSynchronize(stream);
    (void)api().cuMemFree(pointer);
  }

  Status copyToDevice(DevicePtr dst, const void *src, size_t bytes) override {
    if (Status s = context->bind(); !s.isOk())
      return s;
    if (Status s =
            Driver::check(api().cuMemcpyHtoDAsync(dst, src, bytes, stream),
                          "cuMemcpyHtoDAsync");
        !s.isOk())
      return s;
    // The caller may reuse `src` when this returns (page-locked host memory
    // is read asynchronously).
    return Driver::check(api().cuStreamSynchronize(stream),
                         "cuStreamSynchronize");
  }

  Status copyToHost(void *dst, DevicePtr src, size_t bytes) override {
    if (Status s = context->bind(); !s.isOk())
      return s;
    if (Status s =
            Driver::check(api().cuMemcpyDtoHAsync(dst, src, bytes, stream),
                          "cuMemcpyDtoHAsync");
        !s.isOk())
      return s;
    // The caller reads `dst` when this returns.
    return Driver::check(api().cuStreamSynchronize(stream),
                         "cuStreamSynchronize");
  }

  Status copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) override;

  Status launch(size_t kernel, const std::array<uint32_t, 3> &grid,
                const std::array<uint32_t, 3> &block, uint32_t sharedBytes,
                void **params) override {
    if (kernel >= functions.size())
      return Status::error("no kernel #" + std::to_string(kernel) +
                           " (the artifact has " +
                           std::to_string(functions.size()) + ")");
    if (Status s = context->bind(); !s.isOk())
      return s;
    if (Status s = allowSharedBytes(kernel, sharedBytes); !s.isOk())
      return s;
    return Driver::check(api().cuLaunchKernel(functions[kernel], grid[0],
                                              grid[1], grid[2], block[0],
                                              block[1], block[2], sharedBytes,
                                              stream, params, nullptr),
                         "cuLaunchKernel");
  }

  Status callLibrary(const LibraryCall &call) override;

  Status synchronize() override {
    if (Status s = context->bind(); !s.isOk())
      return s;
    return Driver::check(api().cuStreamSynchronize(stream),
                         "cuStreamSynchronize");
  }

private:
  const cuda::DriverApi &api() const { return context->api(); }
  StatusOr<CUmodule> loadModule(const Section &code);
  Status allowSharedBytes(size_t kernel, uint32_t bytes);
  Status multiply(const LibraryCall &call);
  Status convolve(const LibraryCall &call);

  std::shared_ptr<CudaContext> context;
  CUstream stream = nullptr;
  std::vector<CUmodule> modules;
  std::vector<CUfunction> functions;
  /// Per kernel: the dynamic shared memory it was allowed beyond the
  /// default (cuFuncSetAttribute), raised on first need.
  std::mutex sharedMutex;
  std::vector<uint32_t> sharedAllowed;
  /// The matmuls' cuBLASLt, loaded on the first call: artifacts without
  /// library calls run where cuBLASLt is missing.
  std::mutex blasMutex;
  std::unique_ptr<cuda::LtMatmul> blas;
  /// The convolutions' cuDNN, likewise loaded on the first one: artifacts
  /// without convolutions run where cuDNN is missing.
  std::mutex dnnMutex;
  std::unique_ptr<cuda::CudnnConv> dnn;
};

Status CudaBackend::load(const std::vector<Section> &sections,
                         const std::vector<GpuKernelSpec> &kernels) {
  if (Status s = context->bind(); !s.isOk())
    return s;
  if (Status s =
          Driver::check(api().cuStreamCreate(&stream, 0), "cuStreamCreate");
      !s.isOk())
    return s;
  std::map<std::string, CUmodule> loaded;
  for (const GpuKernelSpec &kernel : kernels) {
    auto found = loaded.find(kernel.module);
    if (found == loaded.end()) {
      auto code = chooseGpuModuleCode(sections, kernel.module,
                                      context->info.major, context->info.minor);
      if (!code.isOk())
        return code.status();
      auto module = loadModule(**code);
      if (!module.isOk())
        return module.status();
      modules.push_back(*module); // unloaded by the destructor from here
      found = loaded.emplace(kernel.module, *module).first;
    }
    CUfunction function = nullptr;
    if (Status s =
            Driver::check(api().cuModuleGetFunction(&function, found->second,
                                                    kernel.name.c_str()),
                          "cuModuleGetFunction");
        !s.isOk())
      return Status::error("GPU module '" + kernel.module +
                           "' has no kernel '" + kernel.name +
                           "': " + s.message());
    functions.push_back(function);
  }
  sharedAllowed.assign(functions.size(), 0);
  return Status::ok();
}

StatusOr<CUmodule> CudaBackend::loadModule(const Section &code) {
  std::string what = "GPU module '" + code.name + "' (" + code.arch + ")";
  // The driver reads PTX text up to its NUL: without one it would read past
  // the section.
  bool ptx = code.arch.rfind("compute_", 0) == 0;
  if (ptx && (code.size == 0 || code.data[code.size - 1] != 0))
    return Status::error(what + ": the PTX text is not NUL-terminated");
  // PTX that fails to compile says why only in the JIT's log.
  char log[4096] = {};
  int options[] = {cuda::kJitErrorLogBuffer, cuda::kJitErrorLogBufferSizeBytes};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof log - 1))};
  CUmodule module = nullptr;
  Status s = Driver::check(
      api().cuModuleLoadDataEx(&module, code.data, 2, options, values),
      "cuModuleLoadDataEx");
  if (s.isOk())
    return module;
  std::string message = what + ": " + s.message();
  log[sizeof log - 1] = 0;
  if (std::string jit = oneLine(log); !jit.empty())
    message += " (JIT log: " + jit + ")";
  return Status::error(message);
}

Status CudaBackend::allowSharedBytes(size_t kernel, uint32_t bytes) {
  // Every kernel may use 48 KiB of dynamic shared memory; more (up to the
  // GPU's opt-in limit) must be allowed per kernel first.
  constexpr uint32_t kDefaultLimit = 48 * 1024;
  if (bytes <= kDefaultLimit)
    return Status::ok();
  std::lock_guard<std::mutex> lock(sharedMutex);
  if (sharedAllowed[kernel] >= bytes)
    return Status::ok();
  Status s = Driver::check(
      api().cuFuncSetAttribute(functions[kernel],
                               cuda::kFuncMaxDynamicSharedSizeBytes,
                               static_cast<int>(bytes)),
      "cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)");
  if (!s.isOk())
    return Status::error(std::to_string(bytes) +
                         " bytes of shared memory: " + s.message());
  sharedAllowed[kernel] = bytes;
  return Status::ok();
}

Status CudaBackend::callLibrary(const LibraryCall &call) {
  if (cuda::isMatmulRoutine(call.routine))
    return multiply(call);
  if (cuda::isConvRoutine(call.routine))
    return convolve(call);
  return Status::error("the CUDA device has no library routine '" +
                       call.routine +
                       "' (it has matmul_f32, matmul_bf16, "
                       "batch_matmul_f32, batch_matmul_bf16, conv2d_f32, "
                       "conv2d_bf16, conv2d_grouped_f32, conv2d_grouped_bf16)");
}

Status CudaBackend::multiply(const LibraryCall &call) {
  auto plan = cuda::planMatmul(call);
  if (!plan.isOk())
    return plan.status();
  if (plan->work == cuda::MatmulPlan::Work::None)
    return Status::ok();
  if (Status s = context->bind(); !s.isOk())
    return s;
  cuda::LtMatmul *lt = nullptr;
  {
    std::lock_guard<std::mutex> lock(blasMutex);
    if (!blas) {
      auto loaded = cuda::LtMatmul::load(api());
      if (!loaded.isOk())
        return loaded.status();
      blas = std::move(*loaded);
    }
    lt = blas.get();
  }
  return lt->run(*plan, stream);
}

Status CudaBackend::convolve(const LibraryCall &call) {
  auto plan = cuda::planConv(call);
  if (!plan.isOk())
    return plan.status();
  if (plan->work == cuda::ConvPlan::Work::None)
    return Status::ok();
  if (Status s = context->bind(); !s.isOk())
    return s;
  cuda::CudnnConv *conv = nullptr;
  {
    std::lock_guard<std::mutex> lock(dnnMutex);
    if (!dnn) {
      auto loaded = cuda::CudnnConv::load(api());
      if (!loaded.isOk())
        return loaded.status();
      dnn = std::move(*loaded);
    }
    conv = dnn.get();
  }
  return conv->run(*plan, stream);
}

Status CudaBackend::copyOnDevice(DevicePtr dst, DevicePtr src, size_t bytes) {
  if (dst == src || bytes == 0)
    return Status::ok();
  if (Status s = context->bind(); !s.isOk())
    return s;
  bool overlap = dst < src + bytes && src < dst + bytes;
  if (!overlap)
    return Driver::check(api().cuMemcpyDtoDAsync(dst, src, bytes, stream),
                         "cuMemcpyDtoDAsync");
  // The driver's copies do not promise memmove semantics (the emulated GPU
  // has them): go through a scratch buffer.
  auto scratch = allocate(bytes);
  if (!scratch.isOk())
    return scratch.status();
  Status s =
      Driver::check(api().cuMemcpyDtoDAsync(*scratch, src, bytes, stream),
                    "cuMemcpyDtoDAsync");
  if (s.isOk())
    s = Driver::check(api().cuMemcpyDtoDAsync(dst, *scratch, bytes, stream),
                      "cuMemcpyDtoDAsync");
  free(*scratch); // after the stream is done with it
  return s;
}

class CudaDevice final : public Device {
public:
  explicit CudaDevice(std::shared_ptr<CudaContext> context)
      : context(std::move(context)) {}

  DeviceKind kind() const override { return DeviceKind::Cuda; }
  std::string name() const override { return context->name; }

  Status checkCompatible(const Artifact &artifact) const override {
    if (artifact.target() != "cuda")
      return Status::error("'" + artifact.path() +
                           "' was compiled for target '" + artifact.target() +
                           "', not for a CUDA GPU (cuda)");
    std::set<std::string> checked;
    for (const GpuKernelSpec &kernel : artifact.kernels()) {
      if (!checked.insert(kernel.module).second)
        continue;
      auto code = chooseGpuModuleCode(artifact.sections(), kernel.module,
                                      context->info.major, context->info.minor);
      if (!code.isOk())
        return Status::error("'" + artifact.path() + "' cannot run on " +
                             context->name + ": " + code.status().message());
    }
    return Status::ok();
  }

  StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const Artifact &artifact) override {
    auto backend =
        createCudaBackend(*this, artifact.sections(), artifact.kernels());
    if (!backend.isOk())
      return Status::error("loading '" + artifact.path() + "' on " +
                           context->name + ": " + backend.status().message());
    return createScheduleExecutable(artifact, std::move(*backend));
  }

  StatusOr<std::unique_ptr<Buffer>> allocate(size_t bytes) override {
    CUdeviceptr pointer = 0;
    if (bytes) {
      Status s = context->bind();
      if (s.isOk())
        s = Driver::check(context->api().cuMemAlloc(&pointer, bytes),
                          "cuMemAlloc");
      if (!s.isOk())
        return Status::error("allocating " + std::to_string(bytes) +
                             " bytes on " + context->name + ": " + s.message());
    }
    return std::unique_ptr<Buffer>(new CudaBuffer(context, pointer, bytes));
  }

  std::unique_ptr<Stream> createStream() override {
    return std::make_unique<CudaStream>(context);
  }

  /// The GPU's parallelism is the launches' grids; no host worker threads.
  void setThreadCount(int) override {}

  const std::shared_ptr<CudaContext> context;
};

/// An architecture name: "sm_90" (a cubin), "compute_80" (PTX); "sm_90a"
/// and "compute_90a" use features of exactly that GPU.
struct Arch {
  bool ptx = false;
  int number = 0; // 10 * major + minor
  bool exact = false;
};

std::optional<Arch> parseArch(const std::string &name) {
  Arch arch;
  std::string rest;
  if (name.rfind("sm_", 0) == 0) {
    rest = name.substr(3);
  } else if (name.rfind("compute_", 0) == 0) {
    arch.ptx = true;
    rest = name.substr(8);
  } else {
    return std::nullopt;
  }
  size_t digits = 0;
  while (digits < rest.size() &&
         std::isdigit(static_cast<unsigned char>(rest[digits])))
    ++digits;
  if (digits == 0 || digits > 4)
    return std::nullopt;
  arch.number = std::atoi(rest.substr(0, digits).c_str());
  std::string suffix = rest.substr(digits);
  if (suffix == "a" || suffix == "f")
    arch.exact = true;
  else if (!suffix.empty())
    return std::nullopt;
  return arch;
}

/// The ordinal in $VITC_CUDA_DEVICE, else 0.
StatusOr<int> defaultOrdinal() {
  const char *env = std::getenv("VITC_CUDA_DEVICE");
  if (!env || !*env)
    return 0;
  char *end = nullptr;
  errno = 0;
  long value = std::strtol(env, &end, 10);
  if (*end || errno || value < 0 || value > 1 << 16)
    return Status::error("invalid VITC_CUDA_DEVICE '" + std::string(env) +
                         "' (expected a GPU ordinal: 0, 1, ...)");
  return static_cast<int>(value);
}

} // namespace

StatusOr<const Section *>
chooseGpuModuleCode(const std::vector<Section> &sections,
                    const std::string &module, int major, int minor) {
  int capability = 10 * major + minor;
  const Section *cubin = nullptr, *ptx = nullptr;
  int ptxNumber = -1;
  std::string present;
  for (const Section &section : sections) {
    if (section.kind != "gpu-module" || section.name != module)
      continue;
    present += (present.empty() ? "" : ", ") + section.arch;
    std::optional<Arch> arch = parseArch(section.arch);
    if (!arch)
      continue;
    if (!arch->ptx) {
      // A cubin runs on the GPU it was built for; we take no other.
      if (arch->number == capability && !cubin)
        cubin = &section;
    } else if (arch->exact ? arch->number == capability
                           : arch->number <= capability) {
      // The driver compiles PTX for its GPU when the GPU is as new or newer.
      if (arch->number > ptxNumber) {
        ptx = &section;
        ptxNumber = arch->number;
      }
    }
  }
  if (cubin)
    return cubin;
  if (ptx)
    return ptx;
  std::string gpu = std::to_string(capability);
  if (present.empty())
    return Status::error("GPU module '" + module +
                         "' has no code (no gpu-module section of that name)");
  return Status::error("GPU module '" + module + "' has code for " + present +
                       " only; a GPU of sm_" + gpu + " needs a cubin for sm_" +
                       gpu + " or PTX for compute_" + gpu +
                       " or older (compile with --gpu-arch sm_" + gpu + ")");
}

StatusOr<std::shared_ptr<GpuBackend>>
createCudaBackend(Device &device, const std::vector<Section> &sections,
                  const std::vector<GpuKernelSpec> &kernels) {
  if (device.kind() != DeviceKind::Cuda)
    return Status::error(device.name() + " is not a CUDA device");
  auto backend =
      std::make_shared<CudaBackend>(static_cast<CudaDevice &>(device).context);
  if (Status s = backend->load(sections, kernels); !s.isOk())
    return s;
  return std::shared_ptr<GpuBackend>(std::move(backend));
}

StatusOr<std::shared_ptr<Device>>
createCudaDevice(int ordinal, const std::string &driverPath) {
  auto loaded = Driver::load(driverPath);
  if (!loaded.isOk())
    return loaded.status();
  Driver &driver = **loaded;
  std::string unusable = "cannot use the CUDA driver '" + driver.path() + "': ";
  if (Status s = driver.init(); !s.isOk())
    return Status::error(unusable + s.message());
  auto count = driver.deviceCount();
  if (!count.isOk())
    return Status::error(unusable + count.status().message());
  if (*count == 0)
    return Status::error("no CUDA GPU on this machine (the driver '" +
                         driver.path() + "' reports none)");
  if (ordinal < 0) {
    auto chosen = defaultOrdinal();
    if (!chosen.isOk())
      return chosen.status();
    ordinal = *chosen;
  }
  if (ordinal >= *count)
    return Status::error("no CUDA GPU cuda:" + std::to_string(ordinal) +
                         ": this machine has " + std::to_string(*count) +
                         " (cuda:0 to cuda:" + std::to_string(*count - 1) +
                         ")");
  auto info = driver.device(ordinal);
  if (!info.isOk())
    return Status::error("cuda:" + std::to_string(ordinal) + ": " +
                         info.status().message());
  const cuda::DriverApi &api = driver.api();
  CUdevice device = 0;
  CUcontext context = nullptr;
  Status s = Driver::check(api.cuDeviceGet(&device, ordinal), "cuDeviceGet");
  if (s.isOk())
    s = Driver::check(api.cuDevicePrimaryCtxRetain(&context, device),
                      "cuDevicePrimaryCtxRetain");
  if (!s.isOk())
    return Status::error("cuda:" + std::to_string(ordinal) + " (" + info->name +
                         "): " + s.message());
  auto shared = std::make_shared<CudaContext>(
      std::move(*loaded), std::move(*info), device, context);
  return std::shared_ptr<Device>(
      std::make_shared<CudaDevice>(std::move(shared)));
}

} // namespace vitc::rt
