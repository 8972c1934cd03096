//===- Cudnn.h - cuDNN, loaded at run time ----------------------*- C++ -*-===//
//
// The CUDA device runs a schedule's convolution calls with cuDNN
// (CudnnConv.h). Like cuBLASLt (CublasLt.h), the library is loaded with
// dlopen and resolved through our own symbol table: the runtime builds
// without the CUDA toolkit, and a machine without cuDNN fails a convolution
// with one clear line instead of a loader error. Every failed call becomes a
// Status naming the call and the status by name, from our own table, with
// cuDNN's account of which of its checks failed where it has one.
//
// We use cuDNN 9's legacy convolution API (cudnn_cnn_v9.h, cudnn_ops_v9.h,
// cudnn_graph_v9.h): deprecated in favour of the graph API but present in
// every cuDNN 9, and enough for a forward convolution. The types and enum
// values are its ABI, declared here so this compiles without the CUDA
// headers; CudnnAbiTest.cpp compares them with the toolkit's headers where
// they are installed. Enums are passed as int (their size in the ABI).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_CUDNN_H
#define VITC_DEVICES_CUDA_CUDNN_H

#include "CudaDriver.h"
#include "vitc/runtime/Status.h"

#include <cstddef>
#include <memory>
#include <string>

namespace vitc::cuda {

using cudnnStatus_t = int;
using cudnnHandle_t = struct cudnnContext *;
/// The descriptors are opaque to us: pointers to cuDNN's own structs.
using cudnnTensorDescriptor_t = struct cudnnTensorStruct *;
using cudnnFilterDescriptor_t = struct cudnnFilterStruct *;
using cudnnConvolutionDescriptor_t = struct cudnnConvolutionStruct *;

/// An algorithm the heuristic proposes, with what it needs.
struct cudnnConvolutionFwdAlgoPerf_t {
  int algo;
  cudnnStatus_t status;
  float time;
  size_t memory;
  int determinism;
  int mathType;
  int reserved[3];
};

constexpr cudnnStatus_t kCudnnSuccess = 0;
constexpr cudnnStatus_t kCudnnNotInitialized = 1001;
/// cudnnDataType_t.
constexpr int kCudnnDataFloat = 0, kCudnnDataBfloat16 = 9;
/// cudnnTensorFormat_t, for filters: CUDNN_TENSOR_NCHW is the packed KCRS
/// layout.
constexpr int kCudnnTensorNchw = 0;
/// cudnnConvolutionMode_t: cross-correlation is what ONNX and PyTorch call
/// a convolution (the filter is not flipped).
constexpr int kCudnnCrossCorrelation = 1;
/// cudnnMathType_t. FMA: exact fp32 arithmetic (no TF32: f32 results must
/// stay within 1e-3 of onnxruntime's); tensor op: tensor cores.
constexpr int kCudnnDefaultMath = 0, kCudnnTensorOpMath = 1,
              kCudnnTensorOpMathAllowConversion = 2, kCudnnFmaMath = 3;
/// CUDNN_CONVOLUTION_FWD_ALGO_COUNT: how many algorithms the heuristic
/// may propose.
constexpr int kCudnnFwdAlgoCount = 8;

/// "CUDNN_STATUS_BAD_PARAM", or "cuDNN status <code>" for a code not in
/// the table.
std::string cudnnStatusName(cudnnStatus_t status);
/// What the status means, in a few words ("" for an unknown code).
const char *cudnnStatusDescription(cudnnStatus_t status);

/// The cuDNN entry points this runtime uses (the Get* ones by the tests,
/// to read descriptors back).
struct CudnnApi {
  cudnnStatus_t (*cudnnCreate)(cudnnHandle_t *handle);
  cudnnStatus_t (*cudnnDestroy)(cudnnHandle_t handle);
  cudnnStatus_t (*cudnnSetStream)(cudnnHandle_t handle, CUstream stream);
  /// Which check failed last on this thread ("" if none); reading clears it.
  void (*cudnnGetLastErrorString)(char *message, size_t maxSize);
  cudnnStatus_t (*cudnnCreateTensorDescriptor)(cudnnTensorDescriptor_t *desc);
  cudnnStatus_t (*cudnnSetTensorNdDescriptor)(cudnnTensorDescriptor_t desc,
                                              int dataType, int nbDims,
                                              const int dims[],
                                              const int strides[]);
  cudnnStatus_t (*cudnnGetTensorNdDescriptor)(cudnnTensorDescriptor_t desc,
                                              int nbDimsRequested,
                                              int *dataType, int *nbDims,
                                              int dims[], int strides[]);
  cudnnStatus_t (*cudnnDestroyTensorDescriptor)(cudnnTensorDescriptor_t desc);
  cudnnStatus_t (*cudnnCreateFilterDescriptor)(cudnnFilterDescriptor_t *desc);
  cudnnStatus_t (*cudnnSetFilterNdDescriptor)(cudnnFilterDescriptor_t desc,
                                              int dataType, int format,
                                              int nbDims, const int dims[]);
  cudnnStatus_t (*cudnnGetFilterNdDescriptor)(cudnnFilterDescriptor_t desc,
                                              int nbDimsRequested,
                                              int *dataType, int *format,
                                              int *nbDims, int dims[]);
  cudnnStatus_t (*cudnnDestroyFilterDescriptor)(cudnnFilterDescriptor_t desc);
  cudnnStatus_t (*cudnnCreateConvolutionDescriptor)(
      cudnnConvolutionDescriptor_t *desc);
  cudnnStatus_t (*cudnnSetConvolutionNdDescriptor)(
      cudnnConvolutionDescriptor_t desc, int spatialDims, const int pads[],
      const int strides[], const int dilations[], int mode, int computeType);
  cudnnStatus_t (*cudnnGetConvolutionNdDescriptor)(
      cudnnConvolutionDescriptor_t desc, int spatialDimsRequested,
      int *spatialDims, int pads[], int strides[], int dilations[], int *mode,
      int *computeType);
  cudnnStatus_t (*cudnnSetConvolutionGroupCount)(
      cudnnConvolutionDescriptor_t desc, int groups);
  cudnnStatus_t (*cudnnGetConvolutionGroupCount)(
      cudnnConvolutionDescriptor_t desc, int *groups);
  cudnnStatus_t (*cudnnSetConvolutionMathType)(
      cudnnConvolutionDescriptor_t desc, int mathType);
  cudnnStatus_t (*cudnnGetConvolutionMathType)(
      cudnnConvolutionDescriptor_t desc, int *mathType);
  cudnnStatus_t (*cudnnDestroyConvolutionDescriptor)(
      cudnnConvolutionDescriptor_t desc);
  cudnnStatus_t (*cudnnGetConvolutionNdForwardOutputDim)(
      cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t x,
      cudnnFilterDescriptor_t w, int nbDims, int outputDims[]);
  cudnnStatus_t (*cudnnGetConvolutionForwardAlgorithm_v7)(
      cudnnHandle_t handle, cudnnTensorDescriptor_t x,
      cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
      cudnnTensorDescriptor_t y, int requested, int *returned,
      cudnnConvolutionFwdAlgoPerf_t *results);
  cudnnStatus_t (*cudnnGetConvolutionForwardWorkspaceSize)(
      cudnnHandle_t handle, cudnnTensorDescriptor_t x,
      cudnnFilterDescriptor_t w, cudnnConvolutionDescriptor_t conv,
      cudnnTensorDescriptor_t y, int algo, size_t *bytes);
  cudnnStatus_t (*cudnnConvolutionForward)(
      cudnnHandle_t handle, const void *alpha, cudnnTensorDescriptor_t xDesc,
      const void *x, cudnnFilterDescriptor_t wDesc, const void *w,
      cudnnConvolutionDescriptor_t conv, int algo, void *workspace,
      size_t workspaceBytes, const void *beta, cudnnTensorDescriptor_t yDesc,
      void *y);
  /// y = alpha x + beta y between layouts and, in cuDNN 9, data types.
  cudnnStatus_t (*cudnnTransformTensor)(cudnnHandle_t handle, const void *alpha,
                                        cudnnTensorDescriptor_t xDesc,
                                        const void *x, const void *beta,
                                        cudnnTensorDescriptor_t yDesc, void *y);
};

/// The loaded library.
class Cudnn {
public:
  /// Loads `path`, else $VITC_CUDNN, else libcudnn.so.9, then libcudnn.so,
  /// and resolves every entry point. An error names the library and what
  /// failed ("cuDNN is not available: ...").
  static rt::StatusOr<std::unique_ptr<Cudnn>>
  load(const std::string &path = "");
  ~Cudnn();
  Cudnn(const Cudnn &) = delete;
  Cudnn &operator=(const Cudnn &) = delete;

  /// OK for success, else "<call>: <status name> (<code>): <description>",
  /// then "; cuDNN: <detail>" when `detail` is not empty.
  static rt::Status check(cudnnStatus_t status, const char *call,
                          const std::string &detail = "");
  /// check() with cuDNN's own detail for a failure on this thread.
  rt::Status checkCall(cudnnStatus_t status, const char *call) const;
  /// cuDNN's last error on this thread, on one line, and clears it: after
  /// a failure we move past, so that it never explains a later one.
  std::string takeLastError() const;

  const std::string &path() const { return path_; }
  const CudnnApi &api() const { return api_; }

private:
  Cudnn(void *handle, std::string path)
      : handle_(handle), path_(std::move(path)) {}

  void *handle_;
  std::string path_;
  CudnnApi api_{};
};

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_CUDNN_H
