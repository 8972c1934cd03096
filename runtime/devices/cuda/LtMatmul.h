//===- LtMatmul.h - the CUDA device's matmuls on cuBLASLt -------*- C++ -*-===//
//
// Runs MatmulPlans (MatmulPlan.h) with cuBLASLt (CublasLt.h) on a stream:
// one handle, created on first use (cublasLtCreate needs a GPU), one
// workspace, and per distinct problem the descriptors and the algorithm the
// heuristic chose, cached: a schedule runs the same matmuls every call.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_LTMATMUL_H
#define VITC_DEVICES_CUDA_LTMATMUL_H

#include "CublasLt.h"
#include "CudaDriver.h"
#include "MatmulPlan.h"

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vitc::cuda {

/// A cuBLASLt handle. Creating one needs a GPU and a current context;
/// without them cublasLtCreate answers CUBLAS_STATUS_NOT_INITIALIZED.
class LtHandle {
public:
  static rt::StatusOr<std::unique_ptr<LtHandle>> create(const CublasLt &lt);
  ~LtHandle();
  LtHandle(const LtHandle &) = delete;
  LtHandle &operator=(const LtHandle &) = delete;
  cublasLtHandle_t get() const { return handle; }

private:
  LtHandle(const CublasLt &lt, cublasLtHandle_t handle)
      : lt(lt), handle(handle) {}
  const CublasLt &lt;
  cublasLtHandle_t handle;
};

/// A plan's operation descriptor (compute type, transposes) and the layouts
/// of cuBLASLt's A, B and C (also D). They need no handle or GPU.
class LtDescriptors {
public:
  static rt::StatusOr<std::unique_ptr<LtDescriptors>>
  create(const CublasLt &lt, const MatmulPlan &plan);
  ~LtDescriptors();
  LtDescriptors(const LtDescriptors &) = delete;
  LtDescriptors &operator=(const LtDescriptors &) = delete;

  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;

private:
  explicit LtDescriptors(const CublasLt &lt) : lt(lt) {}
  const CublasLt &lt;
};

/// Runs matmuls on one stream. The caller makes the context current
/// around every call, the destructor included, and runs one call at a time
/// per stream (the workspace is shared by the stream's matmuls).
class LtMatmul {
public:
  /// Loads cuBLASLt (CublasLt::load(path)); `driver` allocates the
  /// workspace and must outlive this.
  static rt::StatusOr<std::unique_ptr<LtMatmul>>
  load(const DriverApi &driver, const std::string &path = "");
  ~LtMatmul();
  LtMatmul(const LtMatmul &) = delete;
  LtMatmul &operator=(const LtMatmul &) = delete;

  /// Enqueues `plan` on `stream`. Errors name the problem and the failed
  /// call ("cuBLASLt, m=4 n=8 k=16: cublasLtMatmul: CUBLAS_STATUS_...").
  rt::Status run(const MatmulPlan &plan, CUstream stream);

  /// The device memory cuBLASLt may use per matmul (Hopper's kernels want
  /// up to 32 MiB).
  static constexpr size_t kWorkspaceBytes = size_t(32) << 20;

private:
  LtMatmul(std::unique_ptr<CublasLt> library, const DriverApi &driver)
      : library(std::move(library)), driver(driver) {}

  /// What a problem needs once: descriptors and the heuristic's algorithm.
  struct Prepared {
    std::unique_ptr<LtDescriptors> descriptors;
    cublasLtMatmulAlgo_t algo;
  };

  rt::Status createHandleAndWorkspace();
  rt::Status provideZeros(size_t bytes, CUstream stream);
  rt::StatusOr<const Prepared *> prepare(const MatmulPlan &plan);

  std::unique_ptr<CublasLt> library; // outlives everything made with it
  const DriverApi &driver;
  std::mutex mutex;
  std::unique_ptr<LtHandle> handle;
  CUdeviceptr workspace = 0;
  /// Zeros that k = 0 products read (MatmulPlan::Work::Zeros), grown on
  /// demand.
  CUdeviceptr zeros = 0;
  size_t zeroBytes = 0;
  std::unordered_map<std::string, std::unique_ptr<Prepared>> cache;
};

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_LTMATMUL_H
