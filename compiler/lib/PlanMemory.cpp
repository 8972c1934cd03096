// Scaffolding: replaced by the real pass in this session.
#include "vitc/Compiler/Passes.h"
namespace vitc {
#define GEN_PASS_DEF_PLANMEMORY
#include "vitc/Compiler/Passes.h.inc"
namespace {
struct PlanMemoryPass : impl::PlanMemoryBase<PlanMemoryPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace vitc
