//===- CudnnConv.cpp - the CUDA device's convolutions on cuDNN ------------===//
#include "CudnnConv.h"

#include <array>
#include <vector>

namespace vitc::cuda {

using rt::Status;
using rt::StatusOr;

namespace {

void *pointer(rt::DevicePtr address) {
  return reinterpret_cast<void *>(static_cast<uintptr_t>(address));
}

template <size_t N> std::string join(const std::array<int, N> &values) {
  std::string text;
  for (int v : values)
    text += "," + std::to_string(v);
  return text;
}

/// What the cached descriptors and algorithm depend on (not the data, nor
/// accumulate: that is beta).
std::string cacheKey(const ConvPlan &plan) {
  return std::to_string(plan.dataType) + ":" + std::to_string(plan.groups) +
         ":" + join(plan.x.dims) + join(plan.x.strides) + ":" +
         join(plan.y.dims) + join(plan.y.strides) + ":" + join(plan.filter) +
         ":" + join(plan.pad) + join(plan.stride) + join(plan.dilation);
}

size_t elements(const std::array<int, 4> &dims) {
  size_t count = 1;
  for (int d : dims)
    count *= static_cast<size_t>(d);
  return count;
}

/// Scratch pieces start 256-byte aligned, as cuMemAlloc's memory does.
size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }

std::string mebibytes(size_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

} // namespace

StatusOr<std::unique_ptr<CudnnHandle>> CudnnHandle::create(const Cudnn &dnn) {
  cudnnHandle_t handle = nullptr;
  if (Status s = dnn.checkCall(dnn.api().cudnnCreate(&handle), "cudnnCreate");
      !s.isOk())
    return s;
  return std::unique_ptr<CudnnHandle>(new CudnnHandle(dnn, handle));
}

CudnnHandle::~CudnnHandle() { (void)dnn.api().cudnnDestroy(handle); }

Status CudnnHandle::bind(CUstream next) {
  if (bound && stream == next)
    return Status::ok();
  if (Status s = dnn.checkCall(dnn.api().cudnnSetStream(handle, next),
                               "cudnnSetStream");
      !s.isOk())
    return s;
  stream = next;
  bound = true;
  return Status::ok();
}

StatusOr<std::unique_ptr<ConvDescriptors>>
ConvDescriptors::create(const Cudnn &dnn, const ConvPlan &plan,
                        Staging staging) {
  const CudnnApi &api = dnn.api();
  std::unique_ptr<ConvDescriptors> d(new ConvDescriptors(dnn));
  if (Status s = dnn.checkCall(api.cudnnCreateConvolutionDescriptor(&d->conv),
                               "cudnnCreateConvolutionDescriptor");
      !s.isOk())
    return s;
  // Cross-correlation with float arithmetic, for bf16 inputs too.
  if (Status s = dnn.checkCall(api.cudnnSetConvolutionNdDescriptor(
                                   d->conv, 2, plan.pad.data(),
                                   plan.stride.data(), plan.dilation.data(),
                                   kCudnnCrossCorrelation, kCudnnDataFloat),
                               "cudnnSetConvolutionNdDescriptor");
      !s.isOk())
    return s;
  if (Status s =
          dnn.checkCall(api.cudnnSetConvolutionGroupCount(d->conv, plan.groups),
                        "cudnnSetConvolutionGroupCount");
      !s.isOk())
    return s;
  if (Status s =
          dnn.checkCall(api.cudnnSetConvolutionMathType(d->conv, plan.mathType),
                        "cudnnSetConvolutionMathType");
      !s.isOk())
    return s;
  if (Status s = dnn.checkCall(api.cudnnCreateFilterDescriptor(&d->w),
                               "cudnnCreateFilterDescriptor");
      !s.isOk())
    return s;
  if (Status s = dnn.checkCall(
          api.cudnnSetFilterNdDescriptor(d->w, plan.dataType, kCudnnTensorNchw,
                                         4, plan.filter.data()),
          "cudnnSetFilterNdDescriptor");
      !s.isOk())
    return s;

  struct Tensor {
    cudnnTensorDescriptor_t *slot;
    int type;
    std::array<int, 4> dims, strides;
  };
  std::vector<Tensor> tensors = {
      {&d->x, plan.dataType, plan.x.dims, plan.x.strides},
      {&d->y, kCudnnDataFloat, plan.y.dims, plan.y.strides}};
  if (staging.input)
    tensors.push_back(
        {&d->xScratch, plan.dataType, plan.x.dims, packedStrides(plan.x.dims)});
  if (staging.output)
    tensors.push_back(
        {&d->yScratch, plan.dataType, plan.y.dims, packedStrides(plan.y.dims)});
  for (const Tensor &t : tensors) {
    if (Status s = dnn.checkCall(api.cudnnCreateTensorDescriptor(t.slot),
                                 "cudnnCreateTensorDescriptor");
        !s.isOk())
      return s;
    if (Status s = dnn.checkCall(
            api.cudnnSetTensorNdDescriptor(*t.slot, t.type, 4, t.dims.data(),
                                           t.strides.data()),
            "cudnnSetTensorNdDescriptor");
        !s.isOk())
      return s;
  }
  return d;
}

ConvDescriptors::~ConvDescriptors() {
  const CudnnApi &api = dnn.api();
  for (cudnnTensorDescriptor_t t : {x, y, xScratch, yScratch})
    if (t)
      (void)api.cudnnDestroyTensorDescriptor(t);
  if (w)
    (void)api.cudnnDestroyFilterDescriptor(w);
  if (conv)
    (void)api.cudnnDestroyConvolutionDescriptor(conv);
}

StatusOr<std::unique_ptr<CudnnConv>> CudnnConv::load(const DriverApi &driver,
                                                     const std::string &path) {
  auto library = Cudnn::load(path);
  if (!library.isOk())
    return library.status();
  return std::unique_ptr<CudnnConv>(new CudnnConv(std::move(*library), driver));
}

CudnnConv::~CudnnConv() {
  cache.clear();
  handle.reset();
  // The caller made the context current and the stream idle.
  if (scratch)
    (void)driver.cuMemFree(scratch);
}

Status CudnnConv::reserveScratch(size_t bytes, CUstream stream) {
  if (bytes <= scratchBytes)
    return Status::ok();
  if (scratch) {
    // Convolutions already enqueued may still use the old memory.
    if (Status s = Driver::check(driver.cuStreamSynchronize(stream),
                                 "cuStreamSynchronize");
        !s.isOk())
      return s;
    (void)driver.cuMemFree(scratch);
    scratch = 0;
    scratchBytes = 0;
  }
  // Whole mebibytes: a few slightly larger problems do not regrow it.
  size_t rounded = (bytes + (1 << 20) - 1) >> 20 << 20;
  if (Status s =
          Driver::check(driver.cuMemAlloc(&scratch, rounded), "cuMemAlloc");
      !s.isOk())
    return Status::error("allocating cuDNN's scratch memory (" +
                         mebibytes(rounded) + "): " + s.message());
  scratchBytes = rounded;
  return Status::ok();
}

Status CudnnConv::choose(const ConvPlan &plan, Prepared &p) {
  const CudnnApi &api = library->api();
  const ConvDescriptors &d = *p.descriptors;
  cudnnConvolutionFwdAlgoPerf_t results[kCudnnFwdAlgoCount] = {};
  int returned = 0;
  if (Status s = library->checkCall(api.cudnnGetConvolutionForwardAlgorithm_v7(
                                        handle->get(), d.convInput(), d.w,
                                        d.conv, d.convOutput(),
                                        kCudnnFwdAlgoCount, &returned, results),
                                    "cudnnGetConvolutionForwardAlgorithm_v7");
      !s.isOk())
    return s;
  // Engines it tried and refused leave their failed checks behind, which
  // would explain nothing later.
  (void)library->takeLastError();
  // The heuristic lists algorithms best first, with both math versions of
  // those that have them; take the first that runs.
  std::string refused;
  for (int i = 0; i < returned && i < kCudnnFwdAlgoCount; ++i) {
    const cudnnConvolutionFwdAlgoPerf_t &r = results[i];
    auto refuse = [&](const std::string &why) {
      refused += (refused.empty() ? "" : ", ") + std::string("algorithm ") +
                 std::to_string(r.algo) + ": " + why;
    };
    if (r.status != kCudnnSuccess) {
      refuse(cudnnStatusName(r.status));
      continue;
    }
    // f32 stays exact fp32: tensor-core versions would round to TF32.
    if (!plan.bf16 && (r.mathType == kCudnnTensorOpMath ||
                       r.mathType == kCudnnTensorOpMathAllowConversion)) {
      refuse("tensor cores (TF32) only");
      continue;
    }
    int math = plan.bf16 ? r.mathType : kCudnnFmaMath;
    size_t bytes = 0;
    cudnnStatus_t status = api.cudnnSetConvolutionMathType(d.conv, math);
    if (status == kCudnnSuccess)
      status = api.cudnnGetConvolutionForwardWorkspaceSize(
          handle->get(), d.convInput(), d.w, d.conv, d.convOutput(), r.algo,
          &bytes);
    if (status != kCudnnSuccess) {
      (void)library->takeLastError(); // explains nothing later
      refuse(cudnnStatusName(status));
      continue;
    }
    if (bytes > kMaxWorkspaceBytes) {
      refuse(mebibytes(bytes) + " of workspace");
      continue;
    }
    p.algo = r.algo;
    p.workspaceBytes = bytes;
    return Status::ok();
  }
  return Status::error(
      "cudnnGetConvolutionForwardAlgorithm_v7 proposed no algorithm that "
      "runs" +
      (refused.empty() ? std::string() : " (" + refused + ")"));
}

StatusOr<const CudnnConv::Prepared *> CudnnConv::prepare(const ConvPlan &plan) {
  std::string key = cacheKey(plan);
  if (auto found = cache.find(key); found != cache.end())
    return found->second.get();
  Staging asGiven{false, plan.scratchOutput};
  Staging packed{!isPacked(plan.x), plan.scratchOutput || !isPacked(plan.y)};
  bool retry = packed.input != asGiven.input || packed.output != asGiven.output;
  std::string why;
  for (Staging staging : {asGiven, packed}) {
    auto prepared = std::make_unique<Prepared>();
    auto descriptors = ConvDescriptors::create(*library, plan, staging);
    if (!descriptors.isOk())
      return descriptors.status();
    prepared->descriptors = std::move(*descriptors);
    if (Status s = choose(plan, *prepared); !s.isOk()) {
      why +=
          (why.empty() ? "" : "; on packed copies of x and y: ") + s.message();
      if (!retry)
        break;
      retry = false;
      continue;
    }
    size_t element = plan.bf16 ? 2 : 4;
    Prepared &p = *prepared;
    p.xOffset = aligned(p.workspaceBytes);
    p.yOffset = aligned(p.xOffset +
                        (staging.input ? elements(plan.x.dims) * element : 0));
    p.scratchBytes =
        p.yOffset + (staging.output ? elements(plan.y.dims) * element : 0);
    return cache.emplace(std::move(key), std::move(prepared))
        .first->second.get();
  }
  return Status::error(why);
}

Status CudnnConv::run(const ConvPlan &plan, CUstream stream) {
  if (plan.work == ConvPlan::Work::None)
    return Status::ok();
  std::lock_guard<std::mutex> lock(mutex);
  auto failed = [&](const Status &s) {
    return Status::error("cuDNN, " + describe(plan) + ": " + s.message());
  };
  if (!handle) {
    auto created = CudnnHandle::create(*library);
    if (!created.isOk())
      return failed(created.status());
    handle = std::move(*created);
  }
  if (Status s = handle->bind(stream); !s.isOk())
    return failed(s);
  auto prepared = prepare(plan);
  if (!prepared.isOk())
    return failed(prepared.status());
  const Prepared &p = **prepared;
  if (Status s = reserveScratch(p.scratchBytes, stream); !s.isOk())
    return failed(s);

  const CudnnApi &api = library->api();
  const ConvDescriptors &d = *p.descriptors;
  // Host scalars, read when each call enqueues: float for float and bf16
  // tensors alike.
  float one = 1.0f, zero = 0.0f, beta = plan.accumulate ? 1.0f : 0.0f;
  void *x = pointer(plan.x.data), *y = pointer(plan.y.data);
  void *convX = d.xScratch ? pointer(scratch + p.xOffset) : x;
  void *convY = d.yScratch ? pointer(scratch + p.yOffset) : y;
  if (d.xScratch)
    if (Status s = library->checkCall(
            api.cudnnTransformTensor(handle->get(), &one, d.x, x, &zero,
                                     d.xScratch, convX),
            "cudnnTransformTensor(x to its packed copy)");
        !s.isOk())
      return failed(s);
  if (Status s = library->checkCall(
          api.cudnnConvolutionForward(
              handle->get(), &one, d.convInput(), convX, d.w, pointer(plan.w),
              d.conv, p.algo, p.workspaceBytes ? pointer(scratch) : nullptr,
              p.workspaceBytes, d.yScratch ? &zero : &beta, d.convOutput(),
              convY),
          "cudnnConvolutionForward");
      !s.isOk())
    return failed(s);
  // y (+)= the packed result, converted to f32 where it is bf16.
  if (d.yScratch)
    if (Status s = library->checkCall(
            api.cudnnTransformTensor(handle->get(), &one, d.yScratch, convY,
                                     &beta, d.y, y),
            "cudnnTransformTensor(the result into y)");
        !s.isOk())
      return failed(s);
  return Status::ok();
}

} // namespace vitc::cuda
