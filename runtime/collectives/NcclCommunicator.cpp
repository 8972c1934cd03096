//===- NcclCommunicator.cpp - collectives over NCCL on one GPU per rank ---===//
//
// Bootstrapped through another communicator (MPI, or a world of one): rank
// 0's ncclUniqueId is broadcast over it, then ncclCommInitRank. Buffers are
// device pointers. One communication thread per communicator enqueues each
// collective on the communicator's own stream, in issue order, and polls its
// completion (cudaEventQuery, ncclCommGetAsyncError), so the watchdog covers
// a collective until it has finished on the device; an asynchronous NCCL
// error aborts the NCCL communicator and becomes the collective's Status.
// NCCL reduces bf16 itself (f32 arithmetic per step); mean is ncclAvg.
//
//===----------------------------------------------------------------------===//
#include "CommunicatorBase.h"
#include "Watchdog.h"

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace vitc::coll {
namespace {

ncclDataType_t ncclType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return ncclFloat32;
  case DType::BF16:
    return ncclBfloat16;
  case DType::I64:
    return ncclInt64;
  }
  return ncclFloat32;
}

ncclRedOp_t ncclOp(ReduceOp op) {
  switch (op) {
  case ReduceOp::Sum:
    return ncclSum;
  case ReduceOp::Mean:
    return ncclAvg;
  case ReduceOp::Max:
    return ncclMax;
  }
  return ncclSum;
}

class NcclCommunicator final : public ThreadedCommunicator {
public:
  NcclCommunicator(ncclComm_t comm, cudaStream_t stream, cudaEvent_t event,
                   int64_t *scratch, int device, int rank, int size,
                   const CommunicatorOptions &options)
      : ThreadedCommunicator(rank, size, options), comm_(comm), stream_(stream),
        event_(event), scratch_(scratch), device_(device), rank_(rank),
        size_(size) {
    startThread();
  }

  ~NcclCommunicator() override {
    stopThread();
    watchdog().begin("teardown (ncclCommDestroy)");
    cudaSetDevice(device_);
    if (isBroken())
      ncclCommAbort(comm_);
    else
      ncclCommDestroy(comm_);
    cudaFree(scratch_);
    cudaEventDestroy(event_);
    cudaStreamDestroy(stream_);
    watchdog().end();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *backend() const override { return "nccl"; }

private:
  void onThreadStart() override {
    cudaSetDevice(device_); // the current device is per thread
  }

  Status nccl(ncclResult_t code, const char *call, const OpDesc &d) const {
    if (code == ncclSuccess)
      return Status::ok();
    return callFailed(d, call, ncclGetErrorString(code));
  }
  Status cuda(cudaError_t code, const char *call, const OpDesc &d) const {
    if (code == cudaSuccess)
      return Status::ok();
    return callFailed(d, call, cudaGetErrorString(code));
  }

  /// Waits for the stream's work, watching NCCL's asynchronous errors.
  Status complete(const OpDesc &d) {
    Status status =
        cuda(cudaEventRecord(event_, stream_), "cudaEventRecord", d);
    if (!status.isOk())
      return status;
    for (;;) {
      cudaError_t query = cudaEventQuery(event_);
      if (query == cudaSuccess)
        return Status::ok();
      if (query != cudaErrorNotReady)
        return cuda(query, "cudaEventQuery", d);
      ncclResult_t async = ncclSuccess;
      status = nccl(ncclCommGetAsyncError(comm_, &async),
                    "ncclCommGetAsyncError", d);
      if (status.isOk() && async != ncclSuccess && async != ncclInProgress)
        status = nccl(async, "NCCL (asynchronous error)", d);
      if (!status.isOk())
        return status;
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  Status agree(const OpDesc &d) override {
    int64_t mine[kAgreementFields];
    agreementRecord(d, mine);
    std::vector<int64_t> all(static_cast<size_t>(kAgreementFields) * size_);
    Status status = cuda(cudaMemcpyAsync(scratch_, mine, sizeof mine,
                                         cudaMemcpyHostToDevice, stream_),
                         "cudaMemcpyAsync (collective agreement check)", d);
    if (status.isOk())
      status = nccl(ncclAllGather(scratch_, scratch_ + kAgreementFields,
                                  kAgreementFields, ncclInt64, comm_, stream_),
                    "ncclAllGather (collective agreement check)", d);
    if (status.isOk())
      status = cuda(cudaMemcpyAsync(all.data(), scratch_ + kAgreementFields,
                                    all.size() * sizeof(int64_t),
                                    cudaMemcpyDeviceToHost, stream_),
                    "cudaMemcpyAsync (collective agreement check)", d);
    if (status.isOk())
      status = complete(d);
    if (!status.isOk())
      return status;
    return compareAgreement(d, all);
  }

  Status execute(const OpDesc &d) override {
    Status status = enqueue(d);
    return status.isOk() ? complete(d) : status;
  }

  Status enqueue(const OpDesc &d) {
    ncclDataType_t type = ncclType(d.dtype);
    size_t esize = dtypeSize(d.dtype);
    auto at = [&](const void *base, int64_t elements) {
      return static_cast<char *>(const_cast<void *>(base)) + esize * elements;
    };
    switch (d.kind) {
    case CollectiveKind::Barrier:
      // A one-element all-reduce of the scratch buffer.
      return nccl(ncclAllReduce(scratch_, scratch_, 1, ncclInt64, ncclSum,
                                comm_, stream_),
                  "ncclAllReduce (barrier)", d);
    case CollectiveKind::Broadcast:
      return nccl(
          ncclBroadcast(d.recv, d.recv, d.count, type, d.root, comm_, stream_),
          "ncclBroadcast", d);
    case CollectiveKind::AllReduce:
      return nccl(ncclAllReduce(d.send, d.recv, d.count, type, ncclOp(d.op),
                                comm_, stream_),
                  "ncclAllReduce", d);
    case CollectiveKind::AllGather:
      if (d.counts.empty())
        return nccl(
            ncclAllGather(d.send, d.recv, d.count, type, comm_, stream_),
            "ncclAllGather", d);
      break;
    case CollectiveKind::ReduceScatter:
      if (d.counts.empty())
        return nccl(ncclReduceScatter(d.send, d.recv, d.count, type,
                                      ncclOp(d.op), comm_, stream_),
                    "ncclReduceScatter", d);
      break;
    }
    // The V forms: one broadcast (gather) or reduce (scatter) per rank, in
    // one NCCL group.
    Status status = nccl(ncclGroupStart(), "ncclGroupStart", d);
    int64_t offset = 0;
    for (int r = 0; r < size_ && status.isOk(); ++r) {
      int64_t n = d.counts[r];
      if (d.kind == CollectiveKind::AllGather)
        status =
            nccl(ncclBroadcast(r == rank_ ? d.send : nullptr,
                               at(d.recv, offset), n, type, r, comm_, stream_),
                 "ncclBroadcast (all_gather_v)", d);
      else
        status =
            nccl(ncclReduce(at(d.send, offset), r == rank_ ? d.recv : nullptr,
                            n, type, ncclOp(d.op), r, comm_, stream_),
                 "ncclReduce (reduce_scatter_v)", d);
      offset += n;
    }
    Status ended = nccl(ncclGroupEnd(), "ncclGroupEnd", d);
    return status.isOk() ? ended : status;
  }

  ncclComm_t comm_;
  cudaStream_t stream_;
  cudaEvent_t event_;
  int64_t *scratch_; // agreement records (1 + size) and the barrier
  int device_, rank_, size_;
};

} // namespace

bool ncclCommunicatorAvailable() { return true; }

StatusOr<std::unique_ptr<Communicator>>
createNcclCommunicator(Communicator &bootstrap, int device,
                       const CommunicatorOptions &options) {
  std::string who = "NCCL communicator (rank " +
                    std::to_string(bootstrap.rank()) + "/" +
                    std::to_string(bootstrap.size()) + ", device " +
                    std::to_string(device) + "): ";
  auto cudaFail = [&](const char *call, cudaError_t code) {
    return Status::error(who + call + " failed: " + cudaGetErrorName(code) +
                         ": " + cudaGetErrorString(code));
  };
  cudaError_t code = cudaSetDevice(device);
  if (code != cudaSuccess)
    return cudaFail("cudaSetDevice", code);
  // The unique id travels as 16 i64 over the bootstrap communicator.
  static_assert(sizeof(ncclUniqueId) % sizeof(int64_t) == 0);
  constexpr int64_t kIdWords = sizeof(ncclUniqueId) / sizeof(int64_t);
  int64_t idWords[kIdWords] = {};
  ncclUniqueId id;
  if (bootstrap.rank() == 0) {
    ncclResult_t result = ncclGetUniqueId(&id);
    if (result != ncclSuccess)
      return Status::error(
          who + "ncclGetUniqueId failed: " + ncclGetErrorString(result));
    std::memcpy(idWords, &id, sizeof id);
  }
  Status sent = bootstrap.broadcast(idWords, kIdWords, DType::I64, 0);
  if (!sent.isOk())
    return Status::error(who + "broadcasting the unique id: " + sent.message());
  std::memcpy(&id, idWords, sizeof id);

  cudaStream_t stream = nullptr;
  cudaEvent_t event = nullptr;
  int64_t *scratch = nullptr;
  if ((code = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking)) !=
      cudaSuccess)
    return cudaFail("cudaStreamCreate", code);
  if ((code = cudaEventCreateWithFlags(&event, cudaEventDisableTiming)) !=
          cudaSuccess ||
      (code = cudaMalloc(reinterpret_cast<void **>(&scratch),
                         sizeof(int64_t) * kAgreementFields *
                             (1 + bootstrap.size()))) != cudaSuccess) {
    if (event)
      cudaEventDestroy(event);
    cudaStreamDestroy(stream);
    return cudaFail("cudaEventCreate/cudaMalloc", code);
  }
  ncclComm_t comm = nullptr;
  ncclResult_t result;
  {
    Watchdog watch(options.timeoutSeconds, "creating the NCCL communicator");
    watch.begin("ncclCommInitRank");
    result = ncclCommInitRank(&comm, bootstrap.size(), id, bootstrap.rank());
    watch.end();
  }
  if (result != ncclSuccess) {
    cudaFree(scratch);
    cudaEventDestroy(event);
    cudaStreamDestroy(stream);
    return Status::error(
        who + "ncclCommInitRank failed: " + ncclGetErrorString(result));
  }
  return std::unique_ptr<Communicator>(std::make_unique<NcclCommunicator>(
      comm, stream, event, scratch, device, bootstrap.rank(), bootstrap.size(),
      options));
}

} // namespace vitc::coll
