//===- VtPromoteParams.cpp - named float weights become arguments ---------===//
//
// Training needs parameters as values, not constants: autodiff
// differentiates arguments, the optimizer returns their new values, and a
// partitioner annotates them. Every function gets the same leading argument
// list (params, then buffers), so one trainer-side set of tensors feeds
// train_step and eval_step alike.
//
//===----------------------------------------------------------------------===//
#include "compiler/FunctionUtils.h"

#include "compiler/Training/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Regex.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTPROMOTEPARAMS
#include "compiler/Training/Passes.h.inc"

namespace {

struct Weight {
  ElementsAttr value;
  bool buffer = false;
};

struct VtPromoteParamsPass : impl::VtPromoteParamsBase<VtPromoteParamsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto selected = selectFunctions(module, functions, "vt-promote-params");
    if (failed(selected))
      return signalPassFailure();
    SmallVector<func::FuncOp> funcs = std::move(*selected);

    // Weights in order of first use, with their roles.
    llvm::MapVector<StringAttr, Weight> weights;
    for (func::FuncOp f : funcs) {
      WalkResult walk = f.walk([&](vt::ConstantOp c) {
        auto type = dyn_cast<RankedTensorType>(c.getType());
        // An initializer the importer consumed as an attribute (Dropout's
        // ratio, a Clip bound) has no uses left: it is no parameter.
        if (!c.getNameAttr() || !type ||
            !isa<FloatType>(type.getElementType()) || c->use_empty())
          return WalkResult::advance();
        auto value = dyn_cast<ElementsAttr>(c.getValue());
        auto [it, inserted] = weights.insert({c.getNameAttr(), {value, false}});
        if (!inserted && it->second.value.getType() != value.getType()) {
          c.emitOpError("weight '")
              << c.getNameAttr().getValue() << "' has type " << value.getType()
              << " here and " << it->second.value.getType() << " elsewhere";
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (walk.wasInterrupted())
        return signalPassFailure();
    }
    if (failed(markBuffers(funcs, weights)))
      return signalPassFailure();

    // Params first, then buffers: a stable order both functions share.
    SmallVector<StringAttr> order;
    for (bool buffers : {false, true})
      for (auto &[name, w] : weights)
        if (w.buffer == buffers)
          order.push_back(name);

    Builder b(module.getContext());
    for (func::FuncOp f : funcs)
      promote(f, order, weights);

    SmallVector<NamedAttribute> initial;
    for (StringAttr name : order)
      initial.push_back(b.getNamedAttr(name, weights[name].value));
    module->setAttr("vitc.initial_values", b.getDictionaryAttr(initial));
  }

  /// Buffers: weights a result replaces (vt.updates) and frozen ones.
  LogicalResult markBuffers(ArrayRef<func::FuncOp> funcs,
                            llvm::MapVector<StringAttr, Weight> &weights) {
    for (func::FuncOp f : funcs)
      for (unsigned i = 0, e = f.getNumResults(); i < e; ++i)
        if (auto target = f.getResultAttrOfType<StringAttr>(i, "vt.updates")) {
          auto it = weights.find(target);
          if (it == weights.end())
            return f.emitOpError("result ")
                   << i << " updates '" << target.getValue()
                   << "', which is not a float weight";
          it->second.buffer = true;
        }
    for (const std::string &pattern : freeze) {
      llvm::Regex regex("^(" + pattern + ")$");
      std::string error;
      if (!regex.isValid(error))
        return getOperation().emitError("--freeze '")
               << pattern << "': " << error;
      bool matched = false;
      for (auto &[name, w] : weights)
        if (regex.match(name.getValue()))
          w.buffer = matched = true;
      if (!matched)
        return getOperation().emitError("--freeze '")
               << pattern << "' matches no weight of the model";
    }
    return success();
  }

  void promote(func::FuncOp f, ArrayRef<StringAttr> order,
               llvm::MapVector<StringAttr, Weight> &weights) {
    MLIRContext *ctx = f.getContext();
    Builder b(ctx);
    DenseMap<StringAttr, BlockArgument> args;
    for (auto [i, name] : llvm::enumerate(order)) {
      const Weight &w = weights[name];
      if (failed(f.insertArgument(i, w.value.getType(),
                                  nameAndRole(b, name, w.buffer ? "buffer" : "param"),
                                  NameLoc::get(name))))
        llvm_unreachable("inserting an argument into a func.func");
      args[name] = f.getArgument(i);
    }
    f.walk([&](vt::ConstantOp c) {
      if (auto it = args.find(c.getNameAttr()); it != args.end()) {
        c.getResult().replaceAllUsesWith(it->second);
        c.erase();
      }
    });
  }
};

} // namespace
} // namespace vitc
