// Scaffolding: replaced by the real pass in this session.
#include "vitc/Compiler/Passes.h"
namespace vitc {
#define GEN_PASS_DEF_VTFUSE
#include "vitc/Compiler/Passes.h.inc"
namespace {
struct VtFusePass : impl::VtFuseBase<VtFusePass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace vitc
