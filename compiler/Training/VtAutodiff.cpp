//===- VtAutodiff.cpp - reverse-mode differentiation of vt functions ------===//
//
// @F(args) -> (r0, ...) with r0 a float scalar becomes, next to F,
// @F_grad(args) -> (r0, ..., dr0/d arg_i...). The forward ops are cloned
// unchanged (the backward graph reads their results: activations are kept,
// not recomputed), then the ops are walked in reverse, each op with a
// gradient on one of its results adding its vector-Jacobian product
// (GradientOpInterface). Only "active" values, float values that depend on a
// differentiated argument, receive gradients: constants, shape arithmetic
// and integer paths are never differentiated, so they need no rule.
//
//===----------------------------------------------------------------------===//
#include "compiler/FunctionUtils.h"

#include "compiler/Training/Passes.h"
#include "vitc/Dialect/Vt/VtBuilder.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/RegionUtils.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTAUTODIFF
#include "compiler/Training/Passes.h.inc"

namespace {

bool isFloatTensor(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType());
}

/// Zeros of `like`'s type, for an argument result 0 does not depend on.
Value buildZeros(OpBuilder &b, Location loc, Value like) {
  auto type = cast<RankedTensorType>(like.getType());
  Type elt = type.getElementType();
  if (type.hasStaticShape())
    return vt::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getFloatAttr(elt, 0.0)),
        StringAttr());
  auto scalarType = RankedTensorType::get({}, elt);
  Value zero = vt::ConstantOp::create(
      b, loc, DenseElementsAttr::get(scalarType, b.getFloatAttr(elt, 0.0)),
      StringAttr());
  return vt::ExpandOp::create(b, loc, type, zero,
                              vt::buildShapeOf(b, loc, like));
}

/// Builds the backward graph of one function.
class Differentiator {
public:
  Differentiator(func::FuncOp grad, ArrayRef<unsigned> wrt)
      : grad(grad), wrt(wrt) {}

  LogicalResult run();

private:
  /// Adds `g` to the gradient of `v` (vt.add where `v` has several uses).
  LogicalResult accumulate(OpBuilder &b, Operation *user, Value v, Value g);

  func::FuncOp grad;
  ArrayRef<unsigned> wrt;
  DenseSet<Value> active;
  DenseMap<Value, Value> grads;
};

LogicalResult Differentiator::accumulate(OpBuilder &b, Operation *user,
                                         Value v, Value g) {
  if (g.getType() != v.getType()) {
    // A rule's inferred type may be more or less static than the forward
    // value's; anything else is a bug in the rule.
    if (!tensor::CastOp::areCastCompatible(g.getType(), v.getType()))
      return user->emitOpError("gradient rule produced ")
             << g.getType() << " for an operand of type " << v.getType();
    g = tensor::CastOp::create(b, user->getLoc(), v.getType(), g);
  }
  Value &slot = grads[v];
  slot = slot ? vt::AddOp::create(b, user->getLoc(), slot, g).getResult() : g;
  return success();
}

LogicalResult Differentiator::run() {
  Block &body = grad.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Value loss = ret.getOperand(0);

  // Forward activity: float values that depend on a differentiated argument.
  for (unsigned i : wrt)
    active.insert(grad.getArgument(i));
  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator()) {
    forward.push_back(&op);
    if (llvm::none_of(op.getOperands(),
                      [&](Value v) { return active.contains(v); }))
      continue;
    for (Value r : op.getResults())
      if (isFloatTensor(r.getType()))
        active.insert(r);
  }

  OpBuilder b(ret);
  if (active.contains(loss)) {
    auto type = cast<RankedTensorType>(loss.getType());
    grads[loss] = vt::ConstantOp::create(
        b, ret.getLoc(),
        DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 1.0)),
        StringAttr());
  }

  for (Operation *op : llvm::reverse(forward)) {
    SmallVector<Value> resultGrads;
    for (Value r : op->getResults())
      resultGrads.push_back(grads.lookup(r));
    if (llvm::all_of(resultGrads, [](Value g) { return !g; }))
      continue;
    auto rule = dyn_cast<vt::GradientOpInterface>(op);
    if (!rule)
      return op->emitError("no gradient rule for ") << op->getName();
    SmallVector<Value> operandGrads;
    if (failed(rule.buildVjp(b, resultGrads, operandGrads)))
      return failure();
    if (operandGrads.size() != op->getNumOperands())
      return op->emitOpError("gradient rule returned ")
             << operandGrads.size() << " gradients for "
             << op->getNumOperands() << " operands";
    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
      if (g && active.contains(operand) &&
          failed(accumulate(b, op, operand, g)))
        return failure();
  }

  // Return F's results, then one gradient per differentiated argument.
  SmallVector<Value> results(ret.getOperands());
  SmallVector<DictionaryAttr> resultAttrs;
  grad.getAllResultAttrs(resultAttrs);
  for (unsigned i : wrt) {
    BlockArgument arg = grad.getArgument(i);
    Value g = grads.lookup(arg);
    results.push_back(g ? g : buildZeros(b, ret.getLoc(), arg));
    auto name = grad.getArgAttrOfType<StringAttr>(i, "vt.name");
    std::string gradName =
        "grad_" + (name ? name.str() : "arg" + std::to_string(i));
    resultAttrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr("vt.name", b.getStringAttr(gradName))));
  }
  setFunctionResults(grad, results, resultAttrs);

  // Rules build gradients for every operand; those of inactive operands
  // (weights under `wrt`, constants) are dead.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (isOpTriviallyDead(&op))
      op.erase();
  return success();
}

struct VtAutodiffPass : impl::VtAutodiffBase<VtAutodiffPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> funcs;
    for (auto f : module.getOps<func::FuncOp>())
      if (!f.isExternal() && (function.empty() || f.getSymName() == function))
        funcs.push_back(f);
    if (!function.empty() && funcs.empty()) {
      module.emitError("vt-autodiff: no function @") << function;
      return signalPassFailure();
    }
    for (func::FuncOp f : funcs)
      if (failed(differentiate(f)))
        return signalPassFailure();
  }

  LogicalResult differentiate(func::FuncOp f) {
    if (!f.getBody().hasOneBlock())
      return f.emitOpError("vt-autodiff expects a single-block body");
    FunctionType type = f.getFunctionType();
    if (type.getNumResults() == 0 || !isFloatTensor(type.getResult(0)) ||
        !cast<RankedTensorType>(type.getResult(0)).hasStaticShape() ||
        cast<RankedTensorType>(type.getResult(0)).getNumElements() != 1)
      return f.emitOpError("vt-autodiff expects a float scalar (rank 0 or one "
                           "element) first result");
    SmallVector<unsigned> args(wrt.begin(), wrt.end());
    if (!wrtRole.empty()) {
      if (!args.empty())
        return f.emitOpError("vt-autodiff: give `wrt` or `wrt-role`, not both");
      for (unsigned i = 0, e = type.getNumInputs(); i < e; ++i)
        if (auto role = f.getArgAttrOfType<StringAttr>(i, "vt.role");
            role && role.getValue() == wrtRole)
          args.push_back(i);
      if (args.empty())
        return f.emitOpError("vt-autodiff: no argument has vt.role = \"")
               << wrtRole << "\"";
    } else if (args.empty()) {
      for (auto [i, t] : llvm::enumerate(type.getInputs()))
        if (isFloatTensor(t))
          args.push_back(i);
    }
    for (unsigned i : args)
      if (i >= type.getNumInputs() || !isFloatTensor(type.getInput(i)))
        return f.emitOpError("vt-autodiff: argument ")
               << i << " is not a float tensor argument";

    std::string name = (f.getSymName() + suffix).str();
    SymbolTable symbols(getOperation());
    if (!replace && symbols.lookup(name))
      return f.emitOpError("vt-autodiff: @") << name << " already exists";
    func::FuncOp grad = f.clone();
    grad.setSymName(name);
    OpBuilder(f).insert(grad);
    grad->moveAfter(f);
    if (failed(Differentiator(grad, args).run())) {
      grad.erase();
      return failure();
    }
    if (replace) {
      StringAttr fName = f.getSymNameAttr();
      f.erase();
      grad.setSymNameAttr(fName);
    }
    return success();
  }
};

} // namespace
} // namespace vitc
