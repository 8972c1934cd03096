//===- Pipeline.cpp - the sharding strategies -----------------------------===//
#include "compiler/Sharding/Passes.h"

using namespace mlir;

namespace vitc {

void addShardingPasses(OpPassManager &pm, ShardStrategy strategy,
                       const std::vector<std::string> &functions,
                       const std::string &reduceDtype) {
  if (strategy == ShardStrategy::None)
    return;
  KeyRandomBySampleOptions key;
  key.functions.assign(functions.begin(), functions.end());
  pm.addPass(createKeyRandomBySample(key));
  if (strategy == ShardStrategy::Ddp) {
    PartitionDdpOptions ddp;
    ddp.functions.assign(functions.begin(), functions.end());
    ddp.reduceDtype = reduceDtype;
    pm.addPass(createPartitionDdp(ddp));
  } else {
    PartitionFsdpOptions fsdp;
    fsdp.functions.assign(functions.begin(), functions.end());
    fsdp.reduceDtype = reduceDtype;
    pm.addPass(createPartitionFsdp(fsdp));
  }
}

} // namespace vitc
