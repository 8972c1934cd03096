//===- ExternalizeWeights.cpp - move weight globals out of the IR ---------===//
//
// After bufferization, weight constants are `memref.global constant`s whose
// initial values are (usually) dense_resource blobs. Left in place they would
// become LLVM IR constants: a 330 MB model would take minutes to compile and
// end up in the code object. This pass moves them into a weights table on the
// module, which the artifact writer stores as the (mmap-able) weights section,
// and rewrites each use into a view of a new leading entry argument:
//
//   memref.global "private" constant @w : memref<4xf32> = dense_resource<..>
//   %0 = memref.get_global @w : memref<4xf32>
// becomes
//   func.func @main(%weights: memref<?xi8>, ...) attributes {llvm.emit_c_interface}
//   %0 = memref.view %weights[%c64][] : memref<?xi8> to memref<4xf32>
//
// The table, `vitc.weights`, is an array of {name, offset, bytes, value}
// dictionaries (64-byte aligned offsets); `vitc.weights_size` is the section
// size. The value attributes keep referring to the original blobs, so nothing
// is copied here.
//
//===----------------------------------------------------------------------===//
#include "vitc/Compiler/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

namespace vitc {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTS
#include "vitc/Compiler/Passes.h.inc"

namespace {
using namespace mlir;

constexpr llvm::StringLiteral kWeightsAttr = "vitc.weights";
constexpr llvm::StringLiteral kWeightsSizeAttr = "vitc.weights_size";
constexpr uint64_t kWeightAlignment = 64;

/// Bytes one element of `type` occupies in memory, as the LLVM lowering of
/// memrefs lays it out (i1 takes a byte), or 0 for types we cannot store.
uint64_t storageBytes(Type type) {
  if (type.isInteger(1))
    return 1;
  if (isa<IntegerType, FloatType>(type) && type.getIntOrFloatBitWidth() % 8 == 0)
    return type.getIntOrFloatBitWidth() / 8;
  return 0;
}

/// The constant value of `global` if it can move to the weights section.
ElementsAttr getExternalizableValue(memref::GlobalOp global) {
  if (!global.getConstant() || !global.getInitialValue())
    return {};
  auto value = dyn_cast<ElementsAttr>(*global.getInitialValue());
  MemRefType type = global.getType();
  if (!value || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !storageBytes(type.getElementType()))
    return {};
  // Only blobs and dense attributes have bytes the writer can read.
  if (!isa<DenseResourceElementsAttr, DenseElementsAttr>(value))
    return {};
  return value;
}

struct ExternalizeWeightsPass
    : impl::ExternalizeWeightsBase<ExternalizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Running twice would add a second weights argument.
    if (module->hasAttr(kWeightsAttr))
      return;
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal()) {
      module.emitError("vitc-externalize-weights: the module has no "
                       "func.func @main with a body");
      return signalPassFailure();
    }

    MLIRContext *ctx = &getContext();
    auto weightsType = MemRefType::get({ShapedType::kDynamic},
                                       IntegerType::get(ctx, 8));
    if (failed(main.insertArgument(0, weightsType,
                                   DictionaryAttr::get(ctx, {NamedAttribute(
                                       StringAttr::get(ctx, "vt.name"),
                                       StringAttr::get(ctx, "weights"))}),
                                   main.getLoc()))) {
      main.emitError("vitc-externalize-weights: cannot add the weights "
                     "argument to @main");
      return signalPassFailure();
    }
    // The C interface passes memrefs as descriptor pointers, which the packed
    // entry of the artifact forwards.
    main->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    Value weights = main.getArgument(0);

    SmallVector<Attribute> table;
    uint64_t sectionSize = 0;
    OpBuilder builder(ctx);
    for (auto global :
         llvm::make_early_inc_range(module.getOps<memref::GlobalOp>())) {
      ElementsAttr value = getExternalizableValue(global);
      if (!value)
        continue;
      MemRefType type = global.getType();
      uint64_t bytes =
          type.getNumElements() * storageBytes(type.getElementType());
      if (bytes < static_cast<uint64_t>(minBytes))
        continue;
      // Only uses inside @main can reach the weights argument; a global used
      // elsewhere stays a global.
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(global, module);
      if (!uses || llvm::any_of(*uses, [&](const SymbolTable::SymbolUse &use) {
            return !isa<memref::GetGlobalOp>(use.getUser()) ||
                   use.getUser()->getParentOfType<func::FuncOp>() != main;
          }))
        continue;

      // The section itself is page aligned in the artifact and in memory.
      uint64_t alignment = std::max<uint64_t>(
          kWeightAlignment, global.getAlignment().value_or(1));
      uint64_t offset = llvm::alignTo(sectionSize, alignment);
      sectionSize = offset + bytes;
      for (const SymbolTable::SymbolUse &use : *uses) {
        auto getGlobal = cast<memref::GetGlobalOp>(use.getUser());
        builder.setInsertionPoint(getGlobal);
        Value byteShift = arith::ConstantIndexOp::create(
            builder, getGlobal.getLoc(), static_cast<int64_t>(offset));
        Value view = memref::ViewOp::create(builder, getGlobal.getLoc(), type,
                                            weights, byteShift, ValueRange{});
        getGlobal.replaceAllUsesWith(view);
        getGlobal.erase();
      }
      auto i64 = IntegerType::get(ctx, 64);
      table.push_back(DictionaryAttr::get(
          ctx, {NamedAttribute(StringAttr::get(ctx, "name"),
                               global.getSymNameAttr()),
                NamedAttribute(StringAttr::get(ctx, "offset"),
                               IntegerAttr::get(i64, offset)),
                NamedAttribute(StringAttr::get(ctx, "bytes"),
                               IntegerAttr::get(i64, bytes)),
                NamedAttribute(StringAttr::get(ctx, "value"), value)}));
      global.erase();
    }
    module->setAttr(kWeightsAttr, ArrayAttr::get(ctx, table));
    module->setAttr(kWeightsSizeAttr,
                    IntegerAttr::get(IntegerType::get(ctx, 64), sectionSize));
  }
};
} // namespace
} // namespace vitc
