//===- NoMpi.cpp - builds without MPI -------------------------------------===//
#include "vitc/collectives/Communicator.h"

namespace vitc::coll {

bool mpiCommunicatorAvailable() { return false; }

StatusOr<std::unique_ptr<Communicator>>
createMpiCommunicator(const CommunicatorOptions &) {
  return Status::error("MPI communicator: this vitc was built without MPI "
                       "(install an MPI, e.g. libopenmpi-dev, and rebuild)");
}

} // namespace vitc::coll
