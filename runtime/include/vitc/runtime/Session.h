//===- Session.h - run a loaded artifact on a device -------------*- C++ -*-===//
#ifndef VITC_RUNTIME_SESSION_H
#define VITC_RUNTIME_SESSION_H

#include "vitc/runtime/Artifact.h"
#include "vitc/runtime/Device.h"

#include <memory>
#include <vector>

namespace vitc::rt {

/// Caller-owned input memory, C order.
struct TensorView {
  DType dtype;
  std::vector<int64_t> shape;
  const void *data;
};

/// An output: contiguous C-order memory owned by the tensor.
class OwnedTensor {
public:
  OwnedTensor(DType dtype, std::vector<int64_t> shape, void *data)
      : dtype(dtype), shape(std::move(shape)), data_(data) {}
  OwnedTensor(OwnedTensor &&other) noexcept
      : dtype(other.dtype), shape(std::move(other.shape)),
        data_(other.release()) {}
  OwnedTensor &operator=(OwnedTensor &&) = delete;
  ~OwnedTensor();
  void *data() const { return data_; }
  /// Gives up ownership; free the memory with std::free.
  void *release() {
    void *data = data_;
    data_ = nullptr;
    return data;
  }
  size_t numElements() const;

  DType dtype;
  std::vector<int64_t> shape;

private:
  void *data_;
};

class Session {
public:
  /// Checks that `device` can run `artifact` and loads its code.
  static StatusOr<std::unique_ptr<Session>>
  create(std::shared_ptr<Artifact> artifact, std::shared_ptr<Device> device);

  const Artifact &artifact() const { return *artifact_; }
  Device &device() { return *device_; }
  /// The loaded code (vitc_session runs it on its own bindings).
  Executable &executable() { return *executable_; }
  /// Executable::peakDeviceBytes of the loaded code.
  int64_t peakDeviceBytes() const { return executable_->peakDeviceBytes(); }

  /// Checks the inputs against function #`function` of the manifest (count,
  /// dtype, static dims; a dynamic dim binds to the given size) and runs it.
  /// Outputs come in the function's output order.
  Status run(size_t function, const std::vector<TensorView> &inputs,
             std::vector<OwnedTensor> &outputs);
  /// Runs function #0 ("main" of an inference artifact).
  Status run(const std::vector<TensorView> &inputs,
             std::vector<OwnedTensor> &outputs) {
    return run(0, inputs, outputs);
  }

private:
  Session() = default;
  Status checkInputs(const FunctionSpec &function,
                     const std::vector<TensorView> &inputs) const;

  std::shared_ptr<Artifact> artifact_;
  std::shared_ptr<Device> device_;
  std::unique_ptr<Executable> executable_;
  std::unique_ptr<Stream> stream_;
};

} // namespace vitc::rt

#endif // VITC_RUNTIME_SESSION_H
