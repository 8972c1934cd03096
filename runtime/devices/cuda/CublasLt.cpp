//===- CublasLt.cpp - cuBLASLt, loaded at run time ------------------------===//
#include "CublasLt.h"
#include "VendorLibrary.h"

#include <cstdlib>
#include <dlfcn.h>
#include <vector>

namespace vitc::cuda {

using rt::Status;
using rt::StatusOr;

namespace {

struct StatusInfo {
  cublasStatus_t code;
  const char *name, *description;
};

// cublas_api.h's cublasStatus_t values, with what they mean.
constexpr StatusInfo kStatuses[] = {
    {0, "CUBLAS_STATUS_SUCCESS", "no error"},
    {1, "CUBLAS_STATUS_NOT_INITIALIZED",
     "cuBLASLt could not initialise (no GPU, no driver, or no current "
     "context)"},
    {3, "CUBLAS_STATUS_ALLOC_FAILED", "cuBLASLt could not allocate memory"},
    {7, "CUBLAS_STATUS_INVALID_VALUE", "an argument or a layout is not valid"},
    {8, "CUBLAS_STATUS_ARCH_MISMATCH",
     "the GPU lacks a feature the operation needs"},
    {11, "CUBLAS_STATUS_MAPPING_ERROR", "accessing GPU memory failed"},
    {13, "CUBLAS_STATUS_EXECUTION_FAILED", "the GPU program failed to run"},
    {14, "CUBLAS_STATUS_INTERNAL_ERROR",
     "an internal cuBLASLt operation failed"},
    {15, "CUBLAS_STATUS_NOT_SUPPORTED",
     "the operation or its configuration is not supported"},
    {16, "CUBLAS_STATUS_LICENSE_ERROR", "cuBLASLt's license check failed"},
};

const StatusInfo *find(cublasStatus_t status) {
  for (const StatusInfo &s : kStatuses)
    if (s.code == status)
      return &s;
  return nullptr;
}

} // namespace

std::string cublasStatusName(cublasStatus_t status) {
  const StatusInfo *s = find(status);
  return s ? s->name : "cuBLAS status " + std::to_string(status);
}

const char *cublasStatusDescription(cublasStatus_t status) {
  const StatusInfo *s = find(status);
  return s ? s->description : "";
}

Status CublasLt::check(cublasStatus_t status, const char *call) {
  if (status == kCublasSuccess)
    return Status::ok();
  std::string text = std::string(call) + ": " + cublasStatusName(status) +
                     " (" + std::to_string(status) + ")";
  if (*cublasStatusDescription(status))
    text += std::string(": ") + cublasStatusDescription(status);
  return Status::error(text);
}

StatusOr<std::unique_ptr<CublasLt>> CublasLt::load(const std::string &path) {
  // An explicit library is the only one tried; by default the soname of
  // the cuBLASLt we were written against, then whatever the unversioned
  // name points to (the ABI we use is the same since cuBLAS 11).
  auto opened = openVendorLibrary("cuBLASLt", path, "VITC_CUBLASLT",
                                  {"libcublasLt.so.13", "libcublasLt.so"});
  if (!opened.isOk())
    return opened.status();
  auto [handle, library] = *opened;
  std::unique_ptr<CublasLt> lt(new CublasLt(handle, library));
  CublasLtApi &a = lt->api_;
#define VITC_LT_ENTRY(name)                                                    \
  VendorSymbol { reinterpret_cast<void **>(&a.name), #name }
  const std::vector<VendorSymbol> entries = {
      VITC_LT_ENTRY(cublasLtCreate),
      VITC_LT_ENTRY(cublasLtDestroy),
      VITC_LT_ENTRY(cublasLtMatmulDescCreate),
      VITC_LT_ENTRY(cublasLtMatmulDescDestroy),
      VITC_LT_ENTRY(cublasLtMatmulDescSetAttribute),
      VITC_LT_ENTRY(cublasLtMatmulDescGetAttribute),
      VITC_LT_ENTRY(cublasLtMatrixLayoutCreate),
      VITC_LT_ENTRY(cublasLtMatrixLayoutDestroy),
      VITC_LT_ENTRY(cublasLtMatrixLayoutSetAttribute),
      VITC_LT_ENTRY(cublasLtMatrixLayoutGetAttribute),
      VITC_LT_ENTRY(cublasLtMatmulPreferenceCreate),
      VITC_LT_ENTRY(cublasLtMatmulPreferenceDestroy),
      VITC_LT_ENTRY(cublasLtMatmulPreferenceSetAttribute),
      VITC_LT_ENTRY(cublasLtMatmulAlgoGetHeuristic),
      VITC_LT_ENTRY(cublasLtMatmul),
  };
#undef VITC_LT_ENTRY
  if (Status s = resolveVendorSymbols(handle, "cuBLASLt", library, entries,
                                      "it is not cuBLASLt, or older than this runtime needs");
      !s.isOk())
    return s;
  return lt;
}

CublasLt::~CublasLt() { dlclose(handle_); }

} // namespace vitc::cuda
