//===- VtOps.h - the vt dialect -----------------------------------*- C++ -*-===//
#ifndef VITC_DIALECT_VT_VTOPS_H
#define VITC_DIALECT_VT_VTOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace vitc::vt {

/// How an op takes part in kernel fusion (see FusionKindOpInterface).
enum class FusionKind { Elementwise, Reduction, Anchor, Movement, Opaque };

FusionKind fusionKindFromTraits(mlir::Operation *op);

/// The values of a constant integer tensor (shape vectors, indices), or
/// nullopt if `v` is not a constant.
std::optional<llvm::SmallVector<int64_t>> getConstantInts(mlir::Value v);

/// The gradient of a broadcasting op's operand: sums `grad` (shaped like the
/// op's result) over the dims that broadcasting added or stretched, and
/// reshapes it to `operand`'s shape (in `grad`'s element type, which may be
/// wider: mixed precision). Dynamic dims are taken as equal to the
/// result's (the lowering does not stretch a dynamic dim either); a static
/// 1 against a dynamic dim is summed. Returns `grad` if nothing to do.
mlir::Value unbroadcastGradient(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::Value grad, mlir::Value operand);

namespace OpTrait {
template <typename ConcreteType>
struct ElementwiseKind
    : mlir::OpTrait::TraitBase<ConcreteType, ElementwiseKind> {};
template <typename ConcreteType>
struct ReductionKind : mlir::OpTrait::TraitBase<ConcreteType, ReductionKind> {};
template <typename ConcreteType>
struct AnchorKind : mlir::OpTrait::TraitBase<ConcreteType, AnchorKind> {};
template <typename ConcreteType>
struct MovementKind : mlir::OpTrait::TraitBase<ConcreteType, MovementKind> {};
} // namespace OpTrait

} // namespace vitc::vt

#include "vitc/Dialect/Vt/VtDialect.h.inc"
#include "vitc/Dialect/Vt/VtInterfaces.h.inc"

#define GET_OP_CLASSES
#include "vitc/Dialect/Vt/VtOps.h.inc"

#endif // VITC_DIALECT_VT_VTOPS_H
