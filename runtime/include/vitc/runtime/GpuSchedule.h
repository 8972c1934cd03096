//===- GpuSchedule.h - a GPU function's schedule, as loaded ------*- C++ -*-===//
//
// The host side of a function of a GPU artifact ("cuda", "cuda-emulator"),
// recorded by the compiler as data (artifact.proto, GpuSchedule): a scalar
// program evaluated once per set of input shapes, the memrefs the commands
// use, and the commands. The loader checks every index when it reads the
// manifest, so executing a schedule never reads out of bounds.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_GPUSCHEDULE_H
#define VITC_RUNTIME_GPUSCHEDULE_H

#include "vitc/runtime/DType.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vitc::rt {

/// One op of the scalar program; its operands are earlier slots, except
/// for Const (operands[0] is the value) and Dim (argument, dim).
struct GpuScalar {
  enum class Op {
    Const, Dim, Add, Sub, Mul, DivS, DivU, RemS, RemU, CeilDivS, FloorDivS,
    And, Or, Xor, Shl, ShrS, ShrU, MaxS, MinS, MaxU, MinU, Select,
    CmpEq, CmpNe, CmpSlt, CmpSle, CmpSgt, CmpSge, CmpUlt, CmpUle, CmpUgt,
    CmpUge,
    // Integer -> float, the result's bits in the slot (f32: low 4 bytes).
    SIToF32, UIToF32, SIToF64, UIToF64,
  };
  Op op;
  std::array<int64_t, 3> operands{};
};

/// A memref descriptor in slots: the base pointer of `base` (#index) plus
/// the byte offset, then offset, sizes and strides in elements.
struct GpuMemref {
  enum class Base { Weights, Input, Alloc };
  Base base;
  /// Input: the argument (1 = the first input); Alloc: the allocation.
  int64_t index = 0;
  DType dtype;
  int64_t byteOffset = 0, offset = 0;
  std::vector<int64_t> sizes, strides;
};

struct GpuArgument {
  /// I32 and F32 pass the low 4 bytes of their slot.
  enum class Kind { Memref, I64, I32, F32 };
  Kind kind;
  /// A memref index, or the slot of a scalar.
  int64_t value = 0;
};

struct GpuCommand {
  enum class Op { Alloc, Free, Launch, Copy, Call };
  Op op;
  /// The ONNX node the command came from ("" if unknown), for errors.
  std::string node;
  int64_t alloc = 0, bytes = 0;
  int32_t kernel = 0;
  std::array<int64_t, 3> grid{}, block{};
  int64_t shared = 0;
  std::vector<GpuArgument> args;
  int64_t src = 0, dst = 0;
  /// Call: the library routine (its operands are `args`).
  std::string routine;
};

struct GpuScheduleSpec {
  std::vector<GpuScalar> scalars;
  std::vector<GpuMemref> memrefs;
  std::vector<GpuCommand> commands;
  /// Memref index of each output.
  std::vector<int64_t> results;
  int64_t numAllocs = 0;
};

/// A kernel the schedules launch: `name` in GPU module `module`.
struct GpuKernelSpec {
  std::string module, name;
};

} // namespace vitc::rt

#endif // VITC_RUNTIME_GPUSCHEDULE_H
