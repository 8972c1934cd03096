//===- GradBuilder.h - shared pieces of the vt gradient rules ---*- C++ -*-===//
//
// GradientOpInterface rules for vt-autodiff. Each rule writes the gradient of
// its operands from the gradient of its result in vt ops, so the backward
// graph is ordinary vt that decomposition, fusion and lowering treat like the
// forward graph. Rules reuse the forward result where the derivative is a
// function of it (exp, tanh, sigmoid, softmax) instead of recomputing.
// Scalars are rank-0 constants that broadcast. Operands that were broadcast
// get their gradient summed back to their shape (unbroadcastGradient).
//
// Private to dialects/vt/lib: the rules are split by op family like the
// vt -> linalg lowering (ElementwiseGradients.cpp, ReductionGradients.cpp,
// AnchorGradients.cpp, MovementGradients.cpp); this header holds the builder
// they share.
//
// Not covered yet (the pass reports "no gradient rule"): layer_norm and
// batch_norm (run vt-decompose first), hard_sigmoid/swish, 1-D matmul
// operands; conv2d and pools need static spatial dims, slice, concat and
// tile static dims where they cut or repeat.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DIALECT_VT_LIB_GRADIENTS_GRADBUILDER_H
#define VITC_DIALECT_VT_LIB_GRADIENTS_GRADBUILDER_H

#include "vitc/Dialect/Vt/VtBuilder.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include <limits>

namespace vitc::vt {

inline mlir::RankedTensorType rankedOf(mlir::Value v) {
  return mlir::cast<mlir::RankedTensorType>(v.getType());
}

inline bool isFloatTensor(mlir::Value v) {
  return mlir::isa<mlir::FloatType>(mlir::getElementTypeOrSelf(v.getType()));
}

/// Fills `out` with one null gradient per operand of `op`.
inline void noGradients(mlir::Operation *op,
                        llvm::SmallVectorImpl<mlir::Value> &out) {
  out.assign(op->getNumOperands(), mlir::Value());
}

/// An end that slices to the end of a dim of any size (ONNX clamps it).
inline constexpr int64_t kToEnd = std::numeric_limits<int64_t>::max();

/// VtBuilder plus the shapes and movement gradient rules need; binary
/// results are inferred, unary ones keep their operand's type.
struct GradBuilder : VtBuilder {
  /// A rank-0 constant of `like`'s element type.
  mlir::Value scalar(mlir::Value like, double v) { return scalarLike(like, v); }
  /// cond ? x : 0 (or 0 : x with `swap`), broadcast three ways.
  mlir::Value where(mlir::Value cond, mlir::Value x, bool swap = false);
  mlir::Value unbroadcast(mlir::Value grad, mlir::Value operand) {
    return unbroadcastGradient(b, loc, grad, operand);
  }
  /// `x` converted to element type `elt` (itself if it has it).
  mlir::Value castElements(mlir::Value x, mlir::Type elt);
  /// Makes the product `anchor` (a matmul or conv just built, its result
  /// inferred from its operands) accumulate and return in `acc`, the
  /// forward op's result type: f32 for bf16 operands.
  mlir::Value accumulateIn(mlir::Value anchor, mlir::Type acc);
  /// Transposes the last two dims.
  mlir::Value transposeLast2(mlir::Value x);
  mlir::Value reshape(mlir::Value x, llvm::ArrayRef<int64_t> shape,
                      mlir::RankedTensorType type);

  /// The result gradient of a reduction of `x` over `axes`, with the reduced
  /// dims as size 1 (reshaped back where the reduction dropped them), so
  /// that it broadcasts against `x`.
  mlir::Value keepDims(mlir::Value grad, mlir::Value x,
                       llvm::ArrayRef<int64_t> axes, bool keepdims);

  /// Broadcasts `v` (x's rank, size-1 dims) to x's shape.
  mlir::Value broadcastLike(mlir::Value v, mlir::Value x);

  /// The number of elements a reduction of `x` over `axes` combines, as a
  /// rank-0 tensor of x's element type; dynamic dims are read at run time.
  mlir::Value reducedCount(mlir::Value x, llvm::ArrayRef<int64_t> axes);
  /// A constant of `elt` (integer) with `values`, shaped `shape`.
  mlir::Value intConstant(llvm::ArrayRef<int64_t> shape,
                          llvm::ArrayRef<int64_t> values, mlir::Type elt);
  /// Reshape with ONNX dims (0 copies the input dim at that position, -1 is
  /// inferred); the result type is static wherever that can be told here.
  mlir::Value reshapeTo(mlir::Value x, llvm::ArrayRef<int64_t> shape);
  /// Constant padding by `lo`/`hi` per dim; negative entries crop.
  mlir::Value pad(mlir::Value x, llvm::ArrayRef<int64_t> lo,
                  llvm::ArrayRef<int64_t> hi, double value = 0.0);
  mlir::Value slice(mlir::Value x, llvm::ArrayRef<int64_t> starts,
                    llvm::ArrayRef<int64_t> ends,
                    llvm::ArrayRef<int64_t> steps) {
    return SliceOp::create(b, loc, x, starts, ends, steps);
  }
  /// Spreads dim i of `x` by factors[i]: element j moves to j * factors[i]
  /// with zeros between (the last element is followed by factors[i] - 1
  /// zeros too). Null where the reshapes cannot name x's dynamic dims (only
  /// dynamic dims before the first spread one, or a single other one, can).
  mlir::Value dilate(mlir::Value x, llvm::ArrayRef<int64_t> factors);

  /// The gradient of a convolution's input, [N, C, in], from the result
  /// gradient `g`, [N, O, out]: a stride-1 convolution (dilation `dil`) of
  /// `g` dilated by the stride and padded so that each input position meets
  /// every filter tap that read it, with `flipped` the filter with taps
  /// reversed and in/out channels swapped per group, [C, O / group, k].
  /// Negative pads crop positions that only the forward padding reached.
  /// The padding is the same on both sides of each dim (see there). The
  /// convolution accumulates in `acc`.
  mlir::Value convInputGrad(mlir::Value g, mlir::Value flipped, int64_t group,
                            llvm::ArrayRef<int64_t> strides,
                            llvm::ArrayRef<int64_t> pads,
                            llvm::ArrayRef<int64_t> dil,
                            llvm::ArrayRef<int64_t> k,
                            llvm::ArrayRef<int64_t> in, mlir::Type acc);
};

} // namespace vitc::vt

#endif // VITC_DIALECT_VT_LIB_GRADIENTS_GRADBUILDER_H
