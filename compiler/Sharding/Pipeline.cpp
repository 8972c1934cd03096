//===- Pipeline.cpp - the sharding strategies -----------------------------===//
#include "compiler/Sharding/Passes.h"

using namespace mlir;

namespace vitc {

void addShardingPasses(OpPassManager &pm, ShardStrategy strategy,
                       const std::vector<std::string> &functions) {
  if (strategy == ShardStrategy::Ddp) {
    KeyRandomBySampleOptions key;
    key.functions.assign(functions.begin(), functions.end());
    pm.addPass(createKeyRandomBySample(key));
    PartitionDdpOptions ddp;
    ddp.functions.assign(functions.begin(), functions.end());
    pm.addPass(createPartitionDdp(ddp));
  }
}

} // namespace vitc
