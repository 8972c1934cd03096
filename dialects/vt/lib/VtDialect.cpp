//===- VtDialect.cpp - the vt dialect ---------------------------------------===//
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace vitc::vt;

#include "vitc/Dialect/Vt/VtDialect.cpp.inc"
#include "vitc/Dialect/Vt/VtInterfaces.cpp.inc"

void VtDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "vitc/Dialect/Vt/VtOps.cpp.inc"
      >();
}

Operation *VtDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                          Type type, Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type || !isa<RankedTensorType>(type))
    return nullptr;
  return ConstantOp::create(builder, loc, typed, StringAttr());
}

FusionKind vitc::vt::fusionKindFromTraits(Operation *op) {
  if (op->hasTrait<OpTrait::ElementwiseKind>())
    return FusionKind::Elementwise;
  if (op->hasTrait<OpTrait::ReductionKind>())
    return FusionKind::Reduction;
  if (op->hasTrait<OpTrait::AnchorKind>())
    return FusionKind::Anchor;
  if (op->hasTrait<OpTrait::MovementKind>())
    return FusionKind::Movement;
  return FusionKind::Opaque;
}
