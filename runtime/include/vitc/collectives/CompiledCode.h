//===- CompiledCode.h - a communicator for compiled steps ---------*- C++ -*-===//
//
// Sharded steps call the runtime's collective entry points
// (vitc/runtime/CompiledCollectives.h); a CompiledCodeCollectives makes them
// run on a communicator of this library, e.g. the MPI job's, for as long as
// it lives.
//
// Averages are over samples, not ranks. A data-parallel step averages its
// loss and gradients, each a mean over the rank's slice of the global
// batch; with equal slices the mean over ranks is the mean over the batch.
// When slices differ (a last batch that does not split evenly), rank r's
// value is weighted by its share local_r / global of the batch and the
// weighted values are summed, which is again the mean over the batch that
// one process computes. A rank whose slice is empty (it ran the step on a
// stand-in sample) contributes nothing: zeros to sums and averages, the
// lowest value to a max.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COLLECTIVES_COMPILEDCODE_H
#define VITC_COLLECTIVES_COMPILEDCODE_H

#include "vitc/collectives/Communicator.h"

#include <cstdint>
#include <map>
#include <vector>

namespace vitc::coll {

class CompiledCodeCollectives {
public:
  /// Compiled code's collectives run on `communicator` (which must outlive
  /// this object) until this object is destroyed; then compiled code runs
  /// as a world of one again. One at a time per process.
  explicit CompiledCodeCollectives(Communicator &communicator);
  ~CompiledCodeCollectives();
  CompiledCodeCollectives(const CompiledCodeCollectives &) = delete;
  CompiledCodeCollectives &operator=(const CompiledCodeCollectives &) = delete;

  /// The steps that follow run on `local` samples of a global batch of
  /// `global` (local 0: a stand-in sample that must count for nothing).
  /// Slices are split as data::RankSlice splits them: they are taken to be
  /// equal exactly when `global` is a multiple of the ranks (every rank
  /// must decide alike). Until the first call, slices are equal.
  void setBatchShare(int64_t local, int64_t global);

  /// Bytes this rank has sent in compiled code's collectives so far, by the
  /// ring algorithms' cost (what NCCL and MPI move for large buffers): an
  /// all-reduce of B bytes sends 2 B (N-1)/N, an all-gather or
  /// reduce-scatter whose whole buffer is B bytes sends B (N-1)/N.
  int64_t ringBytes() const { return context_.ringBytes; }
  /// Seconds compiled code has spent waiting for collectives so far: the
  /// communication the step did not hide behind its compute.
  double waitSeconds() const { return context_.waitSeconds; }

  /// A collective compiled code has started and not yet waited for.
  struct Pending {
    Work work;
    Status status = Status::ok(); // an error found before it was issued
    std::vector<char> scratch;    // weighted input, alive until it has run
  };

  /// The collectives' context: what the runtime hook calls with.
  struct Context {
    Communicator *communicator;
    int64_t local = 1, global = 0; // global 0: equal slices
    int64_t ringBytes = 0;
    double waitSeconds = 0;
    int64_t nextHandle = 1;
    std::map<int64_t, Pending> pending;
  };

private:
  Context context_;
};

} // namespace vitc::coll

#endif // VITC_COLLECTIVES_COMPILEDCODE_H
