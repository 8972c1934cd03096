//===- VtToLinalg.h - shared pieces of the vt -> linalg lowering -*- C++ -*-===//
//
// Private to compiler/Lowering: the conversion patterns are split by op
// family (VtToLinalgElementwise.cpp, VtToLinalgReductions.cpp,
// VtToLinalgAnchors.cpp, VtToLinalgMovement.cpp, VtToLinalgSlicing.cpp,
// VtToLinalgScatter.cpp);
// ConvertVtToLinalg.cpp assembles them into the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_LOWERING_VTTOLINALG_H
#define VITC_COMPILER_LOWERING_VTTOLINALG_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace vitc {

/// Scalar constant `v` of int or float type `type`.
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, double v);

/// The size of dim `dim` of tensor `v` as an index value (a constant when
/// static, tensor.dim otherwise).
mlir::Value dimValue(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                     int64_t dim);

/// tensor.empty of `shape` (? for dynamic) and `elementType`; `dynSizes`
/// holds one index value per dynamic dim, in order.
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        llvm::ArrayRef<int64_t> shape, mlir::Type elementType,
                        mlir::ValueRange dynSizes);

/// tensor.empty shaped like `like` (dynamic sizes from tensor.dim) and
/// linalg.fill'ed with `value` if given.
mlir::Value filledLike(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::RankedTensorType type, mlir::ValueRange dynSizes,
                       mlir::Value fillValue);

/// Casts `v` to `type` with tensor.cast when the static information differs.
mlir::Value castTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
                   mlir::Type type);

/// tensor.pad of `source` by `low`/`high` per dim with the scalar `value`;
/// returns `source` itself when every pad is a static 0.
mlir::Value padTensor(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::Value source,
                      llvm::ArrayRef<mlir::OpFoldResult> low,
                      llvm::ArrayRef<mlir::OpFoldResult> high,
                      mlir::Value value);

/// Builds a linalg.generic over the numpy broadcast of `operands`
/// (right-aligned; a static 1 broadcasts, a dynamic dim is assumed to match
/// the other operands' dim), producing one result of `elementType`. `body`
/// computes the result scalar from the operand scalars.
mlir::Value buildElementwise(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange operands,
    mlir::Type elementType,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body);

/// The same, broadcasting `input` to `resultShape` (dynamic dims taken from
/// `dynSizes`, one per ? of resultShape); the body copies the element.
mlir::Value buildBroadcast(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Value input,
                           llvm::ArrayRef<int64_t> resultShape,
                           mlir::ValueRange dynSizes);

/// Whether `perm` swaps the last two dims and keeps the others.
bool swapsLastTwoDims(llvm::ArrayRef<int64_t> perm);

/// Indexing maps of a linalg.matmul (or, with `batched`, batch_matmul) whose
/// B operand is stored transposed: [N, K] (or [batch, N, K]).
mlir::ArrayAttr transposedBMatmulMaps(mlir::MLIRContext *ctx, bool batched);

/// `keyPerElement`: vt.random_uniform computes its stream key inside the
/// loop body (GPU kernels), not once before it (CPU).
void populateVtElementwiseToLinalgPatterns(mlir::RewritePatternSet &patterns,
                                           bool keyPerElement);
void populateVtReductionToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateVtAnchorToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateVtMovementToLinalgPatterns(mlir::RewritePatternSet &patterns);
void populateVtSlicingToLinalgPatterns(mlir::RewritePatternSet &patterns);
/// vt.scatter as a sequential scf.for nest (VtToLinalgScatter.cpp).
void populateVtScatterToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Data movement's shared pieces (VtToLinalgMovement.cpp).
/// An index constant.
mlir::Value cstIndex(mlir::OpBuilder &b, mlir::Location loc, int64_t v);

/// How two scalars fold into one, in reductions and in vt.scatter.
enum class Combiner { Sum, Mul, Max, Min };
/// kind(x, y) on float, signed integer or bool scalars (bools: sum and max
/// are `or`, mul and min `and`).
mlir::Value combineScalars(mlir::OpBuilder &b, mlir::Location loc,
                           Combiner kind, mlir::Value x, mlir::Value y);
/// A linalg.generic with no inputs producing a tensor of `shape`, whose
/// element at each index is computed by `body` from the loop indices.
mlir::Value buildIndexGeneric(
    mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<int64_t> shape,
    mlir::Type elt, mlir::ValueRange dynSizes,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   llvm::ArrayRef<mlir::Value>)>
        body);
/// The dynamic sizes among `sizes`, as values.
llvm::SmallVector<mlir::Value>
dynamicSizes(mlir::OpBuilder &b, mlir::Location loc,
             llvm::ArrayRef<mlir::OpFoldResult> sizes);


} // namespace vitc

#endif // VITC_COMPILER_LOWERING_VTTOLINALG_H
