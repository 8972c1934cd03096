//===- MpiCommunicator.cpp - collectives over MPI -------------------------===//
//
// One communication thread per communicator runs the collectives in issue
// order over a duplicate of MPI_COMM_WORLD (MPI_ERRORS_RETURN: every call's
// code becomes a Status). MPI is used from that thread and, at creation and
// teardown, from the issuing thread, never at once: one communicator needs
// MPI_THREAD_SERIALIZED, several at once MPI_THREAD_MULTIPLE (requested
// when this library initialises MPI). Teardown errors (MPI_Comm_free,
// MPI_Finalize in the destructor) have no Status to go to and are ignored.
//
// bf16 reductions widen to f32, reduce in f32 (MPI_FLOAT) and round once;
// bf16 gathers and broadcasts move the 16-bit values (MPI_UINT16_T).
//
// A watchdog thread ends the process (_exit(kWatchdogExitCode)) when a
// collective, or the teardown (MPI_Comm_free, MPI_Finalize), outlives the
// timeout: a stopped or stuck peer cannot hang the job, and mpirun ends the
// other ranks when one exits without finalising. Its message names the
// peers the collective waits for: with MPI_THREAD_MULTIPLE each rank runs a
// responder thread on a second duplicate of the world that answers a probe
// with the last collective its communication thread entered; the timed-out
// rank probes every peer and reports the ones that have not entered the
// collective, or do not answer at all (stopped, or stuck outside MPI).
//
//===----------------------------------------------------------------------===//
#include "CommunicatorBase.h"
#include "Watchdog.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>
#include <sstream>
#include <unistd.h>

namespace vitc::coll {
namespace {

// Communicators alive that count on this library's MPI_Init_thread.
std::mutex gInitMutex;
int gLiveCommunicators = 0;
bool gWeInitialised = false;

std::string mpiErrorString(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
    return "MPI error " + std::to_string(code);
  return std::string(text, length);
}

MPI_Datatype mpiType(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return MPI_FLOAT;
  case DType::BF16:
    return MPI_UINT16_T; // moved as bits; reductions widen to f32 first
  case DType::I64:
    return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

MPI_Op mpiOp(ReduceOp op) {
  return op == ReduceOp::Max ? MPI_MAX : MPI_SUM; // mean: sum, then divide
}

class MpiCommunicator final : public ThreadedCommunicator {
public:
  /// `probeComm` (MPI_COMM_NULL: no peer reports) is a second duplicate
  /// of the world for the responder (MPI_THREAD_MULTIPLE).
  MpiCommunicator(MPI_Comm comm, MPI_Comm probeComm, int rank, int size,
                  const CommunicatorOptions &options)
      : ThreadedCommunicator(rank, size, options), comm_(comm),
        probeComm_(probeComm), rank_(rank), size_(size) {
    if (probeComm_ != MPI_COMM_NULL) {
      responder_ = std::thread([this] { respond(); });
      watchdog().setDiagnosis([this] { return probePeers(); });
    }
    startThread();
  }

  ~MpiCommunicator() override {
    stopThread();
    if (probeComm_ != MPI_COMM_NULL) {
      stopResponder_.store(true);
      responder_.join();
      MPI_Comm_free(&probeComm_);
    }
    // Teardown may wait for peers too: the watchdog keeps watching.
    watchdog().begin("teardown (MPI_Comm_free, MPI_Finalize)");
    MPI_Comm_free(&comm_);
    std::lock_guard<std::mutex> lock(gInitMutex);
    if (--gLiveCommunicators == 0 && gWeInitialised) {
      int finalised = 0;
      MPI_Finalized(&finalised);
      if (!finalised)
        MPI_Finalize();
      gWeInitialised = false;
    }
    watchdog().end();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const char *backend() const override { return "mpi"; }

private:
  static constexpr int kProbeTag = 1, kReplyTag = 2;

  /// The responder thread: answers each probe with the last collective
  /// this rank entered. It polls every 20 ms rather than blocking in
  /// MPI_Recv, which Open MPI implements as a busy loop: that would take a
  /// core from the step.
  void respond() {
    int64_t probe = 0;
    MPI_Request request;
    if (MPI_Irecv(&probe, 1, MPI_INT64_T, MPI_ANY_SOURCE, kProbeTag,
                  probeComm_, &request) != MPI_SUCCESS)
      return;
    while (!stopResponder_.load()) {
      int done = 0;
      MPI_Status status;
      if (MPI_Test(&request, &done, &status) != MPI_SUCCESS)
        return;
      if (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      int64_t entered = static_cast<int64_t>(entered_.load());
      MPI_Send(&entered, 1, MPI_INT64_T, status.MPI_SOURCE, kReplyTag,
               probeComm_);
      if (MPI_Irecv(&probe, 1, MPI_INT64_T, MPI_ANY_SOURCE, kProbeTag,
                    probeComm_, &request) != MPI_SUCCESS)
        return;
    }
    MPI_Cancel(&request);
    MPI_Wait(&request, MPI_STATUS_IGNORE);
  }

  /// For the watchdog: the peers the current collective waits for.
  std::string probePeers() {
    uint64_t seq = entered_.load();
    std::vector<int64_t> replies(size_, -1);
    std::vector<MPI_Request> sends, receives(size_, MPI_REQUEST_NULL);
    int64_t probe = static_cast<int64_t>(seq);
    for (int p = 0; p < size_; ++p) {
      if (p == rank_)
        continue;
      sends.emplace_back();
      MPI_Isend(&probe, 1, MPI_INT64_T, p, kProbeTag, probeComm_,
                &sends.back());
      MPI_Irecv(&replies[p], 1, MPI_INT64_T, p, kReplyTag, probeComm_,
                &receives[p]);
    }
    std::vector<bool> answered(size_, false);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(1500);
    int pending = size_ - 1;
    while (pending > 0 && std::chrono::steady_clock::now() < deadline) {
      for (int p = 0; p < size_; ++p) {
        int done = 0;
        if (p == rank_ || answered[p] ||
            MPI_Test(&receives[p], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS ||
            !done)
          continue;
        answered[p] = true;
        --pending;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::string silent, behind;
    for (int p = 0; p < size_; ++p) {
      if (p == rank_)
        continue;
      if (!answered[p])
        silent += (silent.empty() ? "" : ", ") + std::to_string(p);
      else if (replies[p] < static_cast<int64_t>(seq))
        behind += (behind.empty() ? "" : ", ") + std::string("rank ") +
                  std::to_string(p) + " (last entered #" +
                  std::to_string(replies[p]) + ")";
    }
    std::string report;
    if (!silent.empty())
      report = "waiting for rank " + silent +
               ", which does not answer (stopped, or stuck outside MPI)";
    if (!behind.empty())
      report += (report.empty() ? "waiting for " : "; not yet entered by ") +
                behind;
    return report.empty() ? "every peer has entered it" : report;
  }

  Status check(int code, const char *call, const OpDesc &d) const {
    if (code == MPI_SUCCESS)
      return Status::ok();
    return callFailed(d, call, mpiErrorString(code));
  }

  /// Every rank contributes its record of the collective and compares them
  /// all: a mismatch is an error on every rank.
  Status agree(const OpDesc &d) override {
    entered_.store(d.seq);
    int64_t mine[kAgreementFields];
    agreementRecord(d, mine);
    std::vector<int64_t> all(static_cast<size_t>(kAgreementFields) * size_);
    Status status =
        check(MPI_Allgather(mine, kAgreementFields, MPI_INT64_T, all.data(),
                            kAgreementFields, MPI_INT64_T, comm_),
              "MPI_Allgather (collective agreement check)", d);
    if (!status.isOk())
      return status;
    return compareAgreement(d, all);
  }

  Status execute(const OpDesc &d) override {
    entered_.store(d.seq);
    switch (d.kind) {
    case CollectiveKind::Barrier:
      return check(MPI_Barrier(comm_), "MPI_Barrier", d);
    case CollectiveKind::Broadcast:
      return check(MPI_Bcast(d.recv, static_cast<int>(d.count),
                             mpiType(d.dtype), d.root, comm_),
                   "MPI_Bcast", d);
    case CollectiveKind::AllReduce:
      return allReduce(d);
    case CollectiveKind::AllGather:
      return allGather(d);
    case CollectiveKind::ReduceScatter:
      return reduceScatter(d);
    }
    return Status::error(where(d) + ": unknown collective");
  }

  void divide(float *values, int64_t count) const {
    float n = static_cast<float>(size_);
    for (int64_t i = 0; i < count; ++i)
      values[i] /= n;
  }

  /// A bf16 reduction's input, widened to f32.
  static std::vector<float> widenBf16(const void *send, int count) {
    std::vector<float> wide(count);
    auto *in = static_cast<const uint16_t *>(send);
    for (int i = 0; i < count; ++i)
      wide[i] = floatFromBf16(in[i]);
    return wide;
  }

  /// A bf16 reduction's f32 result: divided for a mean, then rounded once
  /// into d.recv.
  void roundToBf16(const OpDesc &d, float *values, int count) const {
    if (d.op == ReduceOp::Mean)
      divide(values, count);
    auto *out = static_cast<uint16_t *>(d.recv);
    for (int i = 0; i < count; ++i)
      out[i] = bf16FromFloat(values[i]);
  }

  Status allReduce(const OpDesc &d) {
    int count = static_cast<int>(d.count);
    if (d.dtype == DType::BF16) {
      std::vector<float> wide = widenBf16(d.send, count);
      Status status = check(MPI_Allreduce(MPI_IN_PLACE, wide.data(), count,
                                          MPI_FLOAT, mpiOp(d.op), comm_),
                            "MPI_Allreduce", d);
      if (!status.isOk())
        return status;
      roundToBf16(d, wide.data(), count);
      return Status::ok();
    }
    const void *send = d.send == d.recv ? MPI_IN_PLACE : d.send;
    Status status = check(MPI_Allreduce(send, d.recv, count, mpiType(d.dtype),
                                        mpiOp(d.op), comm_),
                          "MPI_Allreduce", d);
    if (status.isOk() && d.op == ReduceOp::Mean)
      divide(static_cast<float *>(d.recv), count);
    return status;
  }

  /// Displacements of the V forms; counts were checked to fit in int.
  static void blocks(const std::vector<int64_t> &counts,
                     std::vector<int> &sizes, std::vector<int> &offsets) {
    int offset = 0;
    for (int64_t c : counts) {
      sizes.push_back(static_cast<int>(c));
      offsets.push_back(offset);
      offset += static_cast<int>(c);
    }
  }

  Status allGather(const OpDesc &d) {
    MPI_Datatype type = mpiType(d.dtype);
    size_t esize = dtypeSize(d.dtype);
    if (d.counts.empty()) {
      int count = static_cast<int>(d.count);
      const void *inPlace =
          static_cast<const char *>(d.recv) + esize * d.count * rank_;
      const void *send = d.send == inPlace ? MPI_IN_PLACE : d.send;
      return check(MPI_Allgather(send, count, type, d.recv, count, type, comm_),
                   "MPI_Allgather", d);
    }
    std::vector<int> sizes, offsets;
    blocks(d.counts, sizes, offsets);
    const void *inPlace =
        static_cast<const char *>(d.recv) + esize * offsets[rank_];
    const void *send = d.send == inPlace ? MPI_IN_PLACE : d.send;
    return check(MPI_Allgatherv(send, sizes[rank_], type, d.recv, sizes.data(),
                                offsets.data(), type, comm_),
                 "MPI_Allgatherv", d);
  }

  Status reduceScatter(const OpDesc &d) {
    std::vector<int> sizes, offsets;
    if (d.counts.empty())
      blocks(std::vector<int64_t>(size_, d.count), sizes, offsets);
    else
      blocks(d.counts, sizes, offsets);
    int total = offsets.back() + sizes.back();
    int mine = sizes[rank_];
    bool uniform = d.counts.empty();
    auto reduce = [&](const void *send, void *recv, MPI_Datatype type) {
      if (uniform)
        return check(MPI_Reduce_scatter_block(send, recv, mine, type,
                                              mpiOp(d.op), comm_),
                     "MPI_Reduce_scatter_block", d);
      return check(MPI_Reduce_scatter(send, recv, sizes.data(), type,
                                      mpiOp(d.op), comm_),
                   "MPI_Reduce_scatter", d);
    };
    if (d.dtype == DType::BF16) {
      std::vector<float> wide = widenBf16(d.send, total);
      std::vector<float> result(std::max(mine, 1));
      Status status = reduce(wide.data(), result.data(), MPI_FLOAT);
      if (!status.isOk())
        return status;
      roundToBf16(d, result.data(), mine);
      return Status::ok();
    }
    Status status = reduce(d.send, d.recv, mpiType(d.dtype));
    if (status.isOk() && d.op == ReduceOp::Mean)
      divide(static_cast<float *>(d.recv), mine);
    return status;
  }

  MPI_Comm comm_, probeComm_;
  int rank_, size_;
  /// The collective the communication thread last entered (its seq).
  std::atomic<uint64_t> entered_{0};
  std::atomic<bool> stopResponder_{false};
  std::thread responder_;
};

} // namespace

bool mpiCommunicatorAvailable() { return true; }

StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &options) {
  auto fail = [](const std::string &what, int code) {
    return Status::error("MPI communicator: " + what + ": " +
                         mpiErrorString(code));
  };
  std::lock_guard<std::mutex> lock(gInitMutex);
  int initialised = 0, finalised = 0;
  MPI_Initialized(&initialised);
  MPI_Finalized(&finalised);
  if (finalised)
    return Status::error("MPI communicator: MPI is already finalised");
  int provided = 0, code = MPI_SUCCESS;
  if (!initialised) {
    // MULTIPLE lets several communicators' threads run at once; SERIALIZED
    // is enough for one.
    code = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
    if (code != MPI_SUCCESS)
      return fail("MPI_Init_thread failed", code);
    gWeInitialised = true;
    // Ours to set: errors on the world become codes, not aborts.
    code = MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (code != MPI_SUCCESS)
      return fail("MPI_Comm_set_errhandler failed", code);
  } else if ((code = MPI_Query_thread(&provided)) != MPI_SUCCESS) {
    return fail("MPI_Query_thread failed", code);
  }
  if (provided < MPI_THREAD_SERIALIZED)
    return Status::error(
        "MPI communicator: MPI gives thread level " + std::to_string(provided) +
        ", collectives run on their own thread and need "
        "MPI_THREAD_SERIALIZED (initialise MPI with MPI_Init_thread)");
  if (provided < MPI_THREAD_MULTIPLE && gLiveCommunicators > 0)
    return Status::error(
        "MPI communicator: a second MPI communicator needs "
        "MPI_THREAD_MULTIPLE (MPI gives MPI_THREAD_SERIALIZED): two "
        "communication threads would call MPI at once");
  MPI_Comm comm;
  {
    // Creation is collective too: a missing peer must not hang it.
    Watchdog watch(options.timeoutSeconds, "creating the MPI communicator");
    watch.begin("MPI_Comm_dup(MPI_COMM_WORLD)");
    code = MPI_Comm_dup(MPI_COMM_WORLD, &comm);
    watch.end();
  }
  if (code != MPI_SUCCESS)
    return fail("MPI_Comm_dup failed", code);
  int rank = 0, size = 1;
  if ((code = MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN)) !=
          MPI_SUCCESS ||
      (code = MPI_Comm_rank(comm, &rank)) != MPI_SUCCESS ||
      (code = MPI_Comm_size(comm, &size)) != MPI_SUCCESS) {
    MPI_Comm_free(&comm);
    return fail("MPI_Comm_set_errhandler/rank/size failed", code);
  }
  // The responder's channel (peer reports) needs MPI_THREAD_MULTIPLE.
  MPI_Comm probeComm = MPI_COMM_NULL;
  if (provided >= MPI_THREAD_MULTIPLE && size > 1) {
    Watchdog watch(options.timeoutSeconds, "creating the MPI communicator");
    watch.begin("MPI_Comm_dup (probes)");
    if (MPI_Comm_dup(comm, &probeComm) != MPI_SUCCESS)
      probeComm = MPI_COMM_NULL;
    watch.end();
  }
  ++gLiveCommunicators;
  return std::unique_ptr<Communicator>(std::make_unique<MpiCommunicator>(
      comm, probeComm, rank, size, options));
}

} // namespace vitc::coll
