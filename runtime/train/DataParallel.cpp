//===- DataParallel.cpp - this process's place in a data-parallel job -----===//
#include "DataParallel.h"

#include "Launch.h"

#include <cstring>

namespace vitc::train {

using rt::Status;
using rt::StatusOr;

StatusOr<std::unique_ptr<DataParallel>>
DataParallel::create(const vitc_training_info &info, const std::string &name,
                     const TrainerOptions &options) {
  std::unique_ptr<DataParallel> dp(new DataParallel);
  Launch launch = detectLaunch();
  if (launch.size == 1)
    return dp;
  dp->rank_ = launch.rank;
  dp->size_ = launch.size;
  std::string where = dp->prefix();
  // A step that does not reduce across ranks would train N models apart,
  // each writing the same files.
  const char *sharding = info.sharding ? info.sharding : "none";
  if (std::strcmp(sharding, "ddp") != 0 && std::strcmp(sharding, "fsdp") != 0)
    return Status::error(
        where + name + " is not a data-parallel artifact (sharding '" +
        sharding + "'): compile it with `vitc MODEL.onnx --shard ddp` (or fsdp) to "
        "train on " + std::to_string(launch.size) + " ranks, or run one "
        "process");
  if (!coll::mpiCommunicatorAvailable())
    return Status::error(where + "this vitc was built without MPI: it "
                                 "cannot train across ranks");
  coll::CommunicatorOptions commOptions;
  commOptions.timeoutSeconds = options.collectiveTimeout;
  commOptions.checkCollectives = options.checkCollectives;
  StatusOr<std::unique_ptr<coll::Communicator>> mpi =
      coll::createMpiCommunicator(commOptions);
  if (!mpi.isOk())
    return Status::error(where + mpi.status().message());
  if ((*mpi)->size() != launch.size || (*mpi)->rank() != launch.rank)
    return Status::error(
        where + "MPI says this is rank " + std::to_string((*mpi)->rank()) +
        " of " + std::to_string((*mpi)->size()) + ", but " + launch.variable +
        " says " + std::to_string(launch.size) +
        " ranks: is this vitc's MPI the launcher's?");
  dp->communicator_ = std::move(*mpi);
  dp->compiled_ =
      std::make_unique<coll::CompiledCodeCollectives>(*dp->communicator_);
  return dp;
}

DataParallel::~DataParallel() {
  compiled_.reset(); // before the communicator it runs on
  communicator_.reset();
}

std::string DataParallel::prefix() const {
  if (size_ == 1)
    return "";
  return "rank " + std::to_string(rank_) + "/" + std::to_string(size_) + ": ";
}

void DataParallel::beforeStep(const data::Batch &batch) {
  if (compiled_)
    compiled_->setBatchShare(batch.contributing(), batch.globalSize);
}

StatusOr<std::vector<char>>
DataParallel::gatherWhole(const vitc_tensor &block,
                          const std::vector<int64_t> &whole) const {
  int64_t numel = 1;
  for (int64_t d : whole)
    numel *= d;
  size_t element = vitc_dtype_size(block.dtype);
  int64_t count = block.rank == 1 ? block.shape[0] : 0;
  if (block.rank != 1 || count * size_ < numel)
    return Status::error(prefix() + "a shard of " + std::to_string(count) +
                         " elements cannot hold its part of " +
                         std::to_string(numel));
  std::vector<char> all(count * size_ * element);
  if (!communicator_) {
    std::memcpy(all.data(), block.data, all.size());
  } else {
    coll::DType dtype;
    if (block.dtype == VITC_DTYPE_F32)
      dtype = coll::DType::F32;
    else if (block.dtype == VITC_DTYPE_BF16)
      dtype = coll::DType::BF16;
    else if (block.dtype == VITC_DTYPE_I64)
      dtype = coll::DType::I64;
    else
      return Status::error(prefix() + "cannot gather a " +
                           vitc_dtype_name(block.dtype) + " shard");
    if (Status status =
            communicator_->allGather(block.data, all.data(), count, dtype);
        !status.isOk())
      return Status::error(prefix() + status.message());
  }
  all.resize(numel * element);
  return all;
}

StatusOr<bool> DataParallel::allRanksOk(bool ok) const {
  if (!communicator_)
    return ok;
  int64_t failed = ok ? 0 : 1;
  if (Status status = communicator_->allReduce(&failed, &failed, 1,
                                               coll::DType::I64,
                                               coll::ReduceOp::Max);
      !status.isOk())
    return Status::error(prefix() + status.message());
  return failed == 0;
}

} // namespace vitc::train
