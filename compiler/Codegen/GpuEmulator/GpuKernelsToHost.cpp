//===- GpuKernelsToHost.cpp - outlined kernels -> host functions ----------===//
//
// The emulated GPU runs the very kernels the CUDA target compiles to PTX,
// compiled for the host instead: what a GPU gives each thread in special
// registers (its ids, the launch's sizes) comes from a launch context the
// emulator fills. Kernels with block barriers, shuffles or workgroup memory
// (the GPU reductions to come) need the emulator to run a block's threads
// as fibers; until it does, they are refused here by name.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/GpuEmulator/Passes.h"
#include "vitc/runtime/ArtifactFormat.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace vitc {
#define GEN_PASS_DEF_GPUKERNELSTOHOST
#include "compiler/Codegen/GpuEmulator/Passes.h.inc"

using namespace mlir;

namespace {

/// Word offsets of the launch context (runtime/devices/emulator: LaunchContext).
enum ContextWord : int64_t {
  kThreadId = 0,
  kBlockId = 3,
  kBlockDim = 6,
  kGridDim = 9,
};

/// The context word an id or size op reads, or -1 for another op.
int64_t contextWord(Operation *op) {
  auto word = [](int64_t base, gpu::Dimension dim) {
    return base + static_cast<int64_t>(dim);
  };
  if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
    return word(kThreadId, id.getDimension());
  if (auto id = dyn_cast<gpu::BlockIdOp>(op))
    return word(kBlockId, id.getDimension());
  if (auto dim = dyn_cast<gpu::BlockDimOp>(op))
    return word(kBlockDim, dim.getDimension());
  if (auto dim = dyn_cast<gpu::GridDimOp>(op))
    return word(kGridDim, dim.getDimension());
  return -1;
}

struct GpuKernelsToHostPass
    : impl::GpuKernelsToHostBase<GpuKernelsToHostPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    OpBuilder b(ctx);

    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      for (auto kernel :
           llvm::make_early_inc_range(gpuModule.getOps<gpu::GPUFuncOp>())) {
        if (!kernel.isKernel() || kernel.getNumWorkgroupAttributions() ||
            kernel.getNumPrivateAttributions()) {
          kernel.emitError("the GPU emulator runs kernels without workgroup "
                           "or private memory attributions only");
          return signalPassFailure();
        }
        SmallVector<Type> inputs{ptrType};
        llvm::append_range(inputs, kernel.getArgumentTypes());
        b.setInsertionPointToEnd(module.getBody());
        std::string name = (Twine(artifact::kEmulatedKernelPrefix) +
                            gpuModule.getName() + "." + kernel.getName())
                               .str();
        auto host = func::FuncOp::create(b, kernel.getLoc(), name,
                                         b.getFunctionType(inputs, {}));
        host->setAttr("vitc.gpu_kernel",
                      SymbolRefAttr::get(gpuModule.getNameAttr(),
                                         {FlatSymbolRefAttr::get(
                                             kernel.getNameAttr())}));
        host.getBody().takeBody(kernel.getBody());
        Value context =
            host.getBody().front().insertArgument(0u, ptrType, kernel.getLoc());

        SmallVector<Operation *> gpuOps;
        host.walk([&](Operation *op) {
          if (isa<gpu::GPUDialect>(op->getDialect()))
            gpuOps.push_back(op);
        });
        for (Operation *op : gpuOps) {
          b.setInsertionPoint(op);
          Location loc = op->getLoc();
          if (int64_t word = contextWord(op); word >= 0) {
            Value address = LLVM::GEPOp::create(b, loc, ptrType, i64, context,
                                                ArrayRef<LLVM::GEPArg>{word});
            Value value = LLVM::LoadOp::create(b, loc, i64, address);
            op->getResult(0).replaceAllUsesWith(arith::IndexCastOp::create(
                b, loc, b.getIndexType(), value));
          } else if (isa<gpu::ReturnOp>(op)) {
            func::ReturnOp::create(b, loc);
          } else {
            op->emitError("the GPU emulator cannot run '")
                << op->getName() << "' yet";
            return signalPassFailure();
          }
          op->erase();
        }
      }
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
} // namespace vitc
