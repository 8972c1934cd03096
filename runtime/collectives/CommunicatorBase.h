//===- CommunicatorBase.h - shared parts of the communicators ---*- C++ -*-===//
//
// Internal: argument checks, descriptions of collectives for messages, the
// Work state and the issue-order bookkeeping shared by all communicators,
// and the communication thread (task queue, watchdog, broken state) shared
// by the MPI and NCCL communicators.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COLLECTIVES_COMMUNICATORBASE_H
#define VITC_COLLECTIVES_COMMUNICATORBASE_H

#include "Watchdog.h"
#include "vitc/collectives/Communicator.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vitc::coll {

struct Work::State {
  uint64_t seq = 0;
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  Status status = Status::ok();

  void complete(Status result);
};

/// One collective as issued: what every message names.
struct OpDesc {
  uint64_t seq = 0;
  CollectiveKind kind = CollectiveKind::Barrier;
  ReduceOp op = ReduceOp::Sum; // reductions only
  DType dtype = DType::F32;
  /// Elements: all_reduce/broadcast: the buffer; all_gather/reduce_scatter:
  /// one rank block; the V forms: the sum of counts.
  int64_t count = 0;
  int root = 0;                // broadcast only
  std::vector<int64_t> counts; // the V forms only
  const void *send = nullptr;
  void *recv = nullptr;

  bool hasOp() const {
    return kind == CollectiveKind::AllReduce ||
           kind == CollectiveKind::ReduceScatter;
  }
  /// Bytes this rank's buffer holds (the gathered / scattered whole).
  int64_t bytes(int worldSize) const;
  /// A hash of counts (0 without), for the agreement check.
  int64_t countsHash() const;
};

/// "all_reduce(sum, f32, 1024 elements, 4096 bytes)"
std::string describeOp(CollectiveKind kind, ReduceOp op, DType dtype,
                       int64_t count, int root, int worldSize,
                       bool vform = false);
std::string describe(const OpDesc &desc, int worldSize);

/// The agreement check (check-collectives): each rank's record of a
/// collective (seq, kind, op, dtype, count, root, counts hash, V form), and
/// the error naming every rank's collective when the records of all ranks
/// (size() records, rank-major) differ.
constexpr int kAgreementFields = 8;
void agreementRecord(const OpDesc &desc, int64_t record[kAgreementFields]);

class CommunicatorBase : public Communicator {
public:
  Work startAllReduce(const void *send, void *recv, int64_t count, DType dtype,
                      ReduceOp op) override;
  Work startAllGather(const void *send, void *recv, int64_t count,
                      DType dtype) override;
  Work startAllGatherV(const void *send, void *recv,
                       std::vector<int64_t> counts, DType dtype) override;
  Work startReduceScatter(const void *send, void *recv, int64_t recvCount,
                          DType dtype, ReduceOp op) override;
  Work startReduceScatterV(const void *send, void *recv,
                           std::vector<int64_t> counts, DType dtype,
                           ReduceOp op) override;
  Work startBroadcast(void *buffer, int64_t count, DType dtype,
                      int root) override;
  Work startBarrier() override;
  Status waitAll() override;

protected:
  /// "rank 1/4: collective #7 all_reduce(...)"
  std::string where(const OpDesc &desc) const;
  /// "<where>: <call> failed: <error>": a backend call's error.
  Status callFailed(const OpDesc &desc, const char *call,
                    const std::string &error) const;
  /// OK when every record equals this rank's, else the mismatch error.
  Status compareAgreement(const OpDesc &desc,
                          const std::vector<int64_t> &records) const;
  /// Runs (or queues) a checked collective; desc.seq is set.
  virtual void submit(OpDesc desc, std::shared_ptr<Work::State> state) = 0;
  /// The first error that broke the communicator, if any.
  virtual std::optional<std::string> brokenBy() const = 0;

private:
  Work issue(OpDesc desc);
  Status validate(const OpDesc &desc) const;

  uint64_t nextSeq_ = 1;
  Work last_;
};

/// A communicator whose collectives run in issue order on its own
/// communication thread, each (with its agreement check, when the options
/// ask for it) watched by the watchdog. The first error breaks the
/// communicator: later collectives are not run and fail naming it.
///
/// The derived class calls startThread() at the end of its constructor (the
/// thread calls its virtual functions) and stopThread() first thing in its
/// destructor, before its own teardown.
class ThreadedCommunicator : public CommunicatorBase {
public:
  ~ThreadedCommunicator() override;

protected:
  /// The watchdog names this rank "rank <rank>/<size>".
  ThreadedCommunicator(int rank, int size, const CommunicatorOptions &options);

  /// Starts the communication thread.
  void startThread();
  /// Waits for every issued collective, then ends and joins the thread.
  void stopThread();

  /// The agreement check (options.checkCollectives), on the communication
  /// thread, before the collective: every rank compares its record of it.
  virtual Status agree(const OpDesc &desc) = 0;
  /// Runs one collective on the communication thread.
  virtual Status execute(const OpDesc &desc) = 0;
  /// Runs once on the communication thread, before any collective.
  virtual void onThreadStart() {}

  /// Whether an error broke the communicator.
  bool isBroken() const { return broken_.load(); }
  Watchdog &watchdog() { return watchdog_; }

  void submit(OpDesc desc, std::shared_ptr<Work::State> state) final;
  std::optional<std::string> brokenBy() const final;

private:
  struct Task {
    OpDesc desc;
    std::shared_ptr<Work::State> state;
  };

  void run();

  bool checkCollectives_;
  Watchdog watchdog_;

  std::thread thread_;
  std::mutex queueMutex_;
  std::condition_variable queueCv_;
  std::deque<Task> queue_;
  bool stop_ = false;

  mutable std::mutex brokenMutex_;
  std::atomic<bool> broken_{false};
  std::string brokenBy_;
};

} // namespace vitc::coll

#endif // VITC_COLLECTIVES_COMMUNICATORBASE_H
