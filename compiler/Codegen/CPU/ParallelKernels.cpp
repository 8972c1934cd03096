//===- ParallelKernels.cpp - kernels that take a range of their loop ------===//
//
// Generated loop nests run on one thread unless they are split: each
// outlined kernel whose top level is an scf.parallel (linalg's parallel
// iterators) and that has enough work gets a range [begin, end) of the
// flattened iteration space of the loop's leading dims as two trailing
// arguments, and its callers pass the whole range. The kernel function is
// marked with its grain; vitc-cpu-lower-parallel-calls then runs the calls
// through the runtime's vitc_parallel_for, which hands each thread of the
// OpenMP pool (the one oneDNN uses) one contiguous chunk of the range.
//
// Only parallel dims are split, so every output element is still computed
// by one iteration, in the same order: the results do not depend on the
// thread count. Reductions stay inside an iteration (an scf.for), and a nest
// whose outer loop reduces (an scf.for at the top) stays serial.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

namespace vitc {
#define GEN_PASS_DEF_PARALLELKERNELS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {

/// The attribute vitc-cpu-lower-parallel-calls reads (kept in sync there).
constexpr llvm::StringLiteral kGrainAttr = "vitc.parallel_grain";

uint64_t mul(uint64_t a, uint64_t b) { return llvm::SaturatingMultiply(a, b); }
uint64_t add(uint64_t a, uint64_t b) { return llvm::SaturatingAdd(a, b); }

/// The trip count of `lb` to `ub` step `step` when all three are constants.
std::optional<int64_t> staticTrip(Value lb, Value ub, Value step) {
  std::optional<int64_t> l = getConstantIntValue(lb);
  std::optional<int64_t> u = getConstantIntValue(ub);
  std::optional<int64_t> s = getConstantIntValue(step);
  if (!l || !u || !s || *s <= 0)
    return std::nullopt;
  return *u <= *l ? 0 : llvm::divideCeil(*u - *l, *s);
}

bool isConstant(Value value, int64_t expected) {
  std::optional<int64_t> c = getConstantIntValue(value);
  return c && *c == expected;
}

/// Estimated op executions of a nest: iterations times the ops they run.
struct WorkEstimate {
  uint64_t dynamicTrip;

  uint64_t trip(Value lb, Value ub, Value step) const {
    std::optional<int64_t> t = staticTrip(lb, ub, step);
    return t ? static_cast<uint64_t>(*t) : dynamicTrip;
  }

  uint64_t block(Block &block) const {
    uint64_t total = 0;
    for (Operation &op : block)
      total = add(total, this->op(op));
    return total;
  }

  uint64_t op(Operation &op) const {
    if (auto loop = dyn_cast<scf::ForOp>(op))
      return mul(
          trip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep()),
          block(*loop.getBody()));
    if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
      uint64_t iterations = 1;
      for (auto [lb, ub, step] : llvm::zip(
               loop.getLowerBound(), loop.getUpperBound(), loop.getStep()))
        iterations = mul(iterations, trip(lb, ub, step));
      return mul(iterations, block(*loop.getBody()));
    }
    uint64_t total = 1; // the op itself; both sides of a branch
    for (Region &region : op.getRegions())
      for (Block &b : region)
        total = add(total, block(b));
    return total;
  }
};

/// The scf.parallel of a kernel that vitc-outline-loop-nests made: a
/// private function without results whose body is constants, one
/// scf.parallel without results and the return. Null otherwise.
scf::ParallelOp kernelLoop(func::FuncOp func) {
  if (func.isExternal() || !func.isPrivate() || func.getNumResults() != 0 ||
      !func.getBody().hasOneBlock() || func->hasAttr(kGrainAttr))
    return {};
  scf::ParallelOp loop;
  for (Operation &op : func.getBody().front()) {
    if (op.hasTrait<OpTrait::ConstantLike>() || isa<func::ReturnOp>(op))
      continue;
    auto parallel = dyn_cast<scf::ParallelOp>(op);
    if (!parallel || loop || parallel.getNumResults() != 0)
      return {};
    loop = parallel;
  }
  return loop;
}

struct ParallelKernelsPass : impl::ParallelKernelsBase<ParallelKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The calls of every function, from one walk of the module (a query per
    // kernel would walk a training step's thousands of calls once per
    // kernel); a symbol used other than by a call is marked by a null entry.
    llvm::DenseMap<StringAttr, SmallVector<func::CallOp>> calls;
    if (std::optional<SymbolTable::UseRange> uses =
            SymbolTable::getSymbolUses(&module.getBodyRegion()))
      for (const SymbolTable::SymbolUse &use : *uses)
        calls[use.getSymbolRef().getRootReference()].push_back(
            dyn_cast<func::CallOp>(use.getUser()));
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      scf::ParallelOp loop = kernelLoop(func);
      if (!loop)
        continue;
      // Every use must be a call, which then passes the range.
      auto it = calls.find(func.getSymNameAttr());
      if (it == calls.end() || it->second.empty() ||
          llvm::is_contained(it->second, func::CallOp()))
        continue;
      parallelize(func, loop, it->second);
    }
  }

  /// The last of the leading dims to flatten into the range, or nothing
  /// when the loop cannot (or need not) be split.
  std::optional<unsigned> lastSplitDim(scf::ParallelOp loop) {
    unsigned numDims = loop.getNumLoops();
    std::optional<unsigned> last;
    uint64_t chunks = 1;
    bool allOnes = true; // every dim taken so far is statically 1
    for (unsigned d = 0; d < numDims; ++d) {
      // Flattening wants 0-based unit-step dims (what linalg emits).
      if (!isConstant(loop.getLowerBound()[d], 0) ||
          !isConstant(loop.getStep()[d], 1))
        break;
      // Keep the innermost dim whole (the vectoriser's loop), unless every
      // dim before it is 1: its index is then the range's index itself.
      if (d == numDims - 1 && d > 0 && !allOnes)
        break;
      std::optional<int64_t> trip =
          getConstantIntValue(loop.getUpperBound()[d]);
      last = d;
      // A dynamic dim (the batch) may be 1 at run time: it does not count.
      chunks = mul(chunks, trip ? static_cast<uint64_t>(*trip) : 1);
      allOnes = allOnes && trip && *trip == 1;
      if (chunks >= static_cast<uint64_t>(minChunks))
        break;
    }
    if (!last || allOnes)
      return std::nullopt;
    // Bounds must be constants or kernel arguments, so that callers can
    // compute the range.
    for (unsigned d = 0; d <= *last; ++d) {
      Value ub = loop.getUpperBound()[d];
      if (!getConstantIntValue(ub) && !isa<BlockArgument>(ub))
        return std::nullopt;
    }
    return last;
  }

  void parallelize(func::FuncOp func, scf::ParallelOp loop,
                   ArrayRef<func::CallOp> calls) {
    std::optional<unsigned> last = lastSplitDim(loop);
    if (!last)
      return;
    WorkEstimate estimate{static_cast<uint64_t>(dynamicTrip)};
    uint64_t total = estimate.op(*loop);
    if (total < static_cast<uint64_t>(minWork))
      return;
    // Work per iteration of the range: the dims left, times the body.
    uint64_t perIteration = estimate.block(*loop.getBody());
    unsigned numDims = loop.getNumLoops();
    for (unsigned d = *last + 1; d < numDims; ++d)
      perIteration = mul(perIteration, estimate.trip(loop.getLowerBound()[d],
                                                     loop.getUpperBound()[d],
                                                     loop.getStep()[d]));
    int64_t grain = static_cast<int64_t>(std::max<uint64_t>(
        1, llvm::divideCeil(static_cast<uint64_t>(grainWork),
                            std::max<uint64_t>(1, perIteration))));

    MLIRContext *ctx = &getContext();
    IRRewriter rewriter(ctx);
    Location loc = loop.getLoc();
    Type index = rewriter.getIndexType();
    SmallVector<Value> ubs(loop.getUpperBound());

    // Callers first, while the bounds still name the kernel's arguments:
    // each passes [0, product of the flattened dims' bounds).
    for (func::CallOp call : calls) {
      rewriter.setInsertionPoint(call);
      Location callLoc = call.getLoc();
      int64_t staticRange = 1;
      Value range;
      for (unsigned d = 0; d <= *last; ++d) {
        if (auto arg = dyn_cast<BlockArgument>(ubs[d])) {
          Value bound = call.getOperand(arg.getArgNumber());
          range = range ? arith::MulIOp::create(rewriter, callLoc, range, bound)
                        : bound;
        } else {
          staticRange *= *getConstantIntValue(ubs[d]);
        }
      }
      if (!range || staticRange != 1) {
        Value bound =
            arith::ConstantIndexOp::create(rewriter, callLoc, staticRange);
        range = range ? arith::MulIOp::create(rewriter, callLoc, range, bound)
                      : bound;
      }
      Value zero = arith::ConstantIndexOp::create(rewriter, callLoc, 0);
      call.getOperandsMutable().append({zero, range});
    }

    unsigned numArgs = func.getNumArguments();
    if (failed(func.insertArguments({numArgs, numArgs}, {index, index},
                                    {DictionaryAttr(), DictionaryAttr()},
                                    {loc, loc}))) {
      func.emitError("cannot add the range arguments");
      return signalPassFailure();
    }
    Value begin = func.getArgument(numArgs);
    Value end = func.getArgument(numArgs + 1);
    func->setAttr(kGrainAttr, rewriter.getI64IntegerAttr(grain));

    // scf.parallel (%f) = (%begin) to (%end): the flattened dims'
    // indices from %f, then the dims left as the loop they were.
    rewriter.setInsertionPoint(loop);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto outer = scf::ParallelOp::create(rewriter, loc, ValueRange{begin},
                                         ValueRange{end}, ValueRange{one});
    Block *target = outer.getBody();
    rewriter.setInsertionPoint(target->getTerminator());
    Value flat = outer.getInductionVars()[0];
    SmallVector<Value> ivs(numDims);
    // stride[d]: the product of the bounds of the flattened dims after d.
    SmallVector<Value> strides(*last + 1);
    for (int d = static_cast<int>(*last); d >= 0; --d) {
      if (d == static_cast<int>(*last))
        strides[d] = Value();
      else if (!strides[d + 1])
        strides[d] = ubs[d + 1];
      else
        strides[d] =
            arith::MulIOp::create(rewriter, loc, strides[d + 1], ubs[d + 1]);
    }
    bool outermost = true; // no non-unit dim before: no remainder needed
    for (unsigned d = 0; d <= *last; ++d) {
      if (isConstant(ubs[d], 1)) {
        ivs[d] = arith::ConstantIndexOp::create(rewriter, loc, 0);
        continue;
      }
      Value iv = flat;
      if (strides[d])
        iv = arith::DivUIOp::create(rewriter, loc, iv, strides[d]);
      if (!outermost)
        iv = arith::RemUIOp::create(rewriter, loc, iv, ubs[d]);
      ivs[d] = iv;
      outermost = false;
    }
    if (*last + 1 < numDims) {
      auto inner = scf::ParallelOp::create(
          rewriter, loc, loop.getLowerBound().drop_front(*last + 1),
          loop.getUpperBound().drop_front(*last + 1),
          loop.getStep().drop_front(*last + 1));
      for (auto [d, iv] : llvm::enumerate(inner.getInductionVars()))
        ivs[*last + 1 + d] = iv;
      target = inner.getBody();
    }
    Operation *terminator = target->getTerminator();
    rewriter.inlineBlockBefore(loop.getBody(), terminator, ivs);
    rewriter.eraseOp(terminator);
    rewriter.eraseOp(loop);
  }
};

} // namespace
} // namespace vitc
