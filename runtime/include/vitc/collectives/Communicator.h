//===- Communicator.h - collectives across ranks ----------------*- C++ -*-===//
//
// The runtime's collectives library (VitcCollectives): a Communicator
// interface with collectives on contiguous buffers, and three
// implementations:
//
//  - createSingleCommunicator(): a world of one (rank 0 of 1), for tests and
//    one-process runs. Every collective is a local copy.
//  - createMpiCommunicator(): the ranks of an MPI job (mpirun, srun), over a
//    duplicate of MPI_COMM_WORLD (creating one is collective: every rank
//    calls it). MPI is initialised (MPI_Init_thread, MPI_THREAD_MULTIPLE
//    asked) only when the application has not done so. Host buffers.
//  - createNcclCommunicator(): one GPU per rank, bootstrapped through another
//    communicator (below). Device buffers.
//
// Ordering: collectives are numbered (seq 1, 2, ...) and run in issue order
// on one communication thread; every rank must issue the same collectives in
// the same order, as with MPI and NCCL. start*() returns a Work handle at
// once; the buffers belong to the collective until its wait() returns. The
// blocking forms are start*() followed by wait().
//
// Errors are values (vitc/runtime/Status.h): a Status names the rank, the
// collective (seq, kind, op, dtype, count, bytes) and what failed. After an
// error the communicator is broken: later collectives fail at once.
//
// Faults never hang: a watchdog ends the process (_exit with
// kWatchdogExitCode, which makes mpirun end the job) when a collective
// outlives CommunicatorOptions::timeoutSeconds, printing one line that names
// the rank and the collective; with checkCollectives the ranks first agree on
// each collective's (seq, kind, op, dtype, count, root) and a mismatch is
// returned as an error on every rank instead of a deadlock.
//
// Element types: f32; bf16 (uint16_t storage) reduced with f32 arithmetic;
// i64 for counts (sum and max; mean takes f32 and bf16). Over MPI a bf16
// reduction widens its inputs to f32, reduces (and divides, for mean) in f32
// and rounds to bf16 once: exact f32 accumulation at twice the traffic of
// bf16 (gathers and broadcasts move the 16-bit values). NCCL reduces bf16
// natively (f32 arithmetic per step, bf16 between steps).
//
// Uneven sizes: two conventions.
//  - Padded (FSDP's): a flat buffer of `total` elements is split into
//    worldSize blocks of paddedShardCount(total, worldSize) =
//    ceil(total / worldSize) elements; the caller pads the buffer to
//    worldSize * that count (shardRange() gives the unpadded part of each
//    block) and uses allGather / reduceScatter with equal blocks.
//  - Counts: allGatherV / reduceScatterV take the per-rank counts (identical
//    on every rank); rank r's block starts at the sum of counts[0..r).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COLLECTIVES_COMMUNICATOR_H
#define VITC_COLLECTIVES_COMMUNICATOR_H

#include "vitc/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vitc::coll {

using rt::Status;
using rt::StatusOr;

enum class DType { F32, BF16, I64 };
enum class ReduceOp { Sum, Mean, Max };
enum class CollectiveKind {
  AllReduce,
  AllGather,
  ReduceScatter,
  Broadcast,
  Barrier
};

size_t dtypeSize(DType dtype);
const char *dtypeName(DType dtype);              // "f32", "bf16", "i64"
const char *reduceOpName(ReduceOp op);           // "sum", "mean", "max"
const char *collectiveName(CollectiveKind kind); // "all_reduce", ...

/// Exit status of a process ended by the watchdog.
constexpr int kWatchdogExitCode = 75;

/// bf16 <-> f32 (round to nearest even; NaN stays NaN).
uint16_t bf16FromFloat(float value);
float floatFromBf16(uint16_t value);

/// The padded convention: elements per rank block, and the [begin, end) of
/// `rank`'s block that holds real (unpadded) elements of a flat buffer.
int64_t paddedShardCount(int64_t total, int worldSize);
struct ShardRange {
  int64_t begin = 0, end = 0;
};
ShardRange shardRange(int64_t total, int worldSize, int rank);

struct CommunicatorOptions {
  /// Watchdog: a collective running longer than this ends the process
  /// (kWatchdogExitCode). <= 0 turns the watchdog off.
  double timeoutSeconds = 300;
  /// Agree on each collective's description before running it.
  bool checkCollectives = false;
};

/// The handle of a collective in flight. wait() blocks until it has run and
/// returns its status (again on later calls). Dropping a handle does not
/// cancel the collective: its buffers must stay alive until it has run
/// (Communicator::waitAll() or a later handle's wait()).
class Work {
public:
  struct State;
  Work() = default;
  explicit Work(std::shared_ptr<State> state) : state_(std::move(state)) {}
  Status wait();
  /// True once the collective has run (never blocks).
  bool ready() const;
  /// The collective's sequence number (0 for an empty handle).
  uint64_t seq() const;

private:
  std::shared_ptr<State> state_;
};

/// Collectives over the ranks of one group. Not thread safe: issue from one
/// thread (the communication thread is internal).
class Communicator {
public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// "single" or "mpi".
  virtual const char *backend() const = 0;

  /// recv[i] = op over ranks of send[i], `count` elements. send == recv is
  /// the in-place form. i64 takes sum and max.
  virtual Work startAllReduce(const void *send, void *recv, int64_t count,
                              DType dtype, ReduceOp op) = 0;
  /// recv (size() * count elements) gets rank r's `count` elements of send
  /// at r * count. In place: send == recv + rank() * count elements.
  virtual Work startAllGather(const void *send, void *recv, int64_t count,
                              DType dtype) = 0;
  /// Rank r's counts[r] elements of send go to recv at offset
  /// sum(counts[0..r)). In place: send at that offset of recv.
  virtual Work startAllGatherV(const void *send, void *recv,
                               std::vector<int64_t> counts, DType dtype) = 0;
  /// send holds size() blocks of recvCount elements; recv (recvCount
  /// elements) gets block rank() reduced over ranks. Any op (mean: f32, bf16).
  virtual Work startReduceScatter(const void *send, void *recv,
                                  int64_t recvCount, DType dtype,
                                  ReduceOp op) = 0;
  /// send holds sum(counts) elements; recv gets the counts[rank()] elements
  /// at offset sum(counts[0..rank())), reduced over ranks.
  virtual Work startReduceScatterV(const void *send, void *recv,
                                   std::vector<int64_t> counts, DType dtype,
                                   ReduceOp op) = 0;
  /// buffer's `count` elements from `root` to every rank.
  virtual Work startBroadcast(void *buffer, int64_t count, DType dtype,
                              int root) = 0;
  virtual Work startBarrier() = 0;
  /// Waits for every collective issued so far; the first error, if any.
  virtual Status waitAll() = 0;

  // Blocking forms: start, then wait.
  Status allReduce(const void *send, void *recv, int64_t count, DType dtype,
                   ReduceOp op) {
    return startAllReduce(send, recv, count, dtype, op).wait();
  }
  Status allGather(const void *send, void *recv, int64_t count, DType dtype) {
    return startAllGather(send, recv, count, dtype).wait();
  }
  Status allGatherV(const void *send, void *recv, std::vector<int64_t> counts,
                    DType dtype) {
    return startAllGatherV(send, recv, std::move(counts), dtype).wait();
  }
  Status reduceScatter(const void *send, void *recv, int64_t recvCount,
                       DType dtype, ReduceOp op) {
    return startReduceScatter(send, recv, recvCount, dtype, op).wait();
  }
  Status reduceScatterV(const void *send, void *recv,
                        std::vector<int64_t> counts, DType dtype, ReduceOp op) {
    return startReduceScatterV(send, recv, std::move(counts), dtype, op).wait();
  }
  Status broadcast(void *buffer, int64_t count, DType dtype, int root) {
    return startBroadcast(buffer, count, dtype, root).wait();
  }
  Status barrier() { return startBarrier().wait(); }
};

/// A world of one: rank 0 of 1, no peers, no threads. For tests and
/// one-process runs; never a stand-in for several ranks.
std::unique_ptr<Communicator> createSingleCommunicator();

/// Whether this build has the MPI communicator.
bool mpiCommunicatorAvailable();

/// The ranks of the MPI job this process belongs to (a singleton world when
/// it was started without mpirun). An error when MPI cannot start, when the
/// application initialised MPI below MPI_THREAD_SERIALIZED (or below
/// MPI_THREAD_MULTIPLE for a second live communicator), or when this build
/// has no MPI. MPI is finalised when the last MPI communicator created
/// after this library initialised it is destroyed.
StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &options = {});

/// Whether this build has the NCCL communicator (the CUDA toolkit with NCCL
/// was found).
bool ncclCommunicatorAvailable();

/// The ranks of `bootstrap` (the MPI communicator, or a world of one) as an
/// NCCL communicator on CUDA device `device` of this process: rank 0's
/// ncclUniqueId is broadcast over `bootstrap`, which every rank calls this
/// with; `bootstrap` may be destroyed afterwards. Buffers are device
/// pointers. Collectives run in issue order on the communicator's own
/// stream; Work::wait() returns once the collective has finished on the
/// device. NCCL reduces bf16 itself (f32 arithmetic, bf16 between steps).
/// An error without NCCL in this build, a CUDA driver or the device.
StatusOr<std::unique_ptr<Communicator>>
createNcclCommunicator(Communicator &bootstrap, int device,
                       const CommunicatorOptions &options = {});

} // namespace vitc::coll

#endif // VITC_COLLECTIVES_COMMUNICATOR_H
