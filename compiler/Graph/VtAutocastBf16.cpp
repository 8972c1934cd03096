//===- VtAutocastBf16.cpp - matmul and conv in bf16, the rest in f32 ------===//
//
// torch.autocast's bf16 policy as a graph rewrite: the f32 operands of the
// selected anchors (vt.matmul, vt.conv2d) are rounded to bf16 and the anchor
// keeps its f32 result, so its products accumulate in f32 and nothing rounds
// its output (vt's accumulating anchors take narrower float operands than
// their result). Every other op keeps computing in f32.
//
// Each value is cast once, right after its definition, and every autocast
// user shares that cast. A value that already is a widened bf16 value
// (vt.cast bf16 -> f32) is used through its bf16 source: widening is exact,
// so rounding it again would only add an op. Constants are converted here
// (round to nearest even, as arith.truncf), also where they reach the anchor
// through transposes and reshapes (ONNX Gemm's transposed weight), which
// keeps weights constant for the library kernels and halves their size in
// the artifact.
//
//===----------------------------------------------------------------------===//
#include "compiler/Graph/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cstring>

using namespace mlir;

namespace vitc {
#define GEN_PASS_DEF_VTAUTOCASTBF16
#include "compiler/Graph/Passes.h.inc"

namespace {

/// The bf16 bits nearest to `f`, ties to even; NaN stays a (quiet) NaN.
uint16_t roundToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7fffffffu) > 0x7f800000u)
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

/// `value` (f32 elements) converted to bf16; null for attribute kinds whose
/// data cannot be read here.
ElementsAttr convertToBf16(ElementsAttr value) {
  auto type = cast<RankedTensorType>(value.getType());
  auto bf16Type = type.clone(BFloat16Type::get(type.getContext()));
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    auto round = [](const APFloat &v) {
      return APInt(16, roundToBf16(v.convertToFloat()));
    };
    if (dense.isSplat())
      return DenseElementsAttr::get(bf16Type,
                                    round(dense.getSplatValue<APFloat>()));
    SmallVector<APInt> bits;
    bits.reserve(dense.getNumElements());
    for (const APFloat &v : dense.getValues<APFloat>())
      bits.push_back(round(v));
    return DenseElementsAttr::get(bf16Type, bits);
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource)
    return {};
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return {};
  ArrayRef<char> data = blob->getData();
  int64_t n = type.getNumElements();
  if ((int64_t)data.size() != n * 4)
    return {};
  AsmResourceBlob converted =
      HeapAsmResourceBlob::allocate(n * 2, /*align=*/64);
  char *out = converted.getMutableData().data();
  for (int64_t i = 0; i < n; ++i) {
    float f;
    std::memcpy(&f, data.data() + i * 4, 4);
    uint16_t h = roundToBf16(f);
    std::memcpy(out + i * 2, &h, 2);
  }
  std::string key = (resource.getRawHandle().getKey() + ".bf16").str();
  return DenseResourceElementsAttr::get(bf16Type, key, std::move(converted));
}

bool isF32Tensor(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.getElementType().isF32();
}

/// Whether `v` is a constant seen through data movement (the transposed
/// weight of an ONNX Gemm, a reshaped one).
bool isMovedConstant(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (isa<vt::ConstantOp>(def))
      return true;
    if (!isa<vt::TransposeOp, vt::ReshapeOp>(def))
      return false;
    v = def->getOperand(0);
  }
  return false;
}

class Autocaster {
public:
  Autocaster(bool foldConstants) : foldConstants(foldConstants) {}

  /// Rewires f32 `operands` to bf16 values.
  void castOperands(ArrayRef<OpOperand *> operands) {
    for (OpOperand *operand : operands)
      operand->set(toBf16(operand->get()));
  }

  /// Erases the f32 constants (and their movement) that only autocast ops
  /// read, users first.
  void eraseReplaced() {
    for (Operation *op : llvm::reverse(replaced))
      if (op->use_empty())
        op->erase();
    replaced.clear();
  }

private:
  /// The bf16 value of `v` (f32), built once per value.
  Value toBf16(Value v) {
    if (Value cached = casts.lookup(v))
      return cached;
    Value result = buildBf16(v);
    casts[v] = result;
    return result;
  }

  Value buildBf16(Value v) {
    auto type = cast<RankedTensorType>(v.getType());
    auto bf16Type = type.clone(BFloat16Type::get(type.getContext()));
    Operation *def = v.getDefiningOp();
    if (auto widen = dyn_cast_or_null<vt::CastOp>(def);
        widen && widen.getInput().getType() == bf16Type)
      return widen.getInput();
    OpBuilder b(v.getContext());
    b.setInsertionPointAfterValue(v);
    if (foldConstants) {
      if (auto constant = dyn_cast_or_null<vt::ConstantOp>(def)) {
        if (ElementsAttr value =
                convertToBf16(cast<ElementsAttr>(constant.getValue()))) {
          replaced.push_back(constant);
          // A derived value, not an ONNX initializer: no name.
          return vt::ConstantOp::create(b, constant.getLoc(), value,
                                        StringAttr());
        }
      } else if (isMovedConstant(v)) {
        // Move the constant in bf16 instead: the cast folds into it, and
        // the lowering can still read a transposed weight in place.
        Value input = toBf16(def->getOperand(0));
        Operation *moved = b.clone(*def);
        moved->setOperand(0, input);
        moved->getResult(0).setType(bf16Type);
        replaced.push_back(def);
        return moved->getResult(0);
      }
    }
    return vt::CastOp::create(b, v.getLoc(), bf16Type, v);
  }

  bool foldConstants;
  DenseMap<Value, Value> casts;
  SmallVector<Operation *> replaced;
};

struct VtAutocastBf16Pass : impl::VtAutocastBf16Base<VtAutocastBf16Pass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    bool castMatmul = ops.empty(), castConv = ops.empty();
    for (const std::string &kind : ops) {
      if (kind == "matmul") {
        castMatmul = true;
      } else if (kind == "conv2d") {
        castConv = true;
      } else {
        func.emitError("vt-autocast-bf16: unknown op kind '")
            << kind << "' in ops (expected matmul or conv2d)";
        return signalPassFailure();
      }
    }

    Autocaster autocaster(foldConstants);
    SmallVector<Operation *> anchors;
    func.walk([&](Operation *op) {
      if ((castMatmul && isa<vt::MatmulOp>(op)) ||
          (castConv && isa<vt::Conv2dOp>(op)))
        anchors.push_back(op);
    });
    for (Operation *op : anchors) {
      SmallVector<OpOperand *> operands;
      if (auto mm = dyn_cast<vt::MatmulOp>(op))
        operands = {&mm.getLhsMutable(), &mm.getRhsMutable()};
      else if (auto conv = dyn_cast<vt::Conv2dOp>(op))
        operands = {&conv.getInputMutable(), &conv.getFilterMutable()};
      // Only f32 computations: f64 or integer ones keep their precision.
      if (!isF32Tensor(op->getResult(0)) ||
          !llvm::all_of(operands,
                        [](OpOperand *o) { return isF32Tensor(o->get()); }))
        continue;
      autocaster.castOperands(operands);
    }
    autocaster.eraseReplaced();
  }
};

} // namespace
} // namespace vitc
