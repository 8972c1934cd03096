//===- LowerParallelCalls.cpp - kernel calls through vitc_parallel_for ----===//
//
// The last step of threading generated kernels (vitc-cpu-parallel-kernels
// gave them a range [begin, end) and a grain): on the LLVM dialect, where
// each argument is a scalar (memref descriptors are expanded), a call
//
//   llvm.call @k(%a0, ..., %an, %begin, %end)
//
// becomes
//
//   store %a0 .. %an to the caller's context buffer (8 bytes a slot)
//   llvm.call @vitc_parallel_for(@k.task, %buffer, %begin, %end, grain)
//
// and @k.task(ctx, b, e) loads the arguments back and calls @k(..., b, e).
// The runtime calls the trampoline once per thread with its chunk of the
// range, on the OpenMP pool that oneDNN's kernels use.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CPU/Passes.h"

namespace vitc {
#define GEN_PASS_DEF_LOWERPARALLELCALLS
#include "compiler/Codegen/CPU/Passes.h.inc"

using namespace mlir;

namespace {

/// Set by vitc-cpu-parallel-kernels on the kernels it gave a range.
constexpr llvm::StringLiteral kGrainAttr = "vitc.parallel_grain";
/// The runtime's entry (runtime/devices/cpu/ParallelFor.cpp).
constexpr llvm::StringLiteral kParallelFor = "vitc_parallel_for";

/// Whether a value of this type fits a context slot.
bool fitsSlot(Type type) {
  if (isa<LLVM::LLVMPointerType>(type))
    return true;
  if (auto integer = dyn_cast<IntegerType>(type))
    return integer.getWidth() <= 64;
  if (auto real = dyn_cast<FloatType>(type))
    return real.getWidth() <= 64;
  return false;
}

struct LowerParallelCallsPass
    : impl::LowerParallelCallsBase<LowerParallelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    auto voidType = LLVM::LLVMVoidType::get(ctx);

    // The kernels and their grains; the attribute goes (LLVM IR has no
    // place for it).
    llvm::StringMap<std::pair<LLVM::LLVMFuncOp, int64_t>> kernels;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      auto grain = func->getAttrOfType<IntegerAttr>(kGrainAttr);
      if (!grain)
        continue;
      func->removeAttr(kGrainAttr);
      LLVM::LLVMFunctionType type = func.getFunctionType();
      ArrayRef<Type> params = type.getParams();
      if (params.size() < 2 || params.end()[-1] != i64 ||
          params.end()[-2] != i64 ||
          !isa<LLVM::LLVMVoidType>(type.getReturnType()) ||
          !llvm::all_of(params, fitsSlot))
        continue; // the plain call covers the whole range
      kernels[func.getName()] = {func, grain.getInt()};
    }
    if (kernels.empty())
      return;

    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      if (std::optional<StringRef> callee = call.getCallee())
        if (kernels.count(*callee))
          calls.push_back(call);
    });
    if (calls.empty())
      return;

    OpBuilder builder(ctx);
    builder.setInsertionPointToEnd(module.getBody());
    auto parallelFor = module.lookupSymbol<LLVM::LLVMFuncOp>(kParallelFor);
    if (!parallelFor)
      parallelFor = LLVM::LLVMFuncOp::create(
          builder, module.getLoc(), kParallelFor,
          LLVM::LLVMFunctionType::get(voidType, {ptr, ptr, i64, i64, i64}));

    // One trampoline per kernel that is called.
    llvm::StringMap<LLVM::LLVMFuncOp> tasks;
    for (LLVM::CallOp call : calls) {
      auto &[kernel, grain] = kernels[*call.getCallee()];
      if (tasks.count(kernel.getName()))
        continue;
      tasks[kernel.getName()] = createTask(builder, kernel);
    }

    // One context buffer per caller, as large as its largest call needs.
    DenseMap<Operation *, unsigned> slots;
    for (LLVM::CallOp call : calls) {
      auto caller = call->getParentOfType<LLVM::LLVMFuncOp>();
      unsigned &size = slots[caller];
      size = std::max(size, call.getNumOperands() - 2);
    }
    DenseMap<Operation *, Value> buffers;
    for (auto [caller, size] : slots) {
      Block &entry = cast<LLVM::LLVMFuncOp>(caller).getBody().front();
      builder.setInsertionPointToStart(&entry);
      Location loc = caller->getLoc();
      Value count = LLVM::ConstantOp::create(builder, loc, i64,
                                             builder.getI64IntegerAttr(1));
      buffers[caller] = LLVM::AllocaOp::create(
          builder, loc, ptr, LLVM::LLVMArrayType::get(i64, std::max(size, 1u)),
          count, /*alignment=*/8);
    }

    for (LLVM::CallOp call : calls) {
      auto &[kernel, grain] = kernels[*call.getCallee()];
      Value buffer = buffers[call->getParentOfType<LLVM::LLVMFuncOp>()];
      Location loc = call.getLoc();
      builder.setInsertionPoint(call);
      unsigned numArgs = call.getNumOperands() - 2;
      for (unsigned i = 0; i < numArgs; ++i) {
        Value slot = LLVM::GEPOp::create(builder, loc, ptr, i64, buffer,
                                         ArrayRef<LLVM::GEPArg>{int32_t(i)});
        LLVM::StoreOp::create(builder, loc, call.getOperand(i), slot);
      }
      Value task =
          LLVM::AddressOfOp::create(builder, loc, tasks[kernel.getName()]);
      Value grainValue = LLVM::ConstantOp::create(
          builder, loc, i64, builder.getI64IntegerAttr(grain));
      LLVM::CallOp::create(builder, loc, parallelFor,
                           ValueRange{task, buffer, call.getOperand(numArgs),
                                      call.getOperand(numArgs + 1),
                                      grainValue});
      call.erase();
    }
  }

  /// @<kernel>.task(ptr ctx, i64 begin, i64 end): loads the arguments from
  /// the context's slots and calls the kernel on [begin, end).
  LLVM::LLVMFuncOp createTask(OpBuilder &builder, LLVM::LLVMFuncOp kernel) {
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto i64 = IntegerType::get(ctx, 64);
    Location loc = kernel.getLoc();
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointAfter(kernel);
    auto task = LLVM::LLVMFuncOp::create(
        builder, loc, (kernel.getName() + ".task").str(),
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx),
                                    {ptr, i64, i64}),
        LLVM::Linkage::Internal);
    Block *entry = task.addEntryBlock(builder);
    builder.setInsertionPointToStart(entry);
    ArrayRef<Type> params = kernel.getFunctionType().getParams();
    SmallVector<Value> args;
    for (unsigned i = 0; i + 2 < params.size(); ++i) {
      Value slot =
          LLVM::GEPOp::create(builder, loc, ptr, i64, entry->getArgument(0),
                              ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(builder, loc, params[i], slot));
    }
    args.push_back(entry->getArgument(1));
    args.push_back(entry->getArgument(2));
    LLVM::CallOp::create(builder, loc, kernel, args);
    LLVM::ReturnOp::create(builder, loc, ValueRange{});
    return task;
  }
};

} // namespace
} // namespace vitc
