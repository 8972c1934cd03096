//===- Device.h - devices, streams, buffers and loaded code ------*- C++ -*-===//
//
// The device abstraction the session runs on. CPU is implemented
// (CpuDevice); a CUDA device implements the same interface: its buffers are
// device memory, its streams CUDA streams, and its executables load the
// artifact's cubin for the GPU's architecture.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICE_H
#define VITC_RUNTIME_DEVICE_H

#include "vitc/runtime/Artifact.h"
#include "vitc/runtime/Status.h"

#include <cstddef>
#include <memory>
#include <string>

namespace vitc::rt {

class Device;

enum class DeviceKind { Cpu, Cuda, CudaEmulator };

/// Memory owned by a device.
class Buffer {
public:
  virtual ~Buffer() = default;
  virtual void *data() = 0;
  virtual size_t size() const = 0;
};

/// An ordered queue of work on a device.
class Stream {
public:
  virtual ~Stream() = default;
  /// Waits until all work submitted to the stream has finished.
  virtual Status synchronize() = 0;
};

/// The code of an artifact, loaded for one device, with the entries of all
/// its functions resolved.
class Executable {
public:
  virtual ~Executable() = default;
  /// Runs the packed entry of function #`function` (an index into
  /// Artifact::functions()): args[0] -> result descriptors, args[1] ->
  /// weights descriptor, args[2..] -> input descriptors.
  virtual Status invoke(size_t function, void **args, Stream &stream) = 0;
  /// The most device memory the executable has held at once (weights and
  /// every allocation of a call), in bytes; -1 where it does not count
  /// (the CPU, whose memory is the process's).
  virtual int64_t peakDeviceBytes() const { return -1; }
  /// Whether the code's heap allocations go through the thread's
  /// CodeAllocator (CodeAllocations.h), as sessions need for their arena.
  virtual bool codeAllocationsRedirected() const { return false; }
};

class Device {
public:
  virtual ~Device() = default;
  virtual DeviceKind kind() const = 0;
  /// E.g. "cpu (znver3)".
  virtual std::string name() const = 0;
  /// Whether this device can run `artifact` (target, CPU features or GPU
  /// architecture); the error says what is missing.
  virtual Status checkCompatible(const Artifact &artifact) const = 0;
  /// Loads the code; fails if an entry symbol is missing.
  virtual StatusOr<std::unique_ptr<Executable>>
  loadExecutable(const Artifact &artifact) = 0;
  virtual StatusOr<std::unique_ptr<Buffer>> allocate(size_t bytes) = 0;
  virtual std::unique_ptr<Stream> createStream() = 0;
  /// Worker threads for kernels (OpenMP / oneDNN on CPU); <= 0 = default.
  virtual void setThreadCount(int threads) = 0;
};

/// The host CPU.
std::unique_ptr<Device> createCpuDevice();

/// The device that runs artifacts of `target` ("cpu", "cuda-emulator",
/// "cuda"), shared by every model of the process; an error names the target
/// or why its device is missing (no CUDA driver, no GPU).
StatusOr<std::shared_ptr<Device>> deviceForTarget(const std::string &target);

/// Sets the thread count of every device deviceForTarget makes (<= 0: each
/// device's default).
void setDevicesThreadCount(int threads);

} // namespace vitc::rt

#endif // VITC_RUNTIME_DEVICE_H
