//===- LinalgToLibrary.cpp - anchors on memrefs -> runtime kernel calls -----===//
//
// After one-shot bufferization, the anchor ops that a tuned library does best
// (matmul, batch_matmul, 2-D convolution, 2-D pooling) become calls to the
// runtime's CPU kernels:
//
//   func.func private @vitc_cpu_<op>_<dtype>(memref<?x..xT, strided<[?..], offset: ?>>...,
//                                           i64...) attributes {llvm.emit_c_interface}
//
// whose C symbols `_mlir_ciface_vitc_cpu_<op>_<dtype>` take memref
// descriptors (runtime/devices/cpu). Operands are cast to fully dynamic
// shapes and layouts so one symbol serves every shape and stride. <dtype>
// is f32, or bf16 for matmuls and convolutions with bf16 inputs that
// accumulate into an f32 output (mixed precision: linalg widens each input
// element to the output type, what the library does in its f32 accumulators).
//
// linalg accumulates into its output; the kernels overwrite it unless told to
// accumulate. The zero (or -inf for max pooling) fill that initialises the
// output is dropped when nothing touches the output between the fill and the
// op; otherwise matmul and conv are called with accumulate = 1 and pooling
// stays a linalg op.
//
// Matmul B operands and convolution filters that view the weights section
// are marked constant (a trailing i64 1): the kernel may then keep them
// reordered into the library's layout across calls.
//
// The lowering pads convolution / pooling inputs by materialising a bigger
// buffer (fill with the pad value, copy the input into a subview). When that
// pattern is found, the kernel gets the unpadded input and the pads instead,
// and the padded buffer disappears.
//
//
// The matching lives beside this pass: BufferAnalysis (what may touch a
// buffer), KernelAbi (the calls), MatmulCalls and ConvPoolCalls (one anchor
// family each). vitc-reorder-hints then annotates the convolution calls.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

#include "compiler/Codegen/CPU/KernelAbi.h"

#include "llvm/ADT/TypeSwitch.h"

namespace vitc {
#define GEN_PASS_DEF_LINALGTOLIBRARY
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;
using namespace cpu;

namespace {

struct LinalgToLibraryPass
    : impl::LinalgToLibraryBase<LinalgToLibraryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    CallBuilder calls(module, symbols, kernelPrefix);
    SmallVector<linalg::LinalgOp> anchors;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() &&
          isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op))
        anchors.push_back(op);
      else if (op.hasPureBufferSemantics() &&
               isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNgchwGfchwOp>(op))
        anchors.push_back(op);
      else if (op.hasPureBufferSemantics() && pools &&
               isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op))
        anchors.push_back(op);
      else if (op.hasPureBufferSemantics() && isa<linalg::GenericOp>(op) &&
               linalg::isaContractionOpInterface(op))
        anchors.push_back(op);
    });
    for (linalg::LinalgOp op : anchors) {
      calls.beginCall();
      // A failure to match leaves the op to the generic loop lowering; only
      // a conflicting declaration is an error.
      LogicalResult converted =
          TypeSwitch<Operation *, LogicalResult>(op)
              .Case<linalg::MatmulOp, linalg::BatchMatmulOp>(
                  [&](auto) { return convertMatmul(op, calls); })
              .Case([&](linalg::Conv2DNchwFchwOp conv) {
                return convertConv(op, conv.getStrides(), conv.getDilations(),
                                   /*grouped=*/false, cudnnConventions, calls);
              })
              .Case([&](linalg::Conv2DNgchwGfchwOp conv) {
                return convertConv(op, conv.getStrides(), conv.getDilations(),
                                   /*grouped=*/true, cudnnConventions, calls);
              })
              .Case([&](linalg::PoolingNchwMaxOp pool) {
                return convertPool(op, pool.getStrides(), pool.getDilations(),
                                   /*isMax=*/true, calls);
              })
              .Case([&](linalg::PoolingNchwSumOp pool) {
                return convertPool(op, pool.getStrides(), pool.getDilations(),
                                   /*isMax=*/false, calls);
              })
              .Case([&](linalg::GenericOp generic) {
                return convertGenericContraction(generic, calls);
              })
              .Default([](Operation *) { return failure(); });
      (void)converted;
    }
    if (calls.hadError)
      signalPassFailure();
  }
};

} // namespace
} // namespace vitc
