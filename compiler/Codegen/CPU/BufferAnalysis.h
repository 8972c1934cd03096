//===- BufferAnalysis.h - buffers around library calls ----------*- C++ -*-===//
//
// What vitc-linalg-to-library and vitc-reorder-hints must know about the
// memrefs around an anchor before replacing it by a kernel call: which ops
// may touch a buffer, the fills, pads and transposes the lowering made just
// for the anchor (which the kernel can do itself), and whether a buffer is
// dead afterwards.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_CPU_BUFFERANALYSIS_H
#define VITC_COMPILER_CODEGEN_CPU_BUFFERANALYSIS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/APFloat.h"

#include <optional>

namespace vitc::cpu {
using namespace mlir;

/// The buffer a memref value views (through subviews, casts, reshapes).
Value getRootBuffer(Value v);

/// Whether `op` calls a library kernel this pass emits whose name starts
/// with `prefix`.
bool isKernelCall(Operation *op, StringRef prefix = "vitc_cpu_");

/// Whether `op` may access (or, with `writesOnly`, write) memory of `root`.
/// Ops with unknown effects may access anything.
bool mayAccess(Operation *op, Value root, bool writesOnly);

/// Whether an op strictly between `from` and `to` (same block) may access
/// `root`.
bool mayAccessBetween(Operation *from, Operation *to, Value root,
                      bool writesOnly);

std::optional<APFloat> getConstantFloat(Value v);

/// If `op` overwrites all of its single output with one constant
/// (linalg.fill, or a linalg.map / generic without inputs that yields a
/// value from outside its body), returns the output and the constant.
std::optional<std::pair<Value, APFloat>> matchConstantFill(Operation *op);

/// The identity of the reduction a kernel performs: the value that padding
/// and output initialisation must hold for the library call to be exact.
enum class Neutral { Zero, NegInfinity };

bool isNeutral(const APFloat &value, Neutral neutral);

/// The fill that initialises `out` just for `anchor`: same buffer value,
/// neutral constant, and nothing accesses the buffer in between.
Operation *findInitFill(Operation *anchor, Value out, Neutral neutral);

/// An input that the lowering padded by hand: `padded` = alloc, filled with
/// the pad value, with `source` copied into a subview at (top, left).
struct PaddedInput {
  memref::AllocOp alloc;
  Value source;
  int64_t top, left;
  SmallVector<Operation *> ops; // fill, copy, subview, alloc: erased after.
};

std::optional<PaddedInput> matchPaddedInput(Operation *anchor, Value padded,
                                            Neutral neutral);

/// Whether every access of `buffer` is visible to mayAccess in `block`:
/// through views of it, by ops with known effects or library calls; never
/// returned, yielded or passed to another function.
bool hasOnlyTrackedUsers(Value buffer, Block *block);

/// Whether `buffer` holds nothing that is read after `from`: the next op
/// that accesses it overwrites it whole (a transpose into it: bufferization
/// reuses dead buffers) or deallocates it, or none does.
bool isDeadAfter(Operation *from, Value buffer);

/// Erases `alloc` and its deallocations once nothing else uses it.
void eraseIfUnused(memref::AllocOp alloc);

/// An input that a linalg.transpose wrote just for the anchor: the last
/// write of `buffer` (an alloc) before the anchor is the transpose, nothing
/// between them touches the buffer or writes the transpose's source, and
/// after the anchor the buffer is overwritten whole (another transpose into
/// it: bufferization reuses dead buffers) or never read again. The kernel
/// can then read a transposed view of the source (memref.transpose:
/// strides, no copy) instead; the autodiff's x^T and g^T of a filter
/// gradient are such inputs, and the kernel swaps them back without touching
/// memory.
///
/// The buffer may also be a reshape (memref.expand_shape / collapse_shape)
/// of an alloc used by nothing else: the transpose of a reshaped tensor,
/// after reshapes were propagated through it (a linear layer's x^T of
/// (batch, tokens, features), transposed as (features, batch, tokens)).
struct TransposedInput {
  linalg::TransposeOp transpose;
  memref::AllocOp alloc;
  Operation *reshape = nullptr; // Between alloc and buffer, if any.
};

std::optional<TransposedInput> matchTransposedInput(Operation *anchor,
                                                    Value buffer);

/// The transposed view of `t`'s source, replacing the buffer it wrote.
Value buildTransposedView(OpBuilder &b, TransposedInput t);

/// The 2-D transpose that is the only reader of `anchor`'s output `buffer`
/// (an alloc): the next op after the anchor that accesses the buffer is the
/// transpose, which writes a buffer nothing touches in between, and the
/// buffer is dead after it (overwritten whole, or never accessed again).
linalg::TransposeOp matchTransposedOutput(Operation *anchor, Value buffer);

/// Erases the transpose, and its buffer if nothing else uses it, once the
/// anchor reads the view.
void eraseTransposed(const std::optional<TransposedInput> &t);

/// Whether `v` views the module's weights section (the `@main` argument that
/// vitc-externalize-weights named "weights"): its content is constant for the
/// lifetime of the loaded artifact, so a kernel may cache a reordered copy of
/// it keyed by its address. Computed tensors (e.g. weights being trained)
/// never qualify.
bool isViewOfWeights(Value v);

} // namespace vitc::cpu

#endif // VITC_COMPILER_CODEGEN_CPU_BUFFERANALYSIS_H
