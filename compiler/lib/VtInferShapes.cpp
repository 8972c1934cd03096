// Scaffolding: replaced by the real pass in this session.
#include "vitc/Compiler/Passes.h"
namespace vitc {
#define GEN_PASS_DEF_VTINFERSHAPES
#include "vitc/Compiler/Passes.h.inc"
namespace {
struct VtInferShapesPass : impl::VtInferShapesBase<VtInferShapesPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
} // namespace vitc
