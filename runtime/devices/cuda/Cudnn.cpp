//===- Cudnn.cpp - cuDNN, loaded at run time ------------------------------===//
#include "Cudnn.h"
#include "VendorLibrary.h"

#include <cstdlib>
#include <dlfcn.h>
#include <vector>

namespace vitc::cuda {

using rt::Status;
using rt::StatusOr;

namespace {

struct StatusInfo {
  cudnnStatus_t code;
  const char *name, *description;
};

// cudnn_graph_v9.h's cudnnStatus_t values (cuDNN 9 numbers them by
// category: 1000s uncategorized, 2000s bad parameters, 3000s not supported,
// 4000s internal errors, 5000s execution failures).
constexpr StatusInfo kStatuses[] = {
    {0, "CUDNN_STATUS_SUCCESS", "no error"},
    {1001, "CUDNN_STATUS_NOT_INITIALIZED",
     "cuDNN could not initialise (no GPU, no driver, or no current context)"},
    {1002, "CUDNN_STATUS_SUBLIBRARY_VERSION_MISMATCH",
     "cuDNN's sub-libraries are of different versions"},
    {1003, "CUDNN_STATUS_SERIALIZATION_VERSION_MISMATCH",
     "a serialized plan is of another cuDNN version"},
    {1004, "CUDNN_STATUS_DEPRECATED", "the feature is deprecated"},
    {1005, "CUDNN_STATUS_LICENSE_ERROR", "cuDNN's license check failed"},
    {1006, "CUDNN_STATUS_RUNTIME_IN_PROGRESS", "a kernel is still running"},
    {1007, "CUDNN_STATUS_RUNTIME_FP_OVERFLOW",
     "a floating-point overflow occurred"},
    {1008, "CUDNN_STATUS_SUBLIBRARY_LOADING_FAILED",
     "a cuDNN sub-library (libcudnn_*.so.9) could not be loaded"},
    {2000, "CUDNN_STATUS_BAD_PARAM",
     "an argument or a descriptor is not valid"},
    {2001, "CUDNN_STATUS_INVALID_VALUE", "an argument is not valid"},
    {2002, "CUDNN_STATUS_BAD_PARAM_NULL_POINTER", "a pointer is null"},
    {2003, "CUDNN_STATUS_BAD_PARAM_MISALIGNED_POINTER",
     "a pointer is not aligned as required"},
    {2004, "CUDNN_STATUS_BAD_PARAM_NOT_FINALIZED",
     "a descriptor is not finalized"},
    {2005, "CUDNN_STATUS_BAD_PARAM_OUT_OF_BOUND", "a value is out of bounds"},
    {2006, "CUDNN_STATUS_BAD_PARAM_SIZE_INSUFFICIENT",
     "a buffer (the workspace?) is too small"},
    {2007, "CUDNN_STATUS_BAD_PARAM_STREAM_MISMATCH",
     "the stream does not match the handle's"},
    {2008, "CUDNN_STATUS_BAD_PARAM_SHAPE_MISMATCH", "the shapes do not match"},
    {2009, "CUDNN_STATUS_BAD_PARAM_DUPLICATED_ENTRIES",
     "an entry is duplicated"},
    {2010, "CUDNN_STATUS_BAD_PARAM_ATTRIBUTE_TYPE",
     "an attribute has the wrong type"},
    {2011, "CUDNN_STATUS_BAD_PARAM_CUDA_GRAPH_MISMATCH",
     "the CUDA graph does not match"},
    {2012, "CUDNN_STATUS_BAD_PARAM_DESCRIPTOR_TYPE",
     "a descriptor has the wrong type"},
    {3000, "CUDNN_STATUS_NOT_SUPPORTED",
     "the operation or its configuration is not supported"},
    {3001, "CUDNN_STATUS_NOT_SUPPORTED_GRAPH_PATTERN",
     "the operation graph is not supported"},
    {3002, "CUDNN_STATUS_NOT_SUPPORTED_SHAPE", "the shape is not supported"},
    {3003, "CUDNN_STATUS_NOT_SUPPORTED_DATA_TYPE",
     "the data type is not supported"},
    {3004, "CUDNN_STATUS_NOT_SUPPORTED_LAYOUT",
     "the memory layout is not supported"},
    {3005, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDA_DRIVER",
     "the CUDA driver is too old for this cuDNN"},
    {3006, "CUDNN_STATUS_NOT_SUPPORTED_INCOMPATIBLE_CUDART",
     "the CUDA runtime is incompatible with this cuDNN"},
    {3007, "CUDNN_STATUS_NOT_SUPPORTED_ARCH_MISMATCH",
     "the GPU lacks a feature the operation needs"},
    {3008, "CUDNN_STATUS_NOT_SUPPORTED_RUNTIME_PREREQUISITE_MISSING",
     "a library cuDNN needs is missing"},
    {3009, "CUDNN_STATUS_NOT_SUPPORTED_SUBLIBRARY_UNAVAILABLE",
     "the cuDNN sub-library with this operation is missing"},
    {3010, "CUDNN_STATUS_NOT_SUPPORTED_SHARED_MEMORY_INSUFFICIENT",
     "the GPU has too little shared memory for the kernel"},
    {3011, "CUDNN_STATUS_NOT_SUPPORTED_PADDING",
     "the padding is not supported"},
    {3012, "CUDNN_STATUS_NOT_SUPPORTED_BAD_LAUNCH_PARAM",
     "the kernel's launch parameters are not supported"},
    {3013, "CUDNN_STATUS_NOT_SUPPORTED_CUDA_GRAPH_NATIVE_API",
     "CUDA graphs are not supported here"},
    {3014, "CUDNN_STATUS_NOT_SUPPORTED_INVALID_DYNAMIC_SHAPE",
     "the dynamic shape is not supported"},
    {4000, "CUDNN_STATUS_INTERNAL_ERROR", "an internal cuDNN operation failed"},
    {4001, "CUDNN_STATUS_INTERNAL_ERROR_COMPILATION_FAILED",
     "cuDNN failed to compile a kernel"},
    {4002, "CUDNN_STATUS_INTERNAL_ERROR_UNEXPECTED_VALUE",
     "cuDNN met an unexpected value"},
    {4003, "CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED",
     "cuDNN could not allocate host memory"},
    {4004, "CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED",
     "cuDNN could not allocate device memory"},
    {4005, "CUDNN_STATUS_INTERNAL_ERROR_BAD_LAUNCH_PARAM",
     "a kernel's launch parameters were rejected"},
    {4006, "CUDNN_STATUS_INTERNAL_ERROR_TEXTURE_CREATION_FAILED",
     "creating a texture failed"},
    {5000, "CUDNN_STATUS_EXECUTION_FAILED", "the GPU program failed to run"},
    {5001, "CUDNN_STATUS_EXECUTION_FAILED_CUDA_DRIVER",
     "a CUDA driver call failed"},
    {5002, "CUDNN_STATUS_EXECUTION_FAILED_CUBLAS", "a cuBLAS call failed"},
    {5003, "CUDNN_STATUS_EXECUTION_FAILED_CUDART",
     "a CUDA runtime call failed"},
    {5004, "CUDNN_STATUS_EXECUTION_FAILED_CURAND", "a cuRAND call failed"},
};

const StatusInfo *find(cudnnStatus_t status) {
  for (const StatusInfo &s : kStatuses)
    if (s.code == status)
      return &s;
  return nullptr;
}

} // namespace

std::string cudnnStatusName(cudnnStatus_t status) {
  const StatusInfo *s = find(status);
  return s ? s->name : "cuDNN status " + std::to_string(status);
}

const char *cudnnStatusDescription(cudnnStatus_t status) {
  const StatusInfo *s = find(status);
  return s ? s->description : "";
}

Status Cudnn::check(cudnnStatus_t status, const char *call,
                    const std::string &detail) {
  if (status == kCudnnSuccess)
    return Status::ok();
  std::string text = std::string(call) + ": " + cudnnStatusName(status) + " (" +
                     std::to_string(status) + ")";
  if (*cudnnStatusDescription(status))
    text += std::string(": ") + cudnnStatusDescription(status);
  if (!detail.empty())
    text += "; cuDNN: " + detail;
  return Status::error(text);
}

Status Cudnn::checkCall(cudnnStatus_t status, const char *call) const {
  if (status == kCudnnSuccess)
    return Status::ok();
  return check(status, call, takeLastError());
}

std::string Cudnn::takeLastError() const {
  char message[1024] = {};
  api_.cudnnGetLastErrorString(message, sizeof message);
  message[sizeof message - 1] = 0;
  // Several lines (a chain of failed checks) become one.
  std::string text;
  for (const char *c = message; *c; ++c) {
    if (*c != '\n')
      text += *c;
    else if (!text.empty() && c[1])
      text += "; ";
  }
  return text;
}

StatusOr<std::unique_ptr<Cudnn>> Cudnn::load(const std::string &path) {
  // An explicit library is the only one tried; by default the soname of
  // the cuDNN we were written against, then whatever the unversioned name
  // points to (a cuDNN 8 there lacks cudnnGetLastErrorString and is
  // refused below by name).
  auto opened = openVendorLibrary("cuDNN", path, "VITC_CUDNN",
                                  {"libcudnn.so.9", "libcudnn.so"});
  if (!opened.isOk())
    return opened.status();
  auto [handle, library] = *opened;
  std::unique_ptr<Cudnn> dnn(new Cudnn(handle, library));
  CudnnApi &a = dnn->api_;
#define VITC_DNN_ENTRY(name)                                                   \
  VendorSymbol { reinterpret_cast<void **>(&a.name), #name }
  const std::vector<VendorSymbol> entries = {
      VITC_DNN_ENTRY(cudnnCreate),
      VITC_DNN_ENTRY(cudnnDestroy),
      VITC_DNN_ENTRY(cudnnSetStream),
      VITC_DNN_ENTRY(cudnnGetLastErrorString),
      VITC_DNN_ENTRY(cudnnCreateTensorDescriptor),
      VITC_DNN_ENTRY(cudnnSetTensorNdDescriptor),
      VITC_DNN_ENTRY(cudnnGetTensorNdDescriptor),
      VITC_DNN_ENTRY(cudnnDestroyTensorDescriptor),
      VITC_DNN_ENTRY(cudnnCreateFilterDescriptor),
      VITC_DNN_ENTRY(cudnnSetFilterNdDescriptor),
      VITC_DNN_ENTRY(cudnnGetFilterNdDescriptor),
      VITC_DNN_ENTRY(cudnnDestroyFilterDescriptor),
      VITC_DNN_ENTRY(cudnnCreateConvolutionDescriptor),
      VITC_DNN_ENTRY(cudnnSetConvolutionNdDescriptor),
      VITC_DNN_ENTRY(cudnnGetConvolutionNdDescriptor),
      VITC_DNN_ENTRY(cudnnSetConvolutionGroupCount),
      VITC_DNN_ENTRY(cudnnGetConvolutionGroupCount),
      VITC_DNN_ENTRY(cudnnSetConvolutionMathType),
      VITC_DNN_ENTRY(cudnnGetConvolutionMathType),
      VITC_DNN_ENTRY(cudnnDestroyConvolutionDescriptor),
      VITC_DNN_ENTRY(cudnnGetConvolutionNdForwardOutputDim),
      VITC_DNN_ENTRY(cudnnGetConvolutionForwardAlgorithm_v7),
      VITC_DNN_ENTRY(cudnnGetConvolutionForwardWorkspaceSize),
      VITC_DNN_ENTRY(cudnnConvolutionForward),
      VITC_DNN_ENTRY(cudnnTransformTensor),
  };
#undef VITC_DNN_ENTRY
  if (Status s = resolveVendorSymbols(handle, "cuDNN", library, entries,
                                      "it is not cuDNN, or older than the cuDNN 9 this runtime needs");
      !s.isOk())
    return s;
  return dnn;
}

Cudnn::~Cudnn() { dlclose(handle_); }

} // namespace vitc::cuda
