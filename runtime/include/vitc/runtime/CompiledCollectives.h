//===- CompiledCollectives.h - how compiled steps reach the ranks -*- C++ -*-===//
//
// A sharded training step calls the runtime's collective entry points
// (compiler/Lowering/CollectiveBufferization.cpp emits the calls):
//   _mlir_ciface_vitc_coll_all_reduce_<f32|bf16|i64>(memref<?xT> data, i64)
//       reduces `data` in place (vitc --shard ddp: gradients, loss, hits);
//   _mlir_ciface_vitc_coll_all_gather_<f32|bf16>(memref<?xT> send,
//                                                memref<?xT> recv)
//       recv (world size x send's elements) gets every rank's send in rank
//       order (--shard fsdp: a parameter from its shards);
//   _mlir_ciface_vitc_coll_reduce_scatter_<f32|bf16>(memref<?xT> send,
//                                                    memref<?xT> recv, i64)
//       recv gets block `rank` of send (world size blocks of recv's
//       elements) reduced over the ranks (--shard fsdp: gradient shards);
//   int64_t vitc_coll_world_size(void)
//       the ranks (shard.grid_shape of the job's grid).
// Each collective also comes as a start and a wait, so that a step computes
// while it runs (compiler/Lowering/OverlapCollectives.cpp):
//   int64_t _mlir_ciface_vitc_coll_start_<collective>_<dtype>(same args)
//       issues it and returns its handle;
//   void _mlir_ciface_vitc_coll_wait_<dtype>(i64 handle, memref<?xT>,
//                                            memref<?xT>)
//       returns once it has run; the buffers are the collective's (the
//       same one twice for an all-reduce), passed so that the compiled code
//       keeps them alive until then.
// The i64 is the reduction (mlir::shard::ReductionKind's value). They run
// on the hook installed here: the trainer installs one that runs on the
// job's communicator (runtime/collectives). With no hook the process is a
// world of one, where every reduction of a value is the value itself and a
// gather or scatter a copy, so the same artifact runs unchanged in one
// process.
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
  /// The ranks.
  int (*size)(void *context);
  /// Issue a collective without waiting and return a handle (> 0) for
  /// wait(), which returns its status; the buffers belong to the collective
  /// until then. (The blocking entry points are a start and a wait.)
  /// All-reduce: the `count` elements at `data`, in place.
  int64_t (*startAllReduce)(void *context, void *data, int64_t count,
                            CollectiveDType dtype,
                            CollectiveReduction reduction);
  /// All-gather: recv (size x count elements) gets each rank's `count`
  /// elements of send.
  int64_t (*startAllGather)(void *context, const void *send, void *recv,
                            int64_t count, CollectiveDType dtype);
  /// Reduce-scatter: recv (recvCount elements) gets block `rank` of send
  /// (size blocks of recvCount elements) reduced over the ranks.
  int64_t (*startReduceScatter)(void *context, const void *send, void *recv,
                                int64_t recvCount, CollectiveDType dtype,
                                CollectiveReduction reduction);
  Status (*wait)(void *context, int64_t handle);
  void *context;
};

/// Installs `hook` (copied) for every later collective of compiled code in
/// this process; nullptr restores the world of one. Not thread safe against
/// steps running at the same time.
void setCollectivesHook(const CollectivesHook *hook);

} // namespace vitc::rt

#endif // VITC_RUNTIME_COMPILEDCOLLECTIVES_H
