//===- CompiledCode.h - a communicator for compiled steps ---------*- C++ -*-===//
//
// Sharded steps call the runtime's collective entry points
// (vitc/runtime/CompiledCollectives.h); this makes them run on a
// communicator of this library, e.g. the MPI job's.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COLLECTIVES_COMPILEDCODE_H
#define VITC_COLLECTIVES_COMPILEDCODE_H

#include "vitc/collectives/Communicator.h"

namespace vitc::coll {

/// Compiled code's collectives run on `communicator` (which must outlive
/// the calls) from now on.
void useForCompiledCode(Communicator &communicator);

/// Compiled code runs as a world of one again.
void stopUsingForCompiledCode();

} // namespace vitc::coll

#endif // VITC_COLLECTIVES_COMPILEDCODE_H
