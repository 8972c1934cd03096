//===- NcclStaged.cpp - the collectives suite on the NCCL communicator ----===//
//
// The suite's buffers live on the host; the NCCL communicator's on the GPU.
// A staging adapter copies them over and back around each collective, so
// the same references check the NCCL communicator.
//
//===----------------------------------------------------------------------===//
#include "CollectivesTest.h"

#ifdef VITC_HAVE_NCCL
#include "CommunicatorBase.h" // Work's state, for the staging adapter
#include <cuda_runtime_api.h>
#endif

#include <cstdio>
#include <memory>

using namespace vitc::coll;

namespace {

#ifdef VITC_HAVE_NCCL
/// Runs the suite's host buffers through a device communicator: copies them
/// to the GPU, runs the collective there, copies the result back.
class StagedCommunicator final : public CommunicatorBase {
public:
  explicit StagedCommunicator(Communicator &device) : device_(device) {}
  int rank() const override { return device_.rank(); }
  int size() const override { return device_.size(); }
  const char *backend() const override { return device_.backend(); }

protected:
  std::optional<std::string> brokenBy() const override { return std::nullopt; }
  void submit(OpDesc d, std::shared_ptr<Work::State> state) override {
    int n = size(), r = rank();
    int64_t mine = d.count, total = d.count, offset = 0;
    if (d.kind == CollectiveKind::AllGather ||
        d.kind == CollectiveKind::ReduceScatter) {
      if (d.counts.empty()) {
        total = d.count * n, offset = d.count * r;
      } else {
        for (int k = 0; k < r; ++k)
          offset += d.counts[k];
        mine = d.counts[r];
      }
    }
    int64_t esize = int64_t(dtypeSize(d.dtype)), sendN = 0, recvN = 0;
    switch (d.kind) {
    case CollectiveKind::AllReduce:
    case CollectiveKind::Broadcast:
      sendN = recvN = d.count;
      break;
    case CollectiveKind::AllGather:
      sendN = mine, recvN = total;
      break;
    case CollectiveKind::ReduceScatter:
      sendN = total, recvN = mine;
      break;
    case CollectiveKind::Barrier:
      break;
    }
    char *dRecv = nullptr, *dSend = nullptr;
    cudaMalloc(reinterpret_cast<void **>(&dRecv), size_t(recvN * esize + 8));
    cudaMemcpy(dRecv, d.recv ? d.recv : dRecv, size_t(recvN * esize),
               cudaMemcpyHostToDevice);
    auto *hSend = static_cast<const char *>(d.send);
    auto *hRecv = static_cast<const char *>(d.recv);
    bool inRecv = hSend && hRecv && hSend >= hRecv &&
                  hSend < hRecv + recvN * esize + (recvN == 0);
    if (inRecv) {
      dSend = dRecv + (hSend - hRecv);
    } else {
      cudaMalloc(reinterpret_cast<void **>(&dSend), size_t(sendN * esize + 8));
      cudaMemcpy(dSend, hSend ? hSend : dSend, size_t(sendN * esize),
                 cudaMemcpyHostToDevice);
    }
    Work work;
    switch (d.kind) {
    case CollectiveKind::AllReduce:
      work = device_.startAllReduce(dSend, dRecv, d.count, d.dtype, d.op);
      break;
    case CollectiveKind::Broadcast:
      work = device_.startBroadcast(dRecv, d.count, d.dtype, d.root);
      break;
    case CollectiveKind::AllGather:
      work = d.counts.empty()
                 ? device_.startAllGather(dSend, dRecv, d.count, d.dtype)
                 : device_.startAllGatherV(dSend, dRecv, d.counts, d.dtype);
      break;
    case CollectiveKind::ReduceScatter:
      work =
          d.counts.empty()
              ? device_.startReduceScatter(dSend, dRecv, d.count, d.dtype, d.op)
              : device_.startReduceScatterV(dSend, dRecv, d.counts, d.dtype,
                                            d.op);
      break;
    case CollectiveKind::Barrier:
      work = device_.startBarrier();
      break;
    }
    Status status = work.wait();
    if (status.isOk() && recvN > 0)
      cudaMemcpy(d.recv, dRecv, size_t(recvN * esize), cudaMemcpyDeviceToHost);
    if (!inRecv)
      cudaFree(dSend);
    cudaFree(dRecv);
    state->complete(status);
  }

private:
  Communicator &device_;
};
#endif

} // namespace

/// Without a GPU (and without --expect-gpu) creating the communicator must
/// be a clear error.
int vitc::coll::test::runNccl(const Args &args) {
  if (!ncclCommunicatorAvailable()) {
    std::printf("nccl: not built (no CUDA toolkit with NCCL)\n");
    return 0;
  }
  std::unique_ptr<Communicator> bootstrap = createSingleCommunicator();
  CommunicatorOptions options;
  options.timeoutSeconds = args.timeout;
  options.checkCollectives = args.check;
  StatusOr<std::unique_ptr<Communicator>> created =
      createNcclCommunicator(*bootstrap, 0, options);
  if (!created.isOk()) {
    const std::string &message = created.status().message();
    if (args.expectGpu) {
      std::printf("FAIL nccl: %s\n", message.c_str());
      return 1;
    }
    bool clear = message.find("NCCL communicator (rank 0/1, device 0): ") == 0;
    std::printf("%s nccl: no GPU: %s\n", clear ? "PASS" : "FAIL",
                message.c_str());
    return clear ? 0 : 1;
  }
#ifdef VITC_HAVE_NCCL
  StagedCommunicator staged(**created);
  runSuite(staged);
  std::printf("collectives: world of 1 (nccl), %d checks, %d failures\n",
              gChecks, gFailures);
  std::printf(gFailures ? "SOME FAILED\n" : "ALL PASS\n");
  return gFailures ? 1 : 0;
#else
  return 1;
#endif
}

