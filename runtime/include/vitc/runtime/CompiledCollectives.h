//===- CompiledCollectives.h - how compiled steps reach the ranks -*- C++ -*-===//
//
// A sharded training step (vitc --shard ddp) reduces its gradients, loss and
// hit count by calling the runtime's entry points
// `_mlir_ciface_vitc_coll_all_reduce_<f32|bf16|i64>(memref<?xT>, i64)`
// (compiler/Lowering/CollectiveBufferization.cpp emits the calls). They run
// on the hook installed here: the trainer installs one that runs on the
// job's communicator (runtime/collectives). With no hook the process is a
// world of one, where every reduction of a value is the value itself, so the
// same artifact runs unchanged in one process.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_COMPILEDCOLLECTIVES_H
#define VITC_RUNTIME_COMPILEDCOLLECTIVES_H

#include "vitc/runtime/Status.h"

#include <cstdint>

namespace vitc::rt {

enum class CollectiveDType { F32, BF16, I64 };

/// The reductions compiled code asks for: mlir::shard::ReductionKind's
/// values, which the compiler passes through unchanged.
enum class CollectiveReduction : int64_t { Sum = 1, Max = 2, Average = 5 };

struct CollectivesHook {
  /// Reduces the `count` elements at `data` in place across the ranks.
  Status (*allReduce)(void *context, void *data, int64_t count,
                      CollectiveDType dtype, CollectiveReduction reduction);
  void *context;
};

/// Installs `hook` (copied) for every later collective of compiled code in
/// this process; nullptr restores the world of one. Not thread safe against
/// steps running at the same time.
void setCollectivesHook(const CollectivesHook *hook);

} // namespace vitc::rt

#endif // VITC_RUNTIME_COMPILEDCOLLECTIVES_H
