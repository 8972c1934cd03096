//===- VtToLinalgScatter.cpp - vt.scatter -> a sequential scf.for nest -----===//
//
// Updates of a scatter may aim at one position (duplicate indices), and
// ONNX applies them in index order: the last write wins, reductions fold
// from the first update to the last. That is no parallel linalg op, so a
// scatter becomes a nest of scf.for over the updates' dims in row-major
// order, carrying the result through iter_args: it starts as a copy of
// `data` (bufferization.alloc_tensor, never in place: see below) and each
// update is a tensor.extract / tensor.insert on it. Work is O(updates)
// beyond that copy. On the CPU the nest, a top-level
// loop after bufferization, is outlined into a kernel function like any
// other (vitc-outline-loop-nests); it runs on one thread.
//
// An index outside [-R, R) skips its update (scf.if): the op drops it, and
// no load or store ever leaves the tensors. Loop bounds on dims where the
// verifier could not compare updates with data or indices (dynamic dims)
// are the smaller of the two, for the same reason.
//
// The CUDA target refuses the op (ConvertVtToLinalg.cpp): a one-thread
// kernel would need GPU codegen to map top-level sequential loops.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/VtToLinalg.h"

#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>

using namespace mlir;

namespace vitc {
namespace {

/// The combiner of a vt.scatter reduction other than "none".
Combiner combinerOf(StringRef reduction) {
  if (reduction == "add")
    return Combiner::Sum;
  if (reduction == "mul")
    return Combiner::Mul;
  return reduction == "max" ? Combiner::Max : Combiner::Min;
}

struct ScatterLowering : OpConversionPattern<vt::ScatterOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(vt::ScatterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = adaptor.getData(), indices = adaptor.getIndices(),
          updates = adaptor.getUpdates();
    auto dataType = cast<RankedTensorType>(data.getType());
    if (!dataType.getElementType().isIntOrFloat())
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << dataType.getElementType();
    int64_t axis = op.getAxis();
    int64_t q = cast<RankedTensorType>(indices.getType()).getRank();
    int64_t rank = cast<RankedTensorType>(updates.getType()).getRank();
    StringRef reduction = op.getReduction();

    // The trip count of each updates dim: its size, and no more than the
    // matching dim of data (P and S dims) or indices (Q dims).
    SmallVector<Value> bounds;
    for (int64_t d = 0; d < rank; ++d) {
      Value other = d < axis       ? dimValue(rewriter, loc, data, d)
                    : d < axis + q ? dimValue(rewriter, loc, indices, d - axis)
                                   : dimValue(rewriter, loc, data, d - q + 1);
      Value own = dimValue(rewriter, loc, updates, d);
      auto so = getConstantIntValue(other), sn = getConstantIntValue(own);
      bounds.push_back(so && sn ? (*so <= *sn ? other : own)
                                : arith::MinSIOp::create(rewriter, loc, own,
                                                         other)
                                      .getResult());
    }
    Value rows = dimValue(rewriter, loc, data, axis);
    Value zero = cstIndex(rewriter, loc, 0), one = cstIndex(rewriter, loc, 1);

    SmallVector<Value> ivs;
    Value row; // The update's row, once the Q loops are open.
    // Opens the loop of dim `d` (or, past the last, writes one update) on
    // `acc`; returns the tensor after it.
    std::function<Value(OpBuilder &, Location, int64_t, Value)> nest =
        [&](OpBuilder &b, Location l, int64_t d, Value acc) -> Value {
      if (d == axis + q && !row) {
        // indices[q], wrapped; an update out of range writes nothing.
        SmallVector<Value> at(ivs.begin() + axis, ivs.begin() + axis + q);
        Value i = tensor::ExtractOp::create(b, l, indices, at);
        i = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
        Value negative =
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, zero);
        i = arith::SelectOp::create(b, l, negative,
                                    arith::AddIOp::create(b, l, i, rows), i);
        Value inRange = arith::AndIOp::create(
            b, l,
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, i, zero),
            arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, rows));
        auto guard = scf::IfOp::create(
            b, l, inRange,
            [&](OpBuilder &tb, Location tl) {
              row = i;
              Value written = nest(tb, tl, d, acc);
              row = Value();
              scf::YieldOp::create(tb, tl, written);
            },
            [&](OpBuilder &eb, Location el) {
              scf::YieldOp::create(eb, el, acc);
            });
        return guard.getResult(0);
      }
      if (d == rank) {
        Value update = tensor::ExtractOp::create(b, l, updates, ivs);
        SmallVector<Value> at(ivs.begin(), ivs.begin() + axis);
        at.push_back(row);
        at.append(ivs.begin() + axis + q, ivs.end());
        if (reduction != "none")
          update = combineScalars(b, l, combinerOf(reduction),
                                  tensor::ExtractOp::create(b, l, acc, at),
                                  update);
        return tensor::InsertOp::create(b, l, update, acc, at);
      }
      auto loop = scf::ForOp::create(
          b, l, zero, bounds[d], one, ValueRange{acc},
          [&](OpBuilder &lb, Location ll, Value iv, ValueRange iterArgs) {
            ivs.push_back(iv);
            Value next = nest(lb, ll, d + 1, iterArgs[0]);
            ivs.pop_back();
            scf::YieldOp::create(lb, ll, next);
          });
      return loop.getResult(0);
    };
    // The result starts as a copy of data in a buffer of its own:
    // bufferization would otherwise write in place into a function
    // argument (a model input or a parameter), which it takes as writable,
    // or into a view of one (a reshape).
    Value copy = bufferization::AllocTensorOp::create(
        rewriter, loc, dataType, ValueRange{}, /*copy=*/data);
    Value result = nest(rewriter, loc, 0, copy);
    rewriter.replaceOp(op, castTo(rewriter, loc, result, op.getType()));
    return success();
  }
};

} // namespace

void populateVtScatterToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<ScatterLowering>(patterns.getContext());
}

} // namespace vitc
