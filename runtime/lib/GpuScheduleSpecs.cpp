//===- GpuScheduleSpecs.cpp - read and check a function's GPU schedule ----===//
//
// Every index a schedule holds (slots, memrefs, allocations, kernels,
// arguments) is checked here, once, so that executing it never needs to.
//
//===----------------------------------------------------------------------===//
#include "ManifestSpecs.h"

#include <map>

namespace vitc::rt {
namespace {

using Op = GpuScalar::Op;

const std::map<std::string, Op> kScalarOps = {
    {"const", Op::Const},         {"dim", Op::Dim},
    {"addi", Op::Add},            {"subi", Op::Sub},
    {"muli", Op::Mul},            {"divsi", Op::DivS},
    {"divui", Op::DivU},          {"remsi", Op::RemS},
    {"remui", Op::RemU},          {"ceildivsi", Op::CeilDivS},
    {"floordivsi", Op::FloorDivS}, {"andi", Op::And},
    {"ori", Op::Or},              {"xori", Op::Xor},
    {"shli", Op::Shl},            {"shrsi", Op::ShrS},
    {"shrui", Op::ShrU},          {"maxsi", Op::MaxS},
    {"minsi", Op::MinS},          {"maxui", Op::MaxU},
    {"minui", Op::MinU},          {"select", Op::Select},
    {"cmpi_eq", Op::CmpEq},       {"cmpi_ne", Op::CmpNe},
    {"cmpi_slt", Op::CmpSlt},     {"cmpi_sle", Op::CmpSle},
    {"cmpi_sgt", Op::CmpSgt},     {"cmpi_sge", Op::CmpSge},
    {"cmpi_ult", Op::CmpUlt},     {"cmpi_ule", Op::CmpUle},
    {"cmpi_ugt", Op::CmpUgt},     {"cmpi_uge", Op::CmpUge},
    {"sitofp_f32", Op::SIToF32},  {"uitofp_f32", Op::UIToF32},
    {"sitofp_f64", Op::SIToF64},  {"uitofp_f64", Op::UIToF64},
};

} // namespace

std::string gpuScalarOpName(GpuScalar::Op op) {
  for (const auto &[name, value] : kScalarOps)
    if (value == op)
      return name;
  return "?";
}

namespace {

size_t operandCount(Op op) {
  switch (op) {
  case Op::Const:
  case Op::SIToF32:
  case Op::UIToF32:
  case Op::SIToF64:
  case Op::UIToF64:
    return 1;
  case Op::Select:
    return 3;
  default:
    return 2;
  }
}

class ScheduleReader {
public:
  ScheduleReader(const std::string &where, size_t numArguments,
                 size_t numKernels)
      : where(where), numArguments(numArguments), numKernels(numKernels) {}

  Status read(const artifact::GpuSchedule &message, size_t numOutputs,
              GpuScheduleSpec &spec) {
    for (const artifact::GpuScalar &scalar : message.scalars()) {
      auto op = kScalarOps.find(scalar.op());
      if (op == kScalarOps.end())
        return error("unknown scalar op '" + scalar.op() + "'");
      GpuScalar parsed{op->second, {}};
      size_t count = op->second == Op::Dim ? 2 : operandCount(op->second);
      if (static_cast<size_t>(scalar.operands_size()) != count)
        return error("scalar op '" + scalar.op() + "' takes " +
                     std::to_string(count) + " operand(s)");
      for (size_t i = 0; i < count; ++i) {
        int64_t operand = scalar.operands(static_cast<int>(i));
        bool isSlot = op->second != Op::Const && op->second != Op::Dim;
        if (isSlot && !earlierSlot(operand, spec.scalars.size()))
          return error("scalar #" + std::to_string(spec.scalars.size()) +
                       " reads slot " + std::to_string(operand));
        parsed.operands[i] = operand;
      }
      if (op->second == Op::Dim &&
          (parsed.operands[0] < 0 ||
           static_cast<size_t>(parsed.operands[0]) >= numArguments ||
           parsed.operands[1] < 0))
        return error("a 'dim' of no argument");
      spec.scalars.push_back(parsed);
    }
    numSlots = spec.scalars.size();

    for (const artifact::GpuMemref &memref : message.memrefs()) {
      GpuMemref parsed;
      if (memref.base() == "weights")
        parsed.base = GpuMemref::Base::Weights;
      else if (memref.base() == "input")
        parsed.base = GpuMemref::Base::Input;
      else if (memref.base() == "alloc")
        parsed.base = GpuMemref::Base::Alloc;
      else
        return error("memref base '" + memref.base() + "'");
      parsed.index = memref.index();
      std::optional<DType> dtype = parseDType(memref.dtype());
      if (!dtype)
        return error("memref dtype '" + memref.dtype() + "'");
      parsed.dtype = *dtype;
      parsed.byteOffset = memref.byte_offset();
      parsed.offset = memref.offset();
      parsed.sizes.assign(memref.sizes().begin(), memref.sizes().end());
      parsed.strides.assign(memref.strides().begin(), memref.strides().end());
      bool slotsOk = slot(parsed.byteOffset) && slot(parsed.offset) &&
                     parsed.sizes.size() == parsed.strides.size();
      for (int64_t s : parsed.sizes)
        slotsOk &= slot(s);
      for (int64_t s : parsed.strides)
        slotsOk &= slot(s);
      if (!slotsOk)
        return error("memref #" + std::to_string(spec.memrefs.size()) +
                     " has invalid slots");
      if (parsed.base == GpuMemref::Base::Input &&
          (parsed.index < 1 || static_cast<size_t>(parsed.index) >= numArguments))
        return error("memref of no input");
      if (parsed.base == GpuMemref::Base::Alloc && parsed.index < 0)
        return error("memref of no allocation");
      if (parsed.base == GpuMemref::Base::Alloc)
        spec.numAllocs = std::max(spec.numAllocs, parsed.index + 1);
      spec.memrefs.push_back(std::move(parsed));
    }

    for (const artifact::GpuCommand &command : message.commands()) {
      GpuCommand parsed;
      parsed.node = command.node();
      std::string what = "command #" + std::to_string(spec.commands.size()) +
                         " ('" + command.op() + "')";
      bool ok = true;
      if (command.op() == "alloc" || command.op() == "free") {
        parsed.op = command.op() == "alloc" ? GpuCommand::Op::Alloc
                                            : GpuCommand::Op::Free;
        parsed.alloc = command.alloc();
        parsed.bytes = command.bytes();
        ok = parsed.alloc >= 0 && parsed.alloc < spec.numAllocs &&
             (parsed.op == GpuCommand::Op::Free || slot(parsed.bytes));
      } else if (command.op() == "launch" || command.op() == "call") {
        if (command.op() == "launch") {
          parsed.op = GpuCommand::Op::Launch;
          parsed.kernel = command.kernel();
          parsed.shared = command.shared();
          ok = parsed.kernel >= 0 &&
               static_cast<size_t>(parsed.kernel) < numKernels &&
               command.grid_size() == 3 && command.block_size() == 3 &&
               slot(parsed.shared);
          for (int i = 0; ok && i < 3; ++i) {
            parsed.grid[i] = command.grid(i);
            parsed.block[i] = command.block(i);
            ok = slot(parsed.grid[i]) && slot(parsed.block[i]);
          }
        } else {
          parsed.op = GpuCommand::Op::Call;
          parsed.routine = command.routine();
          ok = !parsed.routine.empty();
        }
        for (const artifact::GpuArgument &arg : command.args()) {
          GpuArgument argument;
          argument.value = arg.value();
          if (arg.kind() == "memref") {
            argument.kind = GpuArgument::Kind::Memref;
            ok &= memrefIndex(argument.value, spec);
          } else if (arg.kind() == "i64" || arg.kind() == "i32" ||
                     arg.kind() == "f32") {
            argument.kind = arg.kind() == "i64"   ? GpuArgument::Kind::I64
                            : arg.kind() == "i32" ? GpuArgument::Kind::I32
                                                  : GpuArgument::Kind::F32;
            ok &= slot(argument.value);
          } else {
            ok = false;
          }
          parsed.args.push_back(argument);
        }
      } else if (command.op() == "copy") {
        parsed.op = GpuCommand::Op::Copy;
        parsed.src = command.src();
        parsed.dst = command.dst();
        ok = memrefIndex(parsed.src, spec) && memrefIndex(parsed.dst, spec);
      } else {
        return error("unknown " + what);
      }
      if (!ok)
        return error(what + " has an invalid index");
      spec.commands.push_back(std::move(parsed));
    }

    spec.results.assign(message.results().begin(), message.results().end());
    if (spec.results.size() != numOutputs)
      return error("returns " + std::to_string(spec.results.size()) +
                   " memref(s) for " + std::to_string(numOutputs) +
                   " output(s)");
    for (int64_t result : spec.results)
      if (!memrefIndex(result, spec))
        return error("returns no memref");
    return Status::ok();
  }

private:
  Status error(const std::string &message) const {
    return Status::error(where + "GPU schedule: " + message);
  }
  static bool earlierSlot(int64_t s, size_t count) {
    return s >= 0 && static_cast<size_t>(s) < count;
  }
  bool slot(int64_t s) const { return earlierSlot(s, numSlots); }
  static bool memrefIndex(int64_t m, const GpuScheduleSpec &spec) {
    return m >= 0 && static_cast<size_t>(m) < spec.memrefs.size();
  }

  std::string where;
  size_t numArguments, numKernels, numSlots = 0;
};

} // namespace

Status readGpuSchedule(const artifact::Function &message, size_t numKernels,
                       const std::string &where, FunctionSpec &function) {
  if (!message.has_schedule())
    return Status::error(where + "no GPU schedule");
  // Argument 0 is the weights; input i is argument i + 1.
  ScheduleReader reader(where, function.inputs.size() + 1, numKernels);
  return reader.read(message.schedule(), function.outputs.size(),
                     function.schedule);
}

} // namespace vitc::rt
