//===- GpuSchedulePrinter.cpp - a GPU schedule as text --------------------===//
//
// `vitc-run MODEL.vtc --show-schedule`: the scalar program as SSA-like lines
// (constants inline), then the commands with their memrefs spelled out, so
// tests and people can read what the runtime will run.
//
//===----------------------------------------------------------------------===//
#include "ManifestSpecs.h"

#include <algorithm>


namespace vitc::rt {
namespace {

using Op = GpuScalar::Op;

/// The manifest's op name, spelt with spaces: "cmpi sle", "sitofp f32".
std::string opName(Op op) {
  std::string name = gpuScalarOpName(op);
  std::replace(name.begin(), name.end(), '_', ' ');
  return name;
}

class Printer {
public:
  Printer(const Artifact &artifact, const FunctionSpec &function)
      : artifact(artifact), function(function),
        schedule(function.schedule) {}

  std::string print() {
    out += "schedule " + function.name + "\n";
    for (size_t i = 0; i < schedule.scalars.size(); ++i) {
      const GpuScalar &s = schedule.scalars[i];
      if (s.op == Op::Const)
        continue; // printed where used
      out += "  %" + std::to_string(i) + " = ";
      if (s.op == Op::Dim) {
        out += "dim " + argument(s.operands[0]) + " " +
               std::to_string(s.operands[1]) + "\n";
        continue;
      }
      out += opName(s.op) + " " + slot(s.operands[0]);
      if (s.op == Op::SIToF32 || s.op == Op::UIToF32 || s.op == Op::SIToF64 ||
          s.op == Op::UIToF64) {
        out += "\n";
        continue;
      }
      out += ", " + slot(s.operands[1]);
      if (s.op == Op::Select)
        out += ", " + slot(s.operands[2]);
      out += "\n";
    }
    for (const GpuCommand &c : schedule.commands) {
      out += "  ";
      switch (c.op) {
      case GpuCommand::Op::Alloc:
        out += "alloc #" + std::to_string(c.alloc) + " " + slot(c.bytes) +
               " bytes";
        break;
      case GpuCommand::Op::Free:
        out += "free #" + std::to_string(c.alloc);
        break;
      case GpuCommand::Op::Copy:
        out += "copy " + memref(c.src) + " -> " + memref(c.dst);
        break;
      case GpuCommand::Op::Call:
      case GpuCommand::Op::Launch: {
        if (c.op == GpuCommand::Op::Call) {
          out += "call " + c.routine;
        } else {
          const GpuKernelSpec &k = artifact.kernels()[c.kernel];
          out += "launch " + k.module + "." + k.name + " grid " +
                 triple(c.grid) + " block " + triple(c.block);
          if (schedule.scalars[c.shared].op != Op::Const ||
              schedule.scalars[c.shared].operands[0] != 0)
            out += " shared " + slot(c.shared);
        }
        out += " args(";
        for (size_t i = 0; i < c.args.size(); ++i) {
          const GpuArgument &a = c.args[i];
          out += i ? ", " : "";
          out += a.kind == GpuArgument::Kind::Memref ? memref(a.value)
                 : a.kind == GpuArgument::Kind::I32  ? "i32 " + slot(a.value)
                 : a.kind == GpuArgument::Kind::F32  ? "f32 " + slot(a.value)
                                                     : slot(a.value);
        }
        out += ")";
        break;
      }
      }
      if (!c.node.empty())
        out += "  // " + c.node;
      out += "\n";
    }
    out += "  return";
    for (size_t r = 0; r < schedule.results.size(); ++r)
      out += (r ? ", " : " ") + memref(schedule.results[r]);
    out += "\n";
    return out;
  }

private:
  std::string slot(int64_t s) const {
    const GpuScalar &scalar = schedule.scalars[s];
    return scalar.op == Op::Const ? std::to_string(scalar.operands[0])
                                  : "%" + std::to_string(s);
  }
  std::string argument(int64_t a) const {
    return a == 0 ? "weights" : "'" + function.inputs[a - 1].name + "'";
  }
  std::string triple(const std::array<int64_t, 3> &v) const {
    return "(" + slot(v[0]) + ", " + slot(v[1]) + ", " + slot(v[2]) + ")";
  }
  /// `alloc#0+%5 f32[%3, 17, 128]`: base, byte offset, dtype and sizes;
  /// the element offset and strides follow unless they are 0 and visibly
  /// row-major.
  std::string memref(int64_t index) const {
    const GpuMemref &m = schedule.memrefs[index];
    std::string text =
        m.base == GpuMemref::Base::Alloc
            ? "alloc#" + std::to_string(m.index)
            : argument(m.base == GpuMemref::Base::Weights ? 0 : m.index);
    if (!isZero(m.byteOffset))
      text += "+" + slot(m.byteOffset);
    text += " " + std::string(dtypeName(m.dtype)) + "[";
    for (size_t d = 0; d < m.sizes.size(); ++d)
      text += (d ? ", " : "") + slot(m.sizes[d]);
    text += "]";
    if (!isZero(m.offset) || !rowMajor(m)) {
      text += " offset " + slot(m.offset) + " strides [";
      for (size_t d = 0; d < m.strides.size(); ++d)
        text += (d ? ", " : "") + slot(m.strides[d]);
      text += "]";
    }
    return text;
  }
  bool isZero(int64_t s) const {
    return schedule.scalars[s].op == Op::Const &&
           schedule.scalars[s].operands[0] == 0;
  }
  /// Whether the strides are constants and the row-major ones of the sizes
  /// (only the outermost size may be dynamic).
  bool rowMajor(const GpuMemref &m) const {
    int64_t expected = 1;
    for (size_t d = m.sizes.size(); d-- > 0;) {
      const GpuScalar &stride = schedule.scalars[m.strides[d]];
      const GpuScalar &size = schedule.scalars[m.sizes[d]];
      if (stride.op != Op::Const || stride.operands[0] != expected)
        return false;
      if (size.op != Op::Const)
        return d == 0;
      expected *= size.operands[0];
    }
    return true;
  }

  const Artifact &artifact;
  const FunctionSpec &function;
  const GpuScheduleSpec &schedule;
  std::string out;
};

} // namespace

std::string describeGpuSchedule(const Artifact &artifact, size_t function) {
  return Printer(artifact, artifact.functions()[function]).print();
}

} // namespace vitc::rt
