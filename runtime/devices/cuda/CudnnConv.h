//===- CudnnConv.h - the CUDA device's convolutions on cuDNN ----*- C++ -*-===//
//
// Runs ConvPlans (ConvPlan.h) with cuDNN (Cudnn.h) on a stream: one handle,
// created on first use (cudnnCreate needs a GPU) and bound to the stream;
// one scratch allocation (the algorithms' workspace and any staged
// tensors), grown on demand; and per distinct problem the descriptors and
// the algorithm the heuristic chose, cached: a schedule runs the same
// convolutions every call.
//
// bf16: cuDNN's legacy API computes bf16 x and w only into a bf16 y
// (PSEUDO_BFLOAT16_CONFIG: float arithmetic on tensor cores), and has no
// convolution into an f32 y from bf16 inputs. So the convolution writes a
// packed bf16 scratch tensor, and cudnnTransformTensor, which in cuDNN 9
// converts between data types and layouts (libcudnn_engines_precompiled
// has its bf16-to-float kernels; cudnnAddTensor insists on equal types),
// computes y = scratch (+ y when accumulating). The one cost is the
// product's rounding to bf16 (a relative error of at most 2^-9), against
// the CPU kernels' f32 output.
//
// Strided x and y are described to cuDNN as they are. Should the heuristic
// find no algorithm for them, the plan runs on packed copies instead
// (staged): x transformed into packed scratch first, y written to packed
// scratch and transformed into place after, both with cudnnTransformTensor.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CUDNNCONV_H
#define VITC_DEVICES_CUDA_CUDNNCONV_H

#include "ConvPlan.h"
#include "CudaDriver.h"
#include "Cudnn.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vitc::cuda {

/// A cuDNN handle. Creating one needs a GPU and a current context;
/// without them cudnnCreate answers CUDNN_STATUS_NOT_INITIALIZED.
class CudnnHandle {
public:
  static rt::StatusOr<std::unique_ptr<CudnnHandle>> create(const Cudnn &dnn);
  ~CudnnHandle();
  CudnnHandle(const CudnnHandle &) = delete;
  CudnnHandle &operator=(const CudnnHandle &) = delete;
  cudnnHandle_t get() const { return handle; }
  /// Makes the handle's work go to `stream` (cudnnSetStream, once per
  /// stream change).
  rt::Status bind(CUstream stream);

private:
  CudnnHandle(const Cudnn &dnn, cudnnHandle_t handle)
      : dnn(dnn), handle(handle) {}
  const Cudnn &dnn;
  cudnnHandle_t handle;
  CUstream stream = nullptr;
  bool bound = false;
};

/// Which of x and y the convolution reads and writes as packed scratch
/// copies rather than in place.
struct Staging {
  bool input = false, output = false;
};

/// A plan's descriptors: the convolution (pads, strides, dilations, group
/// count, math type), the filter, the call's x and y, and the packed
/// scratch tensors of a staging. They need no handle or GPU.
class ConvDescriptors {
public:
  static rt::StatusOr<std::unique_ptr<ConvDescriptors>>
  create(const Cudnn &dnn, const ConvPlan &plan, Staging staging);
  ~ConvDescriptors();
  ConvDescriptors(const ConvDescriptors &) = delete;
  ConvDescriptors &operator=(const ConvDescriptors &) = delete;

  /// What the convolution reads and writes.
  cudnnTensorDescriptor_t convInput() const { return xScratch ? xScratch : x; }
  cudnnTensorDescriptor_t convOutput() const { return yScratch ? yScratch : y; }

  cudnnConvolutionDescriptor_t conv = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  /// Packed NCHW of the plan's data type; null unless staged.
  cudnnTensorDescriptor_t xScratch = nullptr, yScratch = nullptr;

private:
  explicit ConvDescriptors(const Cudnn &dnn) : dnn(dnn) {}
  const Cudnn &dnn;
};

/// Runs convolutions on one stream. The caller makes the context current
/// around every call, the destructor included, and runs one call at a time
/// per stream (the scratch memory is shared by the stream's convolutions).
class CudnnConv {
public:
  /// Loads cuDNN (Cudnn::load(path)); `driver` allocates the scratch memory
  /// and must outlive this.
  static rt::StatusOr<std::unique_ptr<CudnnConv>>
  load(const DriverApi &driver, const std::string &path = "");
  ~CudnnConv();
  CudnnConv(const CudnnConv &) = delete;
  CudnnConv &operator=(const CudnnConv &) = delete;

  /// Enqueues `plan` on `stream`. Errors name the problem and the failed
  /// call ("cuDNN, input 2x3x8x8, ...: cudnnConvolutionForward: ...").
  rt::Status run(const ConvPlan &plan, CUstream stream);

  /// The most workspace an algorithm may ask for: FFT-based ones can want
  /// gigabytes, which the schedule's own memory plan does not leave.
  static constexpr size_t kMaxWorkspaceBytes = size_t(256) << 20;

private:
  CudnnConv(std::unique_ptr<Cudnn> library, const DriverApi &driver)
      : library(std::move(library)), driver(driver) {}

  /// What a problem needs once: descriptors, the chosen algorithm, and
  /// where its workspace and staged tensors lie in the scratch memory.
  struct Prepared {
    std::unique_ptr<ConvDescriptors> descriptors;
    int algo = 0;
    size_t workspaceBytes = 0;
    size_t xOffset = 0, yOffset = 0, scratchBytes = 0;
  };

  rt::Status reserveScratch(size_t bytes, CUstream stream);
  rt::StatusOr<const Prepared *> prepare(const ConvPlan &plan);
  rt::Status choose(const ConvPlan &plan, Prepared &prepared);

  std::unique_ptr<Cudnn> library; // outlives everything made with it
  const DriverApi &driver;
  std::mutex mutex;
  std::unique_ptr<CudnnHandle> handle;
  CUdeviceptr scratch = 0;
  size_t scratchBytes = 0;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> cache;
};

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_CUDNNCONV_H
