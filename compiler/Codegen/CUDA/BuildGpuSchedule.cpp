//===- BuildGpuSchedule.cpp - host functions -> GPU schedules -------------===//
//
// After kernel outlining, the host side of a GPU function is straight-line
// code: index arithmetic on the inputs' dims, allocations, views of the
// weights, the inputs and the arena, kernel launches, copies and frees. This
// pass interprets that code symbolically and records it as data, the
// function's *schedule*, so that the runtime executes it without host code
// (and without MLIR's CUDA runtime wrappers):
//
//   scalars   a small program over int64 slots: constants, the inputs' dims
//             and arithmetic on them. The runtime evaluates it once per set
//             of input shapes (one batch size) and caches the values: grid
//             sizes, allocation sizes and every descriptor field.
//   memrefs   every memref the commands use, as a base (the weights, input
//             #i, allocation #k) and slots for its byte offset from the base
//             pointer, element offset, sizes and strides.
//   commands  alloc, launch (kernel, grid, block, arguments), call (a
//             library routine: cuBLASLt matmuls), copy, free, in program
//             order; each names the ONNX node it came from.
//   results   the memrefs the function returns.
//
// The schedule goes on the module as `vitc.gpu_schedules = {<function> =
// {...}}` and the host functions are erased: the artifact carries the
// schedules and the kernels. An operation the schedule cannot express is an
// error naming it.
//
//===----------------------------------------------------------------------===//
#include "compiler/Codegen/CUDA/GpuSchedule.h"
#include "compiler/Codegen/CUDA/Passes.h"
#include "compiler/ElementTypes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace vitc {
#define GEN_PASS_DEF_GPUBUILDSCHEDULE
#include "compiler/Codegen/CUDA/Passes.h.inc"

using namespace mlir;

namespace {

/// A memref as the schedule sees it: a base and the slots of its descriptor.
struct MemrefSlots {
  std::string base; // "weights", "input", "alloc"
  int64_t index = 0;
  std::string dtype;
  int64_t byteOffset = 0, offset = 0;
  SmallVector<int64_t> sizes, strides;
};

/// The ONNX node an operation came from (the first NameLoc in its
/// location), or "" when it has none.
std::string nodeName(Location loc) {
  std::string name;
  loc->walk([&](Location l) {
    if (auto named = dyn_cast<NameLoc>(l)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name;
}

class ScheduleBuilder {
public:
  ScheduleBuilder(func::FuncOp func) : func(func), b(func.getContext()) {}

  FailureOr<DictionaryAttr> build() {
    if (!func.getBody().hasOneBlock())
      return func.emitError("a GPU function's host code must be straight-line "
                            "(one block)");
    for (BlockArgument arg : func.getArguments()) {
      auto type = dyn_cast<MemRefType>(arg.getType());
      if (!type)
        return func.emitError("argument #")
               << arg.getArgNumber() << " is not a memref";
      MemrefSlots m;
      m.base = arg.getArgNumber() == 0 ? "weights" : "input";
      m.index = arg.getArgNumber();
      m.dtype = dtypeName(type.getElementType());
      for (unsigned d = 0; d < type.getRank(); ++d)
        m.sizes.push_back(
            type.isDynamicDim(d)
                ? scalar("dim", {m.index, static_cast<int64_t>(d)})
                : constant(type.getDimSize(d)));
      if (m.dtype.empty())
        return func.emitError("unsupported element type ")
               << type.getElementType();
      setRowMajorStrides(m);
      m.byteOffset = m.offset = constant(0);
      if (failed(define(arg, m, func.getLoc())))
        return failure();
    }
    for (Operation &op : func.getBody().front())
      if (failed(visit(&op)))
        return failure();
    NamedAttrList fields;
    fields.append("scalars", b.getArrayAttr(scalars));
    fields.append("memrefs", b.getArrayAttr(memrefAttrs));
    fields.append("commands", b.getArrayAttr(commands));
    fields.append("results", b.getI64ArrayAttr(results));
    return fields.getDictionary(b.getContext());
  }

private:
  // --- Scalars ---------------------------------------------------------
  /// The value of `slot` if it is a constant.
  std::optional<int64_t> constantValue(int64_t slot) const {
    auto parts = cast<ArrayAttr>(scalars[slot]).getValue();
    if (cast<StringAttr>(parts[0]).getValue() != "const")
      return std::nullopt;
    return cast<IntegerAttr>(parts[1]).getInt();
  }

  /// Appends (or finds) the scalar op `[name, operands...]`; its slot.
  /// Sums and products of constants, and with 0 or 1, fold (the layouts of
  /// static shapes are all constants).
  int64_t scalar(StringRef name, ArrayRef<int64_t> operands) {
    if ((name == "addi" || name == "muli" || name == "subi") &&
        operands.size() == 2) {
      std::optional<int64_t> a = constantValue(operands[0]);
      std::optional<int64_t> c = constantValue(operands[1]);
      if (a && c)
        return constant(name == "addi"   ? *a + *c
                        : name == "subi" ? *a - *c
                                         : *a * *c);
      int64_t identity = name == "muli" ? 1 : 0;
      if (c == identity)
        return operands[0];
      if (a == identity && name != "subi")
        return operands[1];
      if (name == "muli" && (a == 0 || c == 0))
        return constant(0);
    }
    SmallVector<int64_t> ordered(operands);
    // Commutative ops in one operand order, so x*c and c*x share a slot.
    if (ordered.size() == 2 &&
        llvm::is_contained({"addi", "muli", "andi", "ori", "xori", "maxsi",
                            "minsi", "maxui", "minui", "cmpi_eq", "cmpi_ne"},
                           name) &&
        ordered[0] > ordered[1])
      std::swap(ordered[0], ordered[1]);
    SmallVector<Attribute> items{b.getStringAttr(name)};
    for (int64_t operand : ordered)
      items.push_back(b.getI64IntegerAttr(operand));
    ArrayAttr attr = b.getArrayAttr(items);
    auto [it, inserted] = slotOf.try_emplace(attr, scalars.size());
    if (inserted)
      scalars.push_back(attr);
    return it->second;
  }
  int64_t constant(int64_t value) {
    SmallVector<Attribute> items{b.getStringAttr("const"),
                                 b.getI64IntegerAttr(value)};
    ArrayAttr attr = b.getArrayAttr(items);
    auto [it, inserted] = slotOf.try_emplace(attr, scalars.size());
    if (inserted)
      scalars.push_back(attr);
    return it->second;
  }
  int64_t mul(int64_t a, int64_t b) { return scalar("muli", {a, b}); }
  int64_t add(int64_t a, int64_t b) { return scalar("addi", {a, b}); }

  FailureOr<int64_t> slot(Value value, Operation *user) {
    auto it = valueSlots.find(value);
    if (it != valueSlots.end())
      return it->second;
    return user->emitError("the GPU schedule has no value for an operand of '")
           << user->getName() << "' (computed by an operation it cannot run)";
  }
  /// A mixed static/dynamic size, offset or stride.
  FailureOr<int64_t> slot(OpFoldResult ofr, Operation *user) {
    if (auto attr = dyn_cast<Attribute>(ofr))
      return constant(cast<IntegerAttr>(attr).getInt());
    return slot(cast<Value>(ofr), user);
  }

  // --- Memrefs ---------------------------------------------------------
  /// `type`'s sizes (its dynamic ones from `dynamicSizes`, in order) with
  /// row-major strides.
  LogicalResult setIdentityLayout(MemrefSlots &m, MemRefType type,
                                  ValueRange dynamicSizes, Operation *op) {
    m.dtype = dtypeName(type.getElementType());
    if (m.dtype.empty())
      return op->emitError("the GPU schedule has no dtype for ")
             << type.getElementType();
    m.sizes.clear();
    unsigned next = 0;
    for (unsigned d = 0; d < type.getRank(); ++d) {
      if (!type.isDynamicDim(d)) {
        m.sizes.push_back(constant(type.getDimSize(d)));
        continue;
      }
      auto s = slot(dynamicSizes[next++], op);
      if (failed(s))
        return failure();
      m.sizes.push_back(*s);
    }
    setRowMajorStrides(m);
    return success();
  }
  void setRowMajorStrides(MemrefSlots &m) {
    m.strides.assign(m.sizes.size(), 0);
    int64_t stride = constant(1);
    for (size_t d = m.sizes.size(); d-- > 0;) {
      m.strides[d] = stride;
      stride = mul(stride, m.sizes[d]);
    }
  }
  /// Where the type's layout is static, its strides and offset win (they
  /// are what the kernels were compiled against).
  void applyStaticLayout(MemrefSlots &m, MemRefType type) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(type.getStridesAndOffset(strides, offset)))
      return;
    for (auto [d, stride] : llvm::enumerate(strides))
      if (!ShapedType::isDynamic(stride))
        m.strides[d] = constant(stride);
    if (!ShapedType::isDynamic(offset))
      m.offset = constant(offset);
    for (unsigned d = 0; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d))
        m.sizes[d] = constant(type.getDimSize(d));
  }

  LogicalResult define(Value value, MemrefSlots m, Location loc) {
    if (static_cast<int64_t>(m.sizes.size()) !=
        cast<MemRefType>(value.getType()).getRank())
      return emitError(loc, "internal: memref rank mismatch in the GPU schedule");
    memrefOf[value] = memrefAttrs.size();
    NamedAttrList fields;
    fields.append("base", b.getStringAttr(m.base));
    fields.append("index", b.getI64IntegerAttr(m.index));
    fields.append("dtype", b.getStringAttr(m.dtype));
    fields.append("byte_offset", b.getI64IntegerAttr(m.byteOffset));
    fields.append("offset", b.getI64IntegerAttr(m.offset));
    fields.append("sizes", b.getI64ArrayAttr(m.sizes));
    fields.append("strides", b.getI64ArrayAttr(m.strides));
    memrefAttrs.push_back(fields.getDictionary(b.getContext()));
    slotsOf.push_back(std::move(m));
    return success();
  }
  FailureOr<MemrefSlots> memref(Value value, Operation *user) {
    auto it = memrefOf.find(value);
    if (it != memrefOf.end())
      return slotsOf[it->second];
    return user->emitError("the GPU schedule does not know the memref operand "
                           "of '")
           << user->getName() << "'";
  }
  FailureOr<int64_t> memrefIndex(Value value, Operation *user) {
    auto it = memrefOf.find(value);
    if (it != memrefOf.end())
      return static_cast<int64_t>(it->second);
    return user->emitError("the GPU schedule does not know the memref operand "
                           "of '")
           << user->getName() << "'";
  }

  // --- Commands --------------------------------------------------------
  void command(Operation *op, StringRef kind, NamedAttrList fields) {
    fields.append("op", b.getStringAttr(kind));
    std::string node = nodeName(op->getLoc());
    if (!node.empty())
      fields.append("node", b.getStringAttr(node));
    commands.push_back(fields.getDictionary(b.getContext()));
  }

  /// The arguments of a launch or call: ["memref", index] or [kind, slot]
  /// with kind "i64" (index, i64, f64 bits), "i32" or "f32" (the slot's low
  /// 4 bytes).
  FailureOr<ArrayAttr> arguments(ValueRange values, Operation *op) {
    SmallVector<Attribute> args;
    for (Value arg : values) {
      Type type = arg.getType();
      FailureOr<int64_t> index;
      StringRef kind;
      if (isa<MemRefType>(type)) {
        kind = "memref";
        index = memrefIndex(arg, op);
      } else if (type.isIndex() || type.isInteger(64) || type.isInteger(32) ||
                 type.isF32() || type.isF64()) {
        kind = type.isF32() ? "f32" : type.isInteger(32) ? "i32" : "i64";
        index = slot(arg, op);
      } else {
        return op->emitError("the GPU schedule cannot pass an argument of "
                             "type ")
               << type;
      }
      if (failed(index))
        return failure();
      args.push_back(
          b.getArrayAttr({b.getStringAttr(kind), b.getI64IntegerAttr(*index)}));
    }
    return b.getArrayAttr(args);
  }

  LogicalResult visit(Operation *op);
  LogicalResult visitScalar(Operation *op);
  LogicalResult visitView(Operation *op);

  func::FuncOp func;
  Builder b;
  SmallVector<Attribute> scalars, memrefAttrs, commands;
  SmallVector<int64_t> results;
  DenseMap<Attribute, int64_t> slotOf;
  DenseMap<Value, int64_t> valueSlots;
  DenseMap<Value, size_t> memrefOf;
  SmallVector<MemrefSlots> slotsOf;
  DenseMap<Value, int64_t> allocOf;
  int64_t numAllocs = 0;
};

LogicalResult ScheduleBuilder::visitScalar(Operation *op) {
  Value result = op->getResult(0);
  if (auto c = dyn_cast<arith::ConstantOp>(op)) {
    // A float constant gets no slot: kernels hold their own, and a host use
    // of one is reported at the user.
    auto value = dyn_cast<IntegerAttr>(c.getValue());
    if (!value)
      return success();
    valueSlots[result] = constant(value.getValue().getSExtValue());
    return success();
  }
  SmallVector<int64_t> operands;
  std::string name;
  // Integer -> float conversions (a batch size as a divisor) give the
  // float's bit pattern, which only kernels read.
  if (isa<arith::SIToFPOp, arith::UIToFPOp>(op)) {
    Type type = op->getResult(0).getType();
    if (!type.isF32() && !type.isF64())
      return op->emitError("the GPU schedule converts to f32 or f64 only");
    name = (isa<arith::SIToFPOp>(op) ? "sitofp_" : "uitofp_") +
           std::string(type.isF32() ? "f32" : "f64");
  } else if (auto cmp = dyn_cast<arith::CmpIOp>(op))
    name = "cmpi_" + arith::stringifyCmpIPredicate(cmp.getPredicate()).str();
  else if (isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::ExtSIOp,
               arith::ExtUIOp, arith::TruncIOp>(op))
    name = "copy"; // every slot is an int64; no narrower types on the host
  else
    name = op->getName().stripDialect().str();
  for (Value operand : op->getOperands()) {
    auto s = slot(operand, op);
    if (failed(s))
      return failure();
    operands.push_back(*s);
  }
  valueSlots[result] = name == "copy" ? operands[0] : scalar(name, operands);
  return success();
}

LogicalResult ScheduleBuilder::visitView(Operation *op) {
  Value source = op->getOperand(0);
  auto srcOr = memref(source, op);
  if (failed(srcOr))
    return failure();
  MemrefSlots src = *srcOr, m = src;
  auto type = cast<MemRefType>(op->getResult(0).getType());
  m.dtype = dtypeName(type.getElementType());

  if (auto view = dyn_cast<memref::ViewOp>(op)) {
    auto shift = slot(view.getByteShift(), op);
    if (failed(shift))
      return failure();
    m.byteOffset = add(src.byteOffset, *shift);
    m.offset = constant(0);
    if (failed(setIdentityLayout(m, type, op->getOperands().drop_front(2), op)))
      return failure();
  } else if (isa<memref::CastOp>(op)) {
    applyStaticLayout(m, type);
  } else if (auto sub = dyn_cast<memref::SubViewOp>(op)) {
    llvm::SmallBitVector dropped = sub.getDroppedDims();
    int64_t offset = src.offset;
    m.sizes.clear();
    m.strides.clear();
    for (auto [d, off, size, step] :
         llvm::enumerate(sub.getMixedOffsets(), sub.getMixedSizes(),
                         sub.getMixedStrides())) {
      auto o = slot(off, op), s = slot(size, op), st = slot(step, op);
      if (failed(o) || failed(s) || failed(st))
        return failure();
      offset = add(offset, mul(*o, src.strides[d]));
      if (dropped.test(d))
        continue;
      m.sizes.push_back(*s);
      m.strides.push_back(mul(*st, src.strides[d]));
    }
    m.offset = offset;
    applyStaticLayout(m, type);
  } else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op)) {
    m.sizes.clear();
    m.strides.clear();
    for (ReassociationIndices group : collapse.getReassociationIndices()) {
      int64_t size = constant(1);
      for (int64_t d : group)
        size = mul(size, src.sizes[d]);
      m.sizes.push_back(size);
      m.strides.push_back(src.strides[group.back()]);
    }
    applyStaticLayout(m, type);
  } else if (auto expand = dyn_cast<memref::ExpandShapeOp>(op)) {
    m.sizes.clear();
    for (OpFoldResult size : expand.getMixedOutputShape()) {
      auto s = slot(size, op);
      if (failed(s))
        return failure();
      m.sizes.push_back(*s);
    }
    m.strides.assign(m.sizes.size(), 0);
    for (auto [srcDim, group] :
         llvm::enumerate(expand.getReassociationIndices())) {
      int64_t stride = src.strides[srcDim];
      for (int64_t d : llvm::reverse(group)) {
        m.strides[d] = stride;
        stride = mul(stride, m.sizes[d]);
      }
    }
    applyStaticLayout(m, type);
  } else if (auto transpose = dyn_cast<memref::TransposeOp>(op)) {
    // Result dim i is source dim perm(i).
    AffineMap perm = transpose.getPermutation();
    m.sizes.clear();
    m.strides.clear();
    for (AffineExpr expr : perm.getResults()) {
      unsigned d = cast<AffineDimExpr>(expr).getPosition();
      m.sizes.push_back(src.sizes[d]);
      m.strides.push_back(src.strides[d]);
    }
  } else if (auto reinterpret = dyn_cast<memref::ReinterpretCastOp>(op)) {
    m.sizes.clear();
    m.strides.clear();
    auto off = slot(reinterpret.getMixedOffsets()[0], op);
    if (failed(off))
      return failure();
    m.offset = *off;
    for (auto [size, stride] : llvm::zip(reinterpret.getMixedSizes(),
                                         reinterpret.getMixedStrides())) {
      auto s = slot(size, op), st = slot(stride, op);
      if (failed(s) || failed(st))
        return failure();
      m.sizes.push_back(*s);
      m.strides.push_back(*st);
    }
  } else {
    return op->emitError("the GPU schedule cannot express '")
           << op->getName() << "'";
  }
  return define(op->getResult(0), std::move(m), op->getLoc());
}

LogicalResult ScheduleBuilder::visit(Operation *op) {
  if (isa<arith::ArithDialect>(op->getDialect()) && op->getNumResults() == 1 &&
      (op->getResult(0).getType().isIntOrIndex() ||
       isa<arith::ConstantOp, arith::SIToFPOp, arith::UIToFPOp>(op)))
    return visitScalar(op);

  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    auto m = memref(dim.getSource(), op);
    std::optional<int64_t> index = dim.getConstantIndex();
    if (failed(m))
      return failure();
    if (!index)
      return op->emitError("the GPU schedule needs a constant dim index");
    valueSlots[dim.getResult()] = m->sizes[*index];
    return success();
  }

  if (isa<memref::AllocOp, memref::AllocaOp>(op)) {
    auto type = cast<MemRefType>(op->getResult(0).getType());
    if (!type.getLayout().isIdentity())
      return op->emitError("the GPU schedule allocates identity layouts only");
    MemrefSlots m;
    m.base = "alloc";
    m.index = numAllocs++;
    m.byteOffset = m.offset = constant(0);
    if (failed(setIdentityLayout(m, type, op->getOperands(), op)))
      return failure();
    int64_t bytes = constant(storageBytes(type.getElementType()));
    for (int64_t size : m.sizes)
      bytes = mul(bytes, size);
    allocOf[op->getResult(0)] = m.index;
    NamedAttrList fields;
    fields.append("alloc", b.getI64IntegerAttr(m.index));
    fields.append("bytes", b.getI64IntegerAttr(bytes));
    command(op, "alloc", fields);
    return define(op->getResult(0), std::move(m), op->getLoc());
  }

  if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
    auto it = allocOf.find(dealloc.getMemref());
    if (it == allocOf.end())
      return op->emitError("the GPU schedule frees only its own allocations");
    NamedAttrList fields;
    fields.append("alloc", b.getI64IntegerAttr(it->second));
    command(op, "free", fields);
    return success();
  }

  if (isa<memref::ViewOp, memref::CastOp, memref::SubViewOp,
          memref::CollapseShapeOp, memref::ExpandShapeOp,
          memref::ReinterpretCastOp, memref::TransposeOp>(op))
    return visitView(op);

  if (auto copy = dyn_cast<memref::CopyOp>(op)) {
    auto src = memrefIndex(copy.getSource(), op);
    auto dst = memrefIndex(copy.getTarget(), op);
    if (failed(src) || failed(dst))
      return failure();
    NamedAttrList fields;
    fields.append("src", b.getI64IntegerAttr(*src));
    fields.append("dst", b.getI64IntegerAttr(*dst));
    command(op, "copy", fields);
    return success();
  }

  if (auto launch = dyn_cast<gpu::LaunchFuncOp>(op)) {
    if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty())
      return op->emitError("the GPU schedule orders launches itself; async "
                           "tokens are not expected");
    if (launch.hasClusterSize())
      return op->emitError("the GPU schedule has no thread-block clusters");
    auto dims = [&](gpu::KernelDim3 d) -> FailureOr<ArrayAttr> {
      SmallVector<int64_t> slots;
      for (Value v : {d.x, d.y, d.z}) {
        auto s = slot(v, op);
        if (failed(s))
          return failure();
        slots.push_back(*s);
      }
      return b.getI64ArrayAttr(slots);
    };
    auto grid = dims(launch.getGridSizeOperandValues());
    auto block = dims(launch.getBlockSizeOperandValues());
    if (failed(grid) || failed(block))
      return failure();
    int64_t shared = constant(0);
    if (Value dynamic = launch.getDynamicSharedMemorySize()) {
      auto s = slot(dynamic, op);
      if (failed(s))
        return failure();
      shared = *s;
    }
    auto args = arguments(launch.getKernelOperands(), op);
    if (failed(args))
      return failure();
    NamedAttrList fields;
    fields.append("kernel", launch.getKernel());
    fields.append("grid", *grid);
    fields.append("block", *block);
    fields.append("shared", b.getI64IntegerAttr(shared));
    fields.append("args", *args);
    command(op, "launch", fields);
    return success();
  }

  if (auto ret = dyn_cast<func::ReturnOp>(op)) {
    for (Value value : ret.getOperands()) {
      auto index = memrefIndex(value, op);
      if (failed(index))
        return failure();
      results.push_back(*index);
    }
    return success();
  }

  if (auto call = dyn_cast<func::CallOp>(op)) {
    StringRef callee = call.getCallee();
    if (!callee.consume_front(kGpuLibraryPrefix))
      return op->emitError("the GPU target cannot call '")
             << call.getCallee() << "' yet (collectives on the GPU: issue #12)";
    auto args = arguments(call.getOperands(), op);
    if (failed(args))
      return failure();
    NamedAttrList fields;
    fields.append("routine", b.getStringAttr(callee));
    fields.append("args", *args);
    command(op, "call", fields);
    return success();
  }
  return op->emitError("the GPU schedule cannot run '") << op->getName()
                                                        << "' on the host";
}

struct GpuBuildSchedulePass
    : impl::GpuBuildScheduleBase<GpuBuildSchedulePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> hosts;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isDeclaration())
        hosts.push_back(func);
    NamedAttrList schedules;
    for (func::FuncOp func : hosts) {
      FailureOr<DictionaryAttr> schedule = ScheduleBuilder(func).build();
      if (failed(schedule))
        return signalPassFailure();
      schedules.append(func.getSymName(), *schedule);
    }
    module->setAttr(kGpuSchedulesAttr,
                    schedules.getDictionary(module.getContext()));
    // The host code now lives in the schedules; declarations (of runtime
    // calls) go with it.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      func.erase();
  }
};

} // namespace
} // namespace vitc
