//===- VtBuilder.cpp - helpers for building vt graphs ---------------------===//
//
// The out-of-line pieces of VtBuilder.h: shape helpers shared by the code
// that writes vt graphs (vt-autodiff, the gradient rules in gradients/).
//
//===----------------------------------------------------------------------===//
#include "vitc/Dialect/Vt/VtBuilder.h"

using namespace mlir;
using namespace vitc::vt;

Value vitc::vt::buildShapeOf(OpBuilder &b, Location loc, Value x) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.hasStaticShape()) {
    auto shapeType = RankedTensorType::get({type.getRank()}, b.getI64Type());
    return ConstantOp::create(
        b, loc, DenseIntElementsAttr::get(shapeType, type.getShape()),
        StringAttr());
  }
  return ShapeOfOp::create(b, loc, x);
}
