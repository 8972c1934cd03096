//===- VtBuilder.h - terse construction of vt math ---------------*- C++ -*-===//
//
// Passes that write graphs of vt ops (losses, optimizers) read like the math
// they build: `g.add(g.mul(m, beta1), g.mul(grad, 1 - beta1))`. Result types
// are inferred by the ops; scalars are rank-0 constants that broadcast.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DIALECT_VT_VTBUILDER_H
#define VITC_DIALECT_VT_VTBUILDER_H

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/TypeUtilities.h"

namespace vitc::vt {

/// `x`'s shape as a 1-D i64 tensor: a constant where static, vt.shape_of
/// otherwise.
mlir::Value buildShapeOf(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x);

struct VtBuilder {
  mlir::OpBuilder &b;
  mlir::Location loc;

  /// A rank-0 constant of element type `elt`.
  mlir::Value scalar(mlir::Type elt, double v) {
    auto type = mlir::RankedTensorType::get({}, elt);
    mlir::Attribute value =
        mlir::isa<mlir::FloatType>(elt)
            ? mlir::DenseElementsAttr::get(type, b.getFloatAttr(elt, v))
            : mlir::DenseElementsAttr::get(
                  type, b.getIntegerAttr(elt, static_cast<int64_t>(v)));
    return ConstantOp::create(b, loc, mlir::cast<mlir::TypedAttr>(value),
                              mlir::StringAttr());
  }
  /// A rank-0 constant of `like`'s element type.
  mlir::Value scalarLike(mlir::Value like, double v) {
    return scalar(mlir::getElementTypeOrSelf(like.getType()), v);
  }
  mlir::Value add(mlir::Value x, mlir::Value y) { return AddOp::create(b, loc, x, y); }
  mlir::Value sub(mlir::Value x, mlir::Value y) { return SubOp::create(b, loc, x, y); }
  mlir::Value mul(mlir::Value x, mlir::Value y) { return MulOp::create(b, loc, x, y); }
  mlir::Value div(mlir::Value x, mlir::Value y) { return DivOp::create(b, loc, x, y); }
  mlir::Value pow(mlir::Value x, mlir::Value y) { return PowOp::create(b, loc, x, y); }
  mlir::Value min(mlir::Value x, mlir::Value y) { return MinOp::create(b, loc, x, y); }
  mlir::Value add(mlir::Value x, double c) { return add(x, scalarLike(x, c)); }
  mlir::Value mul(mlir::Value x, double c) { return mul(x, scalarLike(x, c)); }
  template <typename OpTy>
  mlir::Value unary(mlir::Value x) {
    return OpTy::create(b, loc, x.getType(), x);
  }
  mlir::Value cast(mlir::Value x, mlir::Type elt) {
    auto type = mlir::cast<mlir::RankedTensorType>(x.getType());
    return CastOp::create(b, loc, type.clone(elt), x);
  }
  mlir::Value reduceSum(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims = true) {
    return ReduceSumOp::create(b, loc, x, axes, keepdims);
  }
  mlir::Value reduceMean(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims = true) {
    return ReduceMeanOp::create(b, loc, x, axes, keepdims);
  }
  mlir::Value reduceMax(mlir::Value x, llvm::ArrayRef<int64_t> axes, bool keepdims = true) {
    return ReduceMaxOp::create(b, loc, x, axes, keepdims);
  }
  /// Sum of every element, as a rank-0 tensor.
  mlir::Value sumAll(mlir::Value x) {
    int64_t rank = mlir::cast<mlir::RankedTensorType>(x.getType()).getRank();
    return reduceSum(x, llvm::to_vector(llvm::seq<int64_t>(0, rank)), false);
  }
};

} // namespace vitc::vt

#endif // VITC_DIALECT_VT_VTBUILDER_H
