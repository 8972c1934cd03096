//===- GpuKernelsToHost.cpp - outlined kernels -> host functions ----------===//
//
// The emulated GPU runs the very kernels the CUDA target compiles to PTX,
// compiled for the host instead: what a GPU gives each thread in special
// registers (its ids, the launch's sizes) comes from a launch context the
// emulator fills. Block barriers and warp shuffles become calls into the
// emulator (vitc_emu_barrier, vitc_emu_shuffle), which runs the threads of
// such a kernel's blocks as fibers that switch there; workgroup memory is a
// per-block buffer whose address the context holds. Such kernels also get a
// `vitc_fibers.<module>.<kernel>` function returning the workgroup bytes a
// block needs: the emulator runs a kernel with fibers when it has one.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/GpuEmulator/Passes.h"
#include "vitc/runtime/ArtifactFormat.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
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
  kWorkgroupMemory = 12, // the block's workgroup memory (a pointer)
};

/// gpu.shuffle modes as the emulator numbers them (vitc_emu_shuffle).
int32_t shuffleMode(gpu::ShuffleMode mode) {
  switch (mode) {
  case gpu::ShuffleMode::XOR:
    return 0;
  case gpu::ShuffleMode::UP:
    return 1;
  case gpu::ShuffleMode::DOWN:
    return 2;
  case gpu::ShuffleMode::IDX:
    return 3;
  }
  return 0;
}

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

/// The runtime's functions that kernels call, declared once.
func::FuncOp declareRuntime(ModuleOp module, StringRef name,
                           FunctionType type) {
  if (auto existing = module.lookupSymbol<func::FuncOp>(name))
    return existing;
  OpBuilder b(module.getBodyRegion());
  auto decl = func::FuncOp::create(b, module.getLoc(), name, type);
  decl.setPrivate();
  return decl;
}

struct GpuKernelsToHostPass
    : impl::GpuKernelsToHostBase<GpuKernelsToHostPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (auto gpuModule :
         llvm::make_early_inc_range(module.getOps<gpu::GPUModuleOp>())) {
      for (auto kernel :
           llvm::make_early_inc_range(gpuModule.getOps<gpu::GPUFuncOp>()))
        if (failed(convertKernel(module, gpuModule, kernel)))
          return signalPassFailure();
      gpuModule.erase();
    }
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }

  LogicalResult convertKernel(ModuleOp module, gpu::GPUModuleOp gpuModule,
                              gpu::GPUFuncOp kernel) {
    MLIRContext *ctx = module.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto i32 = IntegerType::get(ctx, 32);
    OpBuilder b(ctx);
    if (!kernel.isKernel() || kernel.getNumPrivateAttributions())
      return kernel.emitError("the GPU emulator runs kernels without private "
                              "memory attributions only");
    SmallVector<Type> inputs{ptrType};
    llvm::append_range(inputs, kernel.getArgumentTypes());
    b.setInsertionPointToEnd(module.getBody());
    std::string suffix = (gpuModule.getName() + "." + kernel.getName()).str();
    auto host = func::FuncOp::create(
        b, kernel.getLoc(), artifact::kEmulatedKernelPrefix + suffix,
        b.getFunctionType(inputs, {}));
    host->setAttr("vitc.gpu_kernel",
                  SymbolRefAttr::get(gpuModule.getNameAttr(),
                                     {FlatSymbolRefAttr::get(
                                         kernel.getNameAttr())}));
    unsigned numArguments = kernel.getNumArguments();
    SmallVector<BlockArgument> workgroup(kernel.getWorkgroupAttributions());
    host.getBody().takeBody(kernel.getBody());
    Block &entry = host.getBody().front();
    Value context = entry.insertArgument(0u, ptrType, kernel.getLoc());
    auto word = [&](Location loc, int64_t index) -> Value {
      return LLVM::GEPOp::create(b, loc, ptrType, i64, context,
                                 ArrayRef<LLVM::GEPArg>{index});
    };

    // Workgroup buffers: views of the block's memory, 16-byte aligned.
    b.setInsertionPointToStart(&entry);
    int64_t workgroupBytes = 0;
    bool synchronizes = !workgroup.empty();
    for (BlockArgument buffer : workgroup) {
      auto type = cast<MemRefType>(buffer.getType());
      if (!type.hasStaticShape() || !type.getLayout().isIdentity())
        return kernel.emitError("the GPU emulator needs workgroup buffers of "
                                "static shape and identity layout");
      Location loc = buffer.getLoc();
      Value base = LLVM::LoadOp::create(b, loc, ptrType,
                                        word(loc, kWorkgroupMemory));
      Value data = LLVM::GEPOp::create(b, loc, ptrType, b.getI8Type(), base,
                                       ArrayRef<LLVM::GEPArg>{workgroupBytes});
      auto plain = MemRefType::get(type.getShape(), type.getElementType());
      buffer.replaceAllUsesWith(memrefAt(b, loc, data, plain));
      workgroupBytes +=
          (type.getNumElements() * type.getElementTypeBitWidth() / 8 + 15) /
          16 * 16;
    }
    if (workgroupBytes > artifact::kEmulatedWorkgroupBytes)
      return kernel.emitError("the kernel needs ")
             << workgroupBytes << " bytes of workgroup memory, more than a "
             << "block's " << artifact::kEmulatedWorkgroupBytes;
    entry.eraseArguments(1 + numArguments, entry.getNumArguments() -
                                               1 - numArguments);

    SmallVector<Operation *> gpuOps;
    host.walk([&](Operation *op) {
      if (isa<gpu::GPUDialect>(op->getDialect()))
        gpuOps.push_back(op);
    });
    for (Operation *op : gpuOps) {
      b.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (int64_t index = contextWord(op); index >= 0) {
        Value value = LLVM::LoadOp::create(b, loc, i64, word(loc, index));
        op->getResult(0).replaceAllUsesWith(
            arith::IndexCastOp::create(b, loc, b.getIndexType(), value));
      } else if (isa<gpu::ReturnOp>(op)) {
        func::ReturnOp::create(b, loc);
      } else if (isa<gpu::BarrierOp>(op)) {
        synchronizes = true;
        func::CallOp::create(
            b, loc,
            declareRuntime(module, "vitc_emu_barrier",
                           b.getFunctionType({ptrType}, {})),
            ValueRange{context});
      } else if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
        synchronizes = true;
        Value value = shuffle.getValue();
        if (value.getType() != i32 && !value.getType().isF32())
          return op->emitError("the GPU emulator shuffles 32-bit values only");
        Value bits = value.getType() == i32
                         ? value
                         : arith::BitcastOp::create(b, loc, i32, value);
        Value mode = arith::ConstantIntOp::create(
            b, loc, i32, shuffleMode(shuffle.getMode()));
        auto call = func::CallOp::create(
            b, loc,
            declareRuntime(module, "vitc_emu_shuffle",
                           b.getFunctionType({ptrType, i32, i32, i32, i32},
                                             {i64})),
            ValueRange{context, bits, shuffle.getOffset(), shuffle.getWidth(),
                       mode});
        // The low word is the value, the high word says whether it is valid.
        Value packed = call.getResult(0);
        Value low = arith::TruncIOp::create(b, loc, i32, packed);
        Value result = value.getType() == i32
                           ? low
                           : arith::BitcastOp::create(b, loc,
                                                      value.getType(), low);
        Value high = arith::ShRUIOp::create(
            b, loc, packed, arith::ConstantIntOp::create(b, loc, i64, 32));
        Value valid = arith::TruncIOp::create(b, loc, b.getI1Type(), high);
        shuffle.getShuffleResult().replaceAllUsesWith(result);
        shuffle.getValid().replaceAllUsesWith(valid);
      } else {
        return op->emitError("the GPU emulator cannot run '")
               << op->getName() << "'";
      }
      op->erase();
    }

    if (synchronizes) {
      // How the emulator learns to run this kernel's blocks as fibers, and
      // how much workgroup memory each needs.
      b.setInsertionPointToEnd(module.getBody());
      auto info = func::FuncOp::create(
          b, kernel.getLoc(), artifact::kEmulatedFibersPrefix + suffix,
          b.getFunctionType({}, {i64}));
      Block *body = info.addEntryBlock();
      b.setInsertionPointToStart(body);
      func::ReturnOp::create(
          b, kernel.getLoc(),
          ValueRange{arith::ConstantIntOp::create(b, kernel.getLoc(), i64,
                                                  workgroupBytes)});
    }
    return success();
  }

  /// A memref of static `type` at `data`: its LLVM descriptor, cast back.
  Value memrefAt(OpBuilder &b, Location loc, Value data, MemRefType type) {
    MLIRContext *ctx = b.getContext();
    auto i64 = IntegerType::get(ctx, 64);
    auto ptrType = LLVM::LLVMPointerType::get(ctx);
    int64_t rank = type.getRank();
    SmallVector<Type> fields{ptrType, ptrType, i64};
    if (rank > 0) {
      fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
      fields.push_back(LLVM::LLVMArrayType::get(i64, rank));
    }
    auto descType = LLVM::LLVMStructType::getLiteral(ctx, fields);
    Value desc = LLVM::PoisonOp::create(b, loc, descType);
    auto constant = [&](int64_t v) {
      return LLVM::ConstantOp::create(b, loc, i64, v).getResult();
    };
    desc = LLVM::InsertValueOp::create(b, loc, desc, data, ArrayRef<int64_t>{0});
    desc = LLVM::InsertValueOp::create(b, loc, desc, data, ArrayRef<int64_t>{1});
    desc = LLVM::InsertValueOp::create(b, loc, desc, constant(0),
                                       ArrayRef<int64_t>{2});
    auto [strides, offset] = type.getStridesAndOffset();
    for (int64_t d = 0; d < rank; ++d) {
      desc = LLVM::InsertValueOp::create(
          b, loc, desc, constant(type.getDimSize(d)),
          ArrayRef<int64_t>{3, d});
      desc = LLVM::InsertValueOp::create(b, loc, desc, constant(strides[d]),
                                         ArrayRef<int64_t>{4, d});
    }
    return UnrealizedConversionCastOp::create(b, loc, type, desc).getResult(0);
  }
};

} // namespace
} // namespace vitc
