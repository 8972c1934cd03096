//===- Passes.h - vitc compiler passes ----------------------------*- C++ -*-===//
#ifndef VITC_COMPILER_PASSES_H
#define VITC_COMPILER_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace vitc {

#define GEN_PASS_DECL
#include "vitc/Compiler/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "vitc/Compiler/Passes.h.inc"

} // namespace vitc

#endif // VITC_COMPILER_PASSES_H
