//===- CublasLt.h - cuBLASLt, loaded at run time ----------------*- C++ -*-===//
//
// The CUDA device runs a schedule's matmul calls with cuBLASLt (LtMatmul.h).
// Like the driver (CudaDriver.h), the library is loaded with dlopen and
// resolved through our own symbol table: the runtime builds without the
// CUDA toolkit, and a machine without cuBLASLt fails a matmul with one clear
// line instead of a loader error. Every failed call becomes a Status naming
// the call and the status by name, from our own table.
//
// The types and enum values are cuBLASLt's ABI (cublasLt.h, cublas_api.h,
// library_types.h), declared here so this compiles without the CUDA headers;
// the unit tests compare them with the toolkit's headers where it is
// installed.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CUBLASLT_H
#define VITC_DEVICES_CUDA_CUBLASLT_H

#include "CudaDriver.h"
#include "vitc/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vitc::cuda {

using cublasStatus_t = int;
using cublasLtHandle_t = struct cublasLtContext *;
/// The descriptors are opaque to us: pointers to cuBLASLt's own structs.
using cublasLtMatmulDesc_t = struct cublasLtMatmulDescOpaque *;
using cublasLtMatrixLayout_t = struct cublasLtMatrixLayoutOpaque *;
using cublasLtMatmulPreference_t = struct cublasLtMatmulPreferenceOpaque *;

/// An algorithm chosen by the heuristic; trivially copyable (we cache it).
struct cublasLtMatmulAlgo_t {
  uint64_t data[8];
};

struct cublasLtMatmulHeuristicResult_t {
  cublasLtMatmulAlgo_t algo;
  size_t workspaceSize;
  cublasStatus_t state;
  float wavesCount;
  int reserved[4];
};

constexpr cublasStatus_t kCublasSuccess = 0;
constexpr cublasStatus_t kCublasNotInitialized = 1;

/// cudaDataType_t.
constexpr int kCudaR32F = 0, kCudaR16BF = 14;
/// cublasComputeType_t: CUBLAS_COMPUTE_32F, true fp32 arithmetic (no TF32:
/// results must stay within 1e-3 of onnxruntime's).
constexpr int kCublasCompute32F = 68;
/// cublasOperation_t.
constexpr int32_t kCublasOpN = 0, kCublasOpT = 1;
/// cublasLtMatmulDescAttributes_t (values int32_t).
constexpr int kMatmulDescTransA = 3, kMatmulDescTransB = 4;
/// cublasLtMatrixLayoutAttribute_t: the order is int32_t, rows and cols
/// uint64_t, the others int32_t (batch count) or int64_t.
constexpr int kLayoutOrder = 1, kLayoutRows = 2, kLayoutCols = 3, kLayoutLd = 4,
              kLayoutBatchCount = 5, kLayoutStridedBatchOffset = 6;
/// cublasLtOrder_t: our layouts are all column-major (the default).
constexpr int32_t kOrderCol = 0;
/// cublasLtMatmulPreferenceAttributes_t: the workspace is uint64_t, the
/// alignments uint32_t.
constexpr int kPrefMaxWorkspaceBytes = 1, kPrefMinAlignmentABytes = 5,
              kPrefMinAlignmentBBytes = 6, kPrefMinAlignmentCBytes = 7,
              kPrefMinAlignmentDBytes = 8;

/// "CUBLAS_STATUS_NOT_INITIALIZED", or "cuBLAS status <code>" for a code
/// not in the table.
std::string cublasStatusName(cublasStatus_t status);
/// What the status means, in a few words ("" for an unknown code).
const char *cublasStatusDescription(cublasStatus_t status);

/// The cuBLASLt entry points this runtime uses.
struct CublasLtApi {
  cublasStatus_t (*cublasLtCreate)(cublasLtHandle_t *handle);
  cublasStatus_t (*cublasLtDestroy)(cublasLtHandle_t handle);
  cublasStatus_t (*cublasLtMatmulDescCreate)(cublasLtMatmulDesc_t *desc,
                                             int computeType, int scaleType);
  cublasStatus_t (*cublasLtMatmulDescDestroy)(cublasLtMatmulDesc_t desc);
  cublasStatus_t (*cublasLtMatmulDescSetAttribute)(cublasLtMatmulDesc_t desc,
                                                   int attribute,
                                                   const void *value,
                                                   size_t bytes);
  cublasStatus_t (*cublasLtMatmulDescGetAttribute)(cublasLtMatmulDesc_t desc,
                                                   int attribute, void *value,
                                                   size_t bytes,
                                                   size_t *written);
  cublasStatus_t (*cublasLtMatrixLayoutCreate)(cublasLtMatrixLayout_t *layout,
                                               int type, uint64_t rows,
                                               uint64_t cols, int64_t ld);
  cublasStatus_t (*cublasLtMatrixLayoutDestroy)(cublasLtMatrixLayout_t layout);
  cublasStatus_t (*cublasLtMatrixLayoutSetAttribute)(
      cublasLtMatrixLayout_t layout, int attribute, const void *value,
      size_t bytes);
  cublasStatus_t (*cublasLtMatrixLayoutGetAttribute)(
      cublasLtMatrixLayout_t layout, int attribute, void *value, size_t bytes,
      size_t *written);
  cublasStatus_t (*cublasLtMatmulPreferenceCreate)(
      cublasLtMatmulPreference_t *preference);
  cublasStatus_t (*cublasLtMatmulPreferenceDestroy)(
      cublasLtMatmulPreference_t preference);
  cublasStatus_t (*cublasLtMatmulPreferenceSetAttribute)(
      cublasLtMatmulPreference_t preference, int attribute, const void *value,
      size_t bytes);
  cublasStatus_t (*cublasLtMatmulAlgoGetHeuristic)(
      cublasLtHandle_t handle, cublasLtMatmulDesc_t desc,
      cublasLtMatrixLayout_t a, cublasLtMatrixLayout_t b,
      cublasLtMatrixLayout_t c, cublasLtMatrixLayout_t d,
      cublasLtMatmulPreference_t preference, int requested,
      cublasLtMatmulHeuristicResult_t *results, int *returned);
  cublasStatus_t (*cublasLtMatmul)(
      cublasLtHandle_t handle, cublasLtMatmulDesc_t desc, const void *alpha,
      const void *a, cublasLtMatrixLayout_t aLayout, const void *b,
      cublasLtMatrixLayout_t bLayout, const void *beta, const void *c,
      cublasLtMatrixLayout_t cLayout, void *d, cublasLtMatrixLayout_t dLayout,
      const cublasLtMatmulAlgo_t *algo, void *workspace, size_t workspaceBytes,
      CUstream stream);
};

/// The loaded library.
class CublasLt {
public:
  /// Loads `path`, else $VITC_CUBLASLT, else libcublasLt.so.13, then
  /// libcublasLt.so, and resolves every entry point. An error names the
  /// library and what failed ("cuBLASLt is not available: ...").
  static rt::StatusOr<std::unique_ptr<CublasLt>>
  load(const std::string &path = "");
  ~CublasLt();
  CublasLt(const CublasLt &) = delete;
  CublasLt &operator=(const CublasLt &) = delete;

  /// OK for success, else "<call>: <status name> (<code>): <description>".
  static rt::Status check(cublasStatus_t status, const char *call);

  const std::string &path() const { return path_; }
  const CublasLtApi &api() const { return api_; }

private:
  CublasLt(void *handle, std::string path)
      : handle_(handle), path_(std::move(path)) {}

  void *handle_;
  std::string path_;
  CublasLtApi api_{};
};

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_CUBLASLT_H
