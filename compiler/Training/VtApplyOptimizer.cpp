//===- VtApplyOptimizer.cpp - gradients -> clipped optimizer updates ------===//
//
// The optimizer is part of the compiled step: its update is elementwise vt
// math over each parameter, fused into a few kernels like any other
// elementwise work, and parameters, gradients and optimizer state stay
// explicit values a partitioner can shard. The formulas follow PyTorch's
// torch.optim (AdamW, SGD) operation by operation, so a run can be compared
// with PyTorch on the same weights and batches.
//
//===----------------------------------------------------------------------===//
#include "compiler/FunctionUtils.h"

#include "compiler/Training/Passes.h"
#include "vitc/Dialect/Vt/VtBuilder.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTAPPLYOPTIMIZER
#include "compiler/Training/Passes.h.inc"

namespace {

StringRef roleOf(func::FuncOp f, unsigned arg) {
  auto role = f.getArgAttrOfType<StringAttr>(arg, "vt.role");
  return role ? role.getValue() : StringRef();
}

/// Result attributes of a value that replaces input `name` after the step
/// (with the whole shape of a sharded one).
DictionaryAttr updateAttrs(Builder &b, StringRef name, StringRef role,
                           Attribute fullShape = {}) {
  NamedAttrList attrs;
  attrs.append("vt.name", b.getStringAttr(name));
  attrs.append("vt.role", b.getStringAttr(role));
  attrs.append("vt.updates", b.getStringAttr(name));
  if (fullShape)
    attrs.append("vt.full_shape", fullShape);
  return attrs.getDictionary(b.getContext());
}

struct VtApplyOptimizerPass
    : impl::VtApplyOptimizerBase<VtApplyOptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto f = module.lookupSymbol<func::FuncOp>(function);
    if (!f || f.isExternal()) {
      module.emitError("vt-apply-optimizer: no function @") << function;
      return signalPassFailure();
    }
    if (optimizer != "adamw" && optimizer != "sgd") {
      module.emitError("--optimizer=") << optimizer << ": expected adamw or sgd";
      return signalPassFailure();
    }
    // Without momentum there is no buffer for Nesterov's look-ahead: the
    // flag would silently give plain SGD (PyTorch's SGD rejects it too).
    if (optimizer == "sgd" && nesterov && momentum <= 0.0) {
      module.emitError("--nesterov needs --momentum > 0");
      return signalPassFailure();
    }
    if (failed(rewrite(f)))
      signalPassFailure();
  }

  /// One optimizer state tensor of a parameter.
  struct State {
    std::string name;
    BlockArgument value;
  };

  LogicalResult rewrite(func::FuncOp f) {
    Builder attrs(f.getContext());
    SmallVector<unsigned> params;
    std::optional<unsigned> dataIndex, labelIndex;
    for (unsigned i = 0, e = f.getNumArguments(); i < e; ++i) {
      StringRef role = roleOf(f, i);
      if (role == "param")
        params.push_back(i);
      else if (role == "data" && !dataIndex)
        dataIndex = i;
      else if (role == "label")
        labelIndex = i;
    }
    if (params.empty())
      return f.emitOpError("has no trainable parameter (every weight is "
                           "frozen, or the model has none)");
    if (!dataIndex || !labelIndex)
      return f.emitOpError("needs data and label arguments (run "
                           "vt-append-loss first)");
    unsigned numResults = f.getNumResults();
    if (numResults < 2 + params.size())
      return f.emitOpError("expected (loss, correct, ..., one gradient per "
                           "param) results from vt-autodiff");
    unsigned firstGrad = numResults - params.size();
    std::vector<std::string> paramNames;
    for (auto [k, i] : llvm::enumerate(params)) {
      auto name = f.getArgAttrOfType<StringAttr>(i, "vt.name");
      auto gradName =
          f.getResultAttrOfType<StringAttr>(firstGrad + k, "vt.name");
      if (!name || !gradName || gradName.getValue() != "grad_" + name.str())
        return f.emitOpError("result ")
               << firstGrad + k << " is not the gradient of param #" << k;
      paramNames.push_back(name.str());
    }

    // New arguments: optimizer state before the data, lr and step after the
    // label (the insertions shift indices, so insert the later ones first).
    Location loc = f.getLoc();
    auto scalarF32 = RankedTensorType::get({}, attrs.getF32Type());
    auto named = [&](StringRef name, StringRef role) {
      return nameAndRole(attrs, name, role);
    };
    if (failed(f.insertArgument(*labelIndex + 1, scalarF32,
                                named("step", "step"), loc)) ||
        failed(f.insertArgument(*labelIndex + 1, scalarF32, named("lr", "lr"),
                                loc)))
      return failure();
    SmallVector<StringRef> stateKinds;
    if (optimizer == "adamw")
      stateKinds = {"adamw_m", "adamw_v"};
    else if (momentum != 0.0)
      stateKinds = {"sgd_momentum"};
    // Per param, its states in `stateKinds` order; arguments grouped by
    // param so each param's state is contiguous.
    SmallVector<SmallVector<State>> states(params.size());
    unsigned insertAt = *dataIndex;
    for (auto [k, i] : llvm::enumerate(params))
      for (StringRef kind : stateKinds) {
        std::string name = (kind + "." + paramNames[k]).str();
        // A sharded param's state is sharded alike (vitc-partition-fsdp).
        NamedAttrList stateAttrs(named(name, "opt_state"));
        if (Attribute full = f.getArgAttr(i, "vt.full_shape"))
          stateAttrs.set("vt.full_shape", full);
        if (failed(f.insertArgument(insertAt, f.getArgument(i).getType(),
                                    stateAttrs.getDictionary(f.getContext()),
                                    loc)))
          return failure();
        states[k].push_back({name, f.getArgument(insertAt)});
        ++insertAt;
      }
    BlockArgument lr = f.getArgument(insertAt + (*labelIndex - *dataIndex) + 1);
    BlockArgument step = f.getArgument(lr.getArgNumber() + 1);

    auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
    OpBuilder b(ret);
    vt::VtBuilder g{b, NameLoc::get(attrs.getStringAttr("optimizer"),
                                    ret.getLoc())};
    SmallVector<Value> grads(ret.getOperands().drop_front(firstGrad));

    // Global norm over all gradients, then clipping. A gradient that is
    // this rank's block of a reduce-scattered one (FSDP) adds a partial sum,
    // which is summed over the ranks.
    Value normSq, partialSq;
    shard::ReduceScatterOp scattered;
    for (Value grad : grads) {
      Value s = sumOfSquares(g, grad);
      // (Reduced in bf16, --reduce-dtype: through the cast back to f32.)
      Value reduced = grad;
      if (auto cast = grad.getDefiningOp<vt::CastOp>())
        reduced = cast.getInput();
      auto rs = reduced.getDefiningOp<shard::ReduceScatterOp>();
      Value &sum = rs ? partialSq : normSq;
      sum = sum ? g.add(sum, s) : s;
      scattered = rs ? rs : scattered;
    }
    if (partialSq) {
      Value total = shard::AllReduceOp::create(
          b, loc, partialSq, scattered.getGrid(), scattered.getGridAxes(),
          shard::ReductionKind::Sum);
      normSq = normSq ? g.add(normSq, total) : total;
    }
    Value norm = g.unary<vt::SqrtOp>(normSq);
    if (clipNorm > 0.0) {
      Value coef = g.div(g.scalarLike(norm, clipNorm), g.add(norm, 1e-6));
      coef = g.min(coef, g.scalarLike(coef, 1.0));
      for (Value &grad : grads)
        grad = g.mul(grad, coef);
    }

    SmallVector<Value> newParams, newStates;
    SmallVector<DictionaryAttr> paramAttrs, stateAttrs;
    for (auto [k, i] : llvm::enumerate(params)) {
      Value p = f.getArgument(i);
      SmallVector<Value> updatedStates;
      newParams.push_back(optimizer == "adamw"
                              ? adamw(g, p, grads[k], states[k], lr, step,
                                      updatedStates)
                              : sgd(g, p, grads[k], states[k], lr,
                                    updatedStates));
      Attribute full = f.getArgAttr(i, "vt.full_shape");
      paramAttrs.push_back(
          updateAttrs(attrs, paramNames[k], "param", full));
      for (auto [state, value] : llvm::zip(states[k], updatedStates)) {
        newStates.push_back(value);
        stateAttrs.push_back(
            updateAttrs(attrs, state.name, "opt_state", full));
      }
    }

    // Results: loss, correct, grad_norm, params', others (buffers'), state'.
    SmallVector<Value> results{ret.getOperand(0), ret.getOperand(1), norm};
    SmallVector<DictionaryAttr> resultAttrs{f.getResultAttrDict(0),
                                            f.getResultAttrDict(1),
                                            named("grad_norm", "grad_norm")};
    llvm::append_range(results, newParams);
    llvm::append_range(resultAttrs, paramAttrs);
    for (unsigned i = 2; i < firstGrad; ++i) {
      results.push_back(ret.getOperand(i));
      resultAttrs.push_back(f.getResultAttrDict(i));
    }
    llvm::append_range(results, newStates);
    llvm::append_range(resultAttrs, stateAttrs);
    setFunctionResults(f, results, resultAttrs);
    return success();
  }

  /// Sum of x^2 over all elements, in two stages for large tensors: the
  /// trailing dims first, then the rest. A single f32 sum over a 1M-element
  /// weight gradient loses ~1e-4 relative; two sums of ~1000 terms keep the
  /// norm (and the clipping coefficient) close to PyTorch's.
  static Value sumOfSquares(vt::VtBuilder &g, Value x) {
    Value sq = g.mul(x, x);
    auto type = cast<RankedTensorType>(x.getType());
    if (!type.hasStaticShape() || type.getNumElements() < (1 << 14))
      return g.sumAll(sq);
    int64_t inner = 1, rank = type.getRank(), split = rank;
    while (split > 1 && inner * inner < type.getNumElements())
      inner *= type.getDimSize(--split);
    auto trailing = llvm::to_vector(llvm::seq<int64_t>(split, rank));
    return g.sumAll(g.reduceSum(sq, trailing, /*keepdims=*/false));
  }

  /// torch.optim.AdamW: p *= 1 - lr wd; m = b1 m + (1 - b1) g;
  /// v = b2 v + (1 - b2) g^2; p -= lr / (1 - b1^t) * m /
  /// (sqrt(v) / sqrt(1 - b2^t) + eps).
  Value adamw(vt::VtBuilder &g, Value p, Value grad, ArrayRef<State> state,
              Value lr, Value step, SmallVector<Value> &updated) {
    Value m = g.add(g.mul(state[0].value, beta1.getValue()),
                    g.mul(grad, 1.0 - beta1));
    Value v = g.add(g.mul(state[1].value, beta2.getValue()),
                    g.mul(g.mul(grad, grad), 1.0 - beta2));
    updated = {m, v};
    auto biasCorrection = [&](double beta) {
      return g.sub(g.scalarLike(step, 1.0),
                   g.pow(g.scalarLike(step, beta), step));
    };
    Value stepSize = g.div(lr, biasCorrection(beta1));
    Value denom = g.add(g.div(g.unary<vt::SqrtOp>(v),
                              g.unary<vt::SqrtOp>(biasCorrection(beta2))),
                        epsilon.getValue());
    if (weightDecay != 0.0)
      p = g.mul(p, g.sub(g.scalarLike(lr, 1.0), g.mul(lr, weightDecay.getValue())));
    return g.sub(p, g.mul(stepSize, g.div(m, denom)));
  }

  /// torch.optim.SGD: g += wd p; buf = momentum buf + g;
  /// g = nesterov ? g + momentum buf : buf; p -= lr g.
  Value sgd(vt::VtBuilder &g, Value p, Value grad, ArrayRef<State> state,
            Value lr, SmallVector<Value> &updated) {
    if (weightDecay != 0.0)
      grad = g.add(grad, g.mul(p, weightDecay.getValue()));
    if (!state.empty()) {
      Value buf = g.add(g.mul(state[0].value, momentum.getValue()), grad);
      updated = {buf};
      grad = nesterov ? g.add(grad, g.mul(buf, momentum.getValue())) : buf;
    }
    return g.sub(p, g.mul(lr, grad));
  }
};

} // namespace
} // namespace vitc
