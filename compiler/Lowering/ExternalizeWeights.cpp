//===- ExternalizeWeights.cpp - move weight globals out of the IR ---------===//
//
// After bufferization, weight constants are `memref.global constant`s whose
// initial values are (usually) dense_resource blobs. Left in place they would
// become LLVM IR constants: a 330 MB model would take minutes to compile and
// end up in the code object. This pass moves them into a weights table on the
// module, which the artifact writer stores as the (mmap-able) weights section,
// and rewrites each use into a view of a new leading argument of every entry
// function (each public function: @main of an inference model, @train_step
// and @eval_step of a training one; they share one weights section):
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
#include "compiler/ElementTypes.h"
#include "compiler/Lowering/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/MathExtras.h"

namespace vitc {
#define GEN_PASS_DEF_EXTERNALIZEWEIGHTS
#include "compiler/Lowering/Passes.h.inc"

namespace {
using namespace mlir;

constexpr llvm::StringLiteral kWeightsAttr = "vitc.weights";
constexpr llvm::StringLiteral kWeightsSizeAttr = "vitc.weights_size";
constexpr llvm::StringLiteral kInitialValuesAttr = "vitc.initial_values";
constexpr uint64_t kWeightAlignment = 64;

/// The constant value of `global` if it can move to the weights section.
ElementsAttr getExternalizableValue(memref::GlobalOp global) {
  if (!global.getConstant() || !global.getInitialValue())
    return {};
  auto value = dyn_cast<ElementsAttr>(*global.getInitialValue());
  MemRefType type = global.getType();
  if (!value || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !storageBytes(type.getElementType()) || type.getElementType().isIndex() ||
      dtypeName(type.getElementType()).empty())
    return {};
  // Only blobs and dense attributes have bytes the writer can read.
  if (!isa<DenseResourceElementsAttr, DenseElementsAttr>(value))
    return {};
  return value;
}

/// An entry function gains the weights argument, so a call to it would no
/// longer match its signature; the artifact calls entries, code does not.
LogicalResult rejectCallsToEntries(ModuleOp module,
                                   ArrayRef<func::FuncOp> entries) {
  for (func::FuncOp entry : entries) {
    std::optional<SymbolTable::UseRange> uses =
        SymbolTable::getSymbolUses(entry, module);
    if (!uses)
      continue;
    for (const SymbolTable::SymbolUse &use : *uses)
      return use.getUser()->emitError("vitc-externalize-weights: @")
             << entry.getSymName()
             << " is an entry point of the artifact (a public function) and "
                "cannot be referenced; make the callee private";
  }
  return success();
}

/// One {name, offset, bytes, value} entry of the weights table.
DictionaryAttr makeTableEntry(StringAttr name, uint64_t offset, uint64_t bytes,
                              ElementsAttr value) {
  MLIRContext *ctx = name.getContext();
  auto i64 = IntegerType::get(ctx, 64);
  return DictionaryAttr::get(
      ctx, {NamedAttribute(StringAttr::get(ctx, "name"), name),
            NamedAttribute(StringAttr::get(ctx, "offset"),
                           IntegerAttr::get(i64, offset)),
            NamedAttribute(StringAttr::get(ctx, "bytes"),
                           IntegerAttr::get(i64, bytes)),
            NamedAttribute(StringAttr::get(ctx, "value"), value)});
}

struct ExternalizeWeightsPass
    : impl::ExternalizeWeightsBase<ExternalizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Running twice would add a second weights argument.
    if (module->hasAttr(kWeightsAttr))
      return;
    // Every public function is an entry point of the artifact; they all
    // share the one weights section.
    SmallVector<func::FuncOp> entries;
    for (auto func : module.getOps<func::FuncOp>())
      if (func.isPublic() && !func.isExternal())
        entries.push_back(func);
    if (entries.empty()) {
      module.emitError("vitc-externalize-weights: the module has no public "
                       "func.func with a body");
      return signalPassFailure();
    }
    if (failed(rejectCallsToEntries(module, entries)))
      return signalPassFailure();

    MLIRContext *ctx = &getContext();
    auto weightsType = MemRefType::get({ShapedType::kDynamic},
                                       IntegerType::get(ctx, 8));
    auto weightsAttrs = DictionaryAttr::get(
        ctx, {NamedAttribute(StringAttr::get(ctx, "vt.name"),
                             StringAttr::get(ctx, "weights"))});
    llvm::DenseMap<Operation *, Value> weightsOf;
    for (func::FuncOp entry : entries) {
      if (failed(entry.insertArgument(0, weightsType, weightsAttrs,
                                      entry.getLoc()))) {
        entry.emitError("vitc-externalize-weights: cannot add the weights "
                        "argument to @")
            << entry.getSymName();
        return signalPassFailure();
      }
      // The C interface passes memrefs as descriptor pointers, which the
      // packed entry of the artifact forwards.
      entry->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
      weightsOf[entry] = entry.getArgument(0);
    }

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
      // Only uses inside entry functions can reach a weights argument; a
      // global used elsewhere stays a global.
      std::optional<SymbolTable::UseRange> uses =
          SymbolTable::getSymbolUses(global, module);
      if (!uses || llvm::any_of(*uses, [&](const SymbolTable::SymbolUse &use) {
            return !isa<memref::GetGlobalOp>(use.getUser()) ||
                   !weightsOf.count(
                       use.getUser()->getParentOfType<func::FuncOp>());
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
        Value weights =
            weightsOf.lookup(getGlobal->getParentOfType<func::FuncOp>());
        Value view = memref::ViewOp::create(builder, getGlobal.getLoc(), type,
                                            weights, byteShift, ValueRange{});
        getGlobal.replaceAllUsesWith(view);
        getGlobal.erase();
      }
      table.push_back(
          makeTableEntry(global.getSymNameAttr(), offset, bytes, value));
      global.erase();
    }
    // Initial values of training parameters and buffers (vt-promote-params)
    // are no constants of the code, but the trainer starts from them: they
    // go to the same section, as entries named "init:<name>".
    if (auto initial =
            module->getAttrOfType<DictionaryAttr>(kInitialValuesAttr)) {
      for (NamedAttribute entry : initial) {
        auto value = cast<ElementsAttr>(entry.getValue());
        auto type = cast<ShapedType>(value.getType());
        uint64_t bytes =
            type.getNumElements() * storageBytes(type.getElementType());
        uint64_t offset = llvm::alignTo(sectionSize, kWeightAlignment);
        sectionSize = offset + bytes;
        table.push_back(makeTableEntry(
            StringAttr::get(ctx, "init:" + entry.getName().getValue()),
            offset, bytes, value));
      }
      module->removeAttr(kInitialValuesAttr);
    }
    module->setAttr(kWeightsAttr, ArrayAttr::get(ctx, table));
    module->setAttr(kWeightsSizeAttr,
                    IntegerAttr::get(IntegerType::get(ctx, 64), sectionSize));
  }
};
} // namespace
} // namespace vitc
