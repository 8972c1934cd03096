// Scaffolding: replaced by the real pass in this session.
#include "vitc/Compiler/Passes.h"
namespace vitc {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTS
#include "vitc/Compiler/Passes.h.inc"
namespace {
struct ExternalizeWeightsPass : impl::ExternalizeWeightsBase<ExternalizeWeightsPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace vitc
