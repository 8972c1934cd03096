//===- VtAppendLoss.cpp - logits -> (loss, correct) -----------------------===//
//
// The loss is ordinary vt math appended to the forward graph, so autodiff
// differentiates it like any other op and fusion merges it with the last
// layer's kernels. Cross-entropy is written on log-softmax (stable, and
// vt.softmax {log} has a gradient rule) against a smoothed one-hot target.
//
//===----------------------------------------------------------------------===//
#include "compiler/FunctionUtils.h"

#include "compiler/Training/Passes.h"
#include "vitc/Dialect/Vt/VtBuilder.h"

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTAPPENDLOSS
#include "compiler/Training/Passes.h.inc"

namespace {

struct VtAppendLossPass : impl::VtAppendLossBase<VtAppendLossPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (loss != "cross_entropy" && loss != "mse") {
      module.emitError("--loss=") << loss << ": expected cross_entropy or mse";
      return signalPassFailure();
    }
    if (labelSmoothing < 0.0 || labelSmoothing >= 1.0) {
      module.emitError("--label-smoothing=")
          << labelSmoothing << ": expected a value in [0, 1)";
      return signalPassFailure();
    }
    auto funcs = selectFunctions(module, functions, "vt-append-loss");
    if (failed(funcs))
      return signalPassFailure();
    for (func::FuncOp f : *funcs)
      if (failed(append(f)))
        return signalPassFailure();
  }

  LogicalResult append(func::FuncOp f) {
    // The data argument: the first one that is not a weight.
    std::optional<unsigned> data;
    for (unsigned i = 0, e = f.getNumArguments(); i < e && !data; ++i)
      if (!f.getArgAttr(i, "vt.role"))
        data = i;
    if (!data)
      return f.emitOpError("has no data argument (every argument is a weight)");
    if (f.getNumResults() == 0)
      return f.emitOpError("has no result to take the loss of");
    auto logitsName = f.getResultAttrOfType<StringAttr>(0, "vt.name");
    std::string what =
        "output '" + (logitsName ? logitsName.str() : std::string("0")) + "'";
    auto logitsType = dyn_cast<RankedTensorType>(f.getResultTypes()[0]);
    if (!logitsType || logitsType.getRank() != 2 ||
        !isa<FloatType>(logitsType.getElementType()))
      return f.emitOpError("the loss needs ")
             << what << " to be float [batch, classes], got "
             << f.getResultTypes()[0];
    int64_t classes = logitsType.getDimSize(1);
    if (ShapedType::isDynamic(classes))
      return f.emitOpError("the loss needs a static class count; ")
             << what << " is " << logitsType;

    Builder attrs(f.getContext());
    f.setArgAttr(*data, "vt.role", attrs.getStringAttr("data"));
    bool ce = loss == "cross_entropy";
    Type labelType =
        ce ? RankedTensorType::get({logitsType.getDimSize(0)},
                                   attrs.getI64Type())
           : Type(logitsType);
    if (failed(f.insertArgument(*data + 1, labelType,
                                nameAndRole(attrs, "label", "label"),
                                f.getArgument(*data).getLoc())))
      return failure();
    Value label = f.getArgument(*data + 1);

    auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
    OpBuilder b(ret);
    vt::VtBuilder g{b, NameLoc::get(attrs.getStringAttr("loss"), ret.getLoc())};
    Value logits = ret.getOperand(0);
    auto [lossValue, correct] =
        ce ? crossEntropy(g, logits, label, classes) : meanSquared(g, logits, label);

    SmallVector<Value> results{lossValue, correct};
    llvm::append_range(results, ret.getOperands().drop_front());
    SmallVector<DictionaryAttr> resultAttrs{nameAndRole(attrs, "loss", "loss"),
                                            nameAndRole(attrs, "correct", "correct")};
    for (unsigned i = 1, e = f.getNumResults(); i < e; ++i)
      resultAttrs.push_back(f.getResultAttrDict(i));
    setFunctionResults(f, results, resultAttrs);
    return success();
  }

  /// argmax along the class dim, [N] i64.
  static Value argmaxRows(vt::VtBuilder &g, Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType =
        RankedTensorType::get({type.getDimSize(0)}, g.b.getI64Type());
    return vt::ArgMaxOp::create(g.b, g.loc, resultType, x,
                                g.b.getI64IntegerAttr(1),
                                g.b.getBoolAttr(false));
  }

  /// Number of equal elements of two [N] i64 tensors, as an i64 scalar.
  static Value countEqual(vt::VtBuilder &g, Value x, Value y) {
    Value hits = vt::EqualOp::create(g.b, g.loc, x, y);
    return g.sumAll(g.cast(hits, g.b.getI64Type()));
  }

  std::pair<Value, Value> crossEntropy(vt::VtBuilder &g, Value logits,
                                       Value label, int64_t classes) {
    OpBuilder &b = g.b;
    Type f32 = getElementTypeOrSelf(logits.getType());
    Value logp = vt::SoftmaxOp::create(b, g.loc, logits.getType(), logits,
                                       b.getI64IntegerAttr(1),
                                       b.getBoolAttr(true));
    // One-hot of the labels: [N, 1] == [1, C].
    auto iotaType = RankedTensorType::get({1, classes}, b.getI64Type());
    Value iota = vt::ConstantOp::create(
        b, g.loc,
        DenseIntElementsAttr::get(iotaType,
                                  llvm::to_vector(llvm::seq<int64_t>(0, classes))),
        StringAttr());
    auto columnShape = RankedTensorType::get({2}, b.getI64Type());
    Value column = vt::ConstantOp::create(
        b, g.loc, DenseIntElementsAttr::get(columnShape, ArrayRef<int64_t>{-1, 1}),
        StringAttr());
    auto labelType = cast<RankedTensorType>(label.getType());
    Value labelColumn = vt::ReshapeOp::create(
        b, g.loc,
        RankedTensorType::get({labelType.getDimSize(0), 1}, b.getI64Type()),
        label, column);
    Value target = g.cast(vt::EqualOp::create(b, g.loc, labelColumn, iota), f32);
    if (labelSmoothing > 0.0)
      target = g.add(g.mul(target, 1.0 - labelSmoothing),
                     labelSmoothing / static_cast<double>(classes));
    // loss = mean_n -sum_c target * log p.
    Value perRow = g.reduceSum(g.mul(target, logp), {1}, /*keepdims=*/false);
    Value loss = g.mul(g.reduceMean(perRow, {0}, /*keepdims=*/false), -1.0);
    return {loss, countEqual(g, argmaxRows(g, logits), label)};
  }

  std::pair<Value, Value> meanSquared(vt::VtBuilder &g, Value logits,
                                      Value target) {
    Value diff = g.sub(logits, target);
    Value loss = g.reduceMean(g.mul(diff, diff), {0, 1}, /*keepdims=*/false);
    return {loss, countEqual(g, argmaxRows(g, logits), argmaxRows(g, target))};
  }
};

} // namespace
} // namespace vitc
