//===- DataParallel.h - this process's place in a data-parallel job -------===//
//
// A trainer started as one of several ranks (Launch.h) trains a
// data-parallel artifact (vitc --shard ddp) on the MPI job's communicator:
// the compiled step's collectives run on it (CompiledCodeCollectives), each
// rank takes its slice of every global batch (data::RankSlice) and tells
// the collectives its share before each step, so that averages are over the
// global batch. Alone, the trainer is a world of one and no MPI is started.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_TRAIN_DATAPARALLEL_H
#define VITC_TRAIN_DATAPARALLEL_H

#include "Data.h"
#include "TrainerOptions.h"

#include "vitc/collectives/CompiledCode.h"
#include "vitc/collectives/Communicator.h"
#include "vitc/runtime/Status.h"
#include "vitc_runtime.h"

#include <memory>
#include <string>
#include <vector>

namespace vitc::train {

class DataParallel {
public:
  /// This process's place: a world of one without a launcher (or with one
  /// rank), else the MPI job, whose size must match the launcher's. An
  /// error naming the rank when the artifact (`info`, named `name`) is not
  /// a data-parallel one or MPI cannot start.
  static rt::StatusOr<std::unique_ptr<DataParallel>>
  create(const vitc_training_info &info, const std::string &name,
         const TrainerOptions &options);
  ~DataParallel();

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// Rank 0 writes what the job writes once (metrics, checkpoints).
  bool isRoot() const { return rank_ == 0; }
  const char *backend() const {
    return communicator_ ? communicator_->backend() : "single";
  }
  data::RankSlice slice() const { return {rank_, size_}; }
  /// "rank R/N: " with several ranks, else "": what messages start with.
  std::string prefix() const;

  /// Before a step on `batch` (this rank's slice): its share of the global
  /// batch, for the step's averages.
  void beforeStep(const data::Batch &batch);
  /// Bytes sent by the compiled steps' collectives so far (ring cost,
  /// CompiledCodeCollectives::ringBytes); 0 alone.
  int64_t collectiveBytes() const {
    return compiled_ ? compiled_->ringBytes() : 0;
  }
  /// Seconds the compiled steps waited for collectives so far; 0 alone.
  double collectiveWaitSeconds() const {
    return compiled_ ? compiled_->waitSeconds() : 0;
  }

  /// Whether every rank's `ok` is true (each rank calls it; true alone).
  rt::StatusOr<bool> allRanksOk(bool ok) const;

  /// The whole of a sharded tensor (FSDP) of shape `whole` from every
  /// rank's `block`: the first numel elements of the blocks in rank order.
  /// Collective: every rank calls it, for the same tensors in the same
  /// order.
  rt::StatusOr<std::vector<char>>
  gatherWhole(const vitc_tensor &block,
              const std::vector<int64_t> &whole) const;

private:
  DataParallel() = default;

  int rank_ = 0, size_ = 1;
  std::unique_ptr<coll::Communicator> communicator_;
  std::unique_ptr<coll::CompiledCodeCollectives> compiled_;
};

} // namespace vitc::train

#endif // VITC_TRAIN_DATAPARALLEL_H
