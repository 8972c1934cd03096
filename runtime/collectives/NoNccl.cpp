//===- NoNccl.cpp - builds without NCCL -----------------------------------===//
#include "vitc/collectives/Communicator.h"

namespace vitc::coll {

bool ncclCommunicatorAvailable() { return false; }

StatusOr<std::unique_ptr<Communicator>>
createNcclCommunicator(Communicator &, int, const CommunicatorOptions &) {
  return Status::error("NCCL communicator: this vitc was built without NCCL "
                       "(the CUDA toolkit with nccl.h and libnccl)");
}

} // namespace vitc::coll
