//===- KernelAbi.h - calls of the CPU kernels -------------------*- C++ -*-===//
//
// The ABI of the runtime's CPU kernels (runtime/devices/cpu): symbols
// `vitc_cpu_<op>_<dtype>` taking fully dynamic strided memrefs (their C
// interface takes memref descriptors) and i64 scalars, and the builder of
// such calls. Also the anchor conversions vitc-linalg-to-library dispatches
// to (MatmulCalls.cpp, ConvPoolCalls.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_CPU_KERNELABI_H
#define VITC_COMPILER_CODEGEN_CPU_KERNELABI_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace vitc::cpu {
using namespace mlir;

/// The kernel name suffix for inputs of element type `input` and an output
/// of `output`: f32 for f32 -> f32, bf16 for bf16 -> f32 (mixed precision);
/// nullopt where the runtime has no kernel.
std::optional<StringRef> getDtypeSuffix(Type input, Type output);

/// The kernel suffix of an anchor reading `inputs` (of one element type)
/// into `output`.
std::optional<StringRef> getDtypeSuffix(ValueRange inputs, Value output);

/// A memref type of the same rank and element type with every size, stride
/// and the offset dynamic: the one signature all shapes share.
MemRefType getFullyDynamicType(MemRefType type);

class CallBuilder {
public:
  /// `prefix` names the calls' target: "vitc_cpu_" (the runtime's CPU
  /// kernels) or "vitc_gpu_" (GPU library routines, recorded by a GPU
  /// schedule as call commands).
  CallBuilder(ModuleOp module, SymbolTable &symbols,
              StringRef prefix = "vitc_cpu_")
      : prefix(prefix.str()), module(module), symbols(symbols) {}

  /// The kernel `<prefix><op>`.
  std::string kernel(const Twine &op) const { return (prefix + op).str(); }

  /// Casts `memref` to its fully dynamic type.
  Value castToDynamic(OpBuilder &b, Location loc, Value memref) {
    auto type = getFullyDynamicType(cast<MemRefType>(memref.getType()));
    if (memref.getType() == type)
      return memref;
    return memref::CastOp::create(b, loc, type, memref);
  }

  /// An i64 constant, shared by the arguments of one call.
  Value i64(OpBuilder &b, Location loc, int64_t v) {
    Value &cached = constants[v];
    if (!cached)
      cached = arith::ConstantIntOp::create(b, loc, v, 64);
    return cached;
  }

  /// Starts a new call site: constants are not shared across them.
  void beginCall() { constants.clear(); }

  Value indexToI64(OpBuilder &b, Location loc, Value v) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  }

  /// Emits `func.call @name(memrefs..., scalars...)`, declaring `name` on
  /// first use. Fails (with a diagnostic) if the module already holds a
  /// different `name`.
  LogicalResult call(OpBuilder &b, Operation *anchor, StringRef name,
                     ArrayRef<Value> memrefs, ArrayRef<Value> scalars) {
    Location loc = anchor->getLoc();
    SmallVector<Value> args;
    for (Value m : memrefs)
      args.push_back(castToDynamic(b, loc, m));
    args.append(scalars.begin(), scalars.end());
    auto fnType = b.getFunctionType(TypeRange(ValueRange(args)), {});
    auto fn = symbols.lookup<func::FuncOp>(name);
    if (!fn) {
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      fn = func::FuncOp::create(mb, module.getLoc(), name, fnType);
      fn.setPrivate();
      // The C symbol takes memref descriptors: _mlir_ciface_<name>.
      fn->setAttr("llvm.emit_c_interface", UnitAttr::get(b.getContext()));
      // Kernels never retain their arguments (vitc-plan-memory relies on it).
      fn->setAttr("vitc.library_kernel", UnitAttr::get(b.getContext()));
      symbols.insert(fn);
    } else if (fn.getFunctionType() != fnType) {
      hadError = true;
      return anchor->emitOpError("library kernel '")
             << name << "' is already declared with type "
             << fn.getFunctionType() << ", expected " << fnType;
    }
    func::CallOp::create(b, loc, fn, args);
    return success();
  }

  /// Whether a call could not be emitted (a diagnostic was reported).
  bool hadError = false;
  const std::string prefix;

private:
  ModuleOp module;
  SymbolTable &symbols;
  llvm::DenseMap<int64_t, Value> constants;
};

//===----------------------------------------------------------------------===//
// Anchor conversions: each replaces `op` by a kernel call, or fails (leaving
// it to the loop lowering) when the op does not match what a kernel does.
//===----------------------------------------------------------------------===//

/// linalg.matmul / batch_matmul (MatmulCalls.cpp).
LogicalResult convertMatmul(linalg::LinalgOp op, CallBuilder &calls);

/// A linalg.generic contraction that is a (batched) matmul over runs of
/// dims (MatmulCalls.cpp).
LogicalResult convertGenericContraction(linalg::GenericOp op,
                                        CallBuilder &calls);

/// 2-D convolutions, grouped or not (ConvPoolCalls.cpp). With
/// `cudnnConventions`, only calls that cuDNN's convolutions take are made:
/// pads folded into the call only when symmetric, and the filter packed
/// (never a strided view).
LogicalResult convertConv(linalg::LinalgOp op, DenseIntElementsAttr strides,
                          DenseIntElementsAttr dilations, bool grouped,
                          bool cudnnConventions, CallBuilder &calls);

/// 2-D max / sum pooling (ConvPoolCalls.cpp).
LogicalResult convertPool(linalg::LinalgOp op, DenseIntElementsAttr strides,
                          DenseIntElementsAttr dilations, bool isMax,
                          CallBuilder &calls);

} // namespace vitc::cpu

#endif // VITC_COMPILER_CODEGEN_CPU_KERNELABI_H
