//===- OrderGlobals.cpp - deterministic constant globals ------------------===//
#include "compiler/Lowering/Passes.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/Support/xxhash.h"

#include <algorithm>

namespace vitc {
#define GEN_PASS_DEF_ORDERGLOBALS
#include "compiler/Lowering/Passes.h.inc"

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kPrefix = "__constant_";

/// What a global is, independently of when it was made: its type, then a
/// digest of its value (the raw bytes of dense elements; the printed form
/// of anything else, e.g. a dense_resource handle).
std::string contentKey(memref::GlobalOp global) {
  std::string key;
  llvm::raw_string_ostream os(key);
  os << global.getType() << '|';
  Attribute value = global.getInitialValueAttr();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(value)) {
    os << (dense.isSplat() ? "splat:" : "dense:")
       << llvm::xxh3_64bits(llvm::StringRef(dense.getRawData().data(),
                                            dense.getRawData().size()));
  } else if (value) {
    value.print(os);
  }
  return key;
}

struct OrderGlobalsPass : impl::OrderGlobalsBase<OrderGlobalsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<std::string, memref::GlobalOp>> globals;
    for (auto global : module.getOps<memref::GlobalOp>())
      if (global.getSymName().starts_with(kPrefix))
        globals.push_back({contentKey(global), global});
    if (globals.empty())
      return;
    // Keys tie only for equal contents, where either order is the same.
    llvm::stable_sort(globals, [](const auto &a, const auto &b) {
      return a.first < b.first;
    });

    // Rename in two steps, so that no new name clashes with an old one.
    auto rename = [&](memref::GlobalOp global, StringAttr name) {
      if (failed(SymbolTable::replaceAllSymbolUses(global, name, module)))
        return failure();
      global.setSymName(name.getValue());
      return success();
    };
    MLIRContext *ctx = &getContext();
    for (auto [k, entry] : llvm::enumerate(globals))
      if (failed(rename(entry.second,
                        StringAttr::get(ctx, "__vitc_order_" + Twine(k)))))
        return signalPassFailure();
    llvm::StringMap<unsigned> uses;
    Block *body = module.getBody();
    Operation *insertBefore = &body->front();
    for (auto &entry : globals) {
      memref::GlobalOp global = entry.second;
      // The name bufferization gives: __constant_<shape>x<type>.
      std::string base;
      llvm::raw_string_ostream os(base);
      os << kPrefix;
      MemRefType type = global.getType();
      for (int64_t d : type.getShape())
        os << d << 'x';
      os << type.getElementType();
      unsigned n = uses[base]++;
      std::string name = n ? base + "_" + std::to_string(n - 1) : base;
      if (failed(rename(global, StringAttr::get(ctx, name))))
        return signalPassFailure();
      global->moveBefore(insertBefore);
      insertBefore = global->getNextNode();
    }
  }
};

} // namespace
} // namespace vitc
