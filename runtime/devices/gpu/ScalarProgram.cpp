//===- ScalarProgram.cpp - evaluate a schedule's scalars ------------------===//
#include "ScalarProgram.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace vitc::rt {
namespace {

using Op = GpuScalar::Op;

/// MLIR's floordivsi / ceildivsi: rounding towards -inf / +inf.
int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t ceilDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) == (b < 0))) ? q + 1 : q;
}

/// The bits of the float `op` converts `a` to (f32: in the low 4 bytes).
int64_t floatBits(Op op, int64_t a) {
  auto u = static_cast<uint64_t>(a);
  int64_t bits = 0;
  if (op == Op::SIToF32 || op == Op::UIToF32) {
    float f = op == Op::SIToF32 ? static_cast<float>(a) : static_cast<float>(u);
    uint32_t word;
    std::memcpy(&word, &f, sizeof(word));
    bits = word;
  } else {
    double d = op == Op::SIToF64 ? static_cast<double>(a) : static_cast<double>(u);
    std::memcpy(&bits, &d, sizeof(bits));
  }
  return bits;
}

} // namespace

StatusOr<std::vector<int64_t>>
evaluateScalars(const GpuScheduleSpec &schedule,
                const std::vector<std::vector<int64_t>> &shapes) {
  std::vector<int64_t> v(schedule.scalars.size());
  for (size_t i = 0; i < schedule.scalars.size(); ++i) {
    const GpuScalar &s = schedule.scalars[i];
    if (s.op == Op::Const) {
      v[i] = s.operands[0];
      continue;
    }
    if (s.op == Op::Dim) {
      size_t argument = static_cast<size_t>(s.operands[0]);
      size_t dim = static_cast<size_t>(s.operands[1]);
      if (argument >= shapes.size() || dim >= shapes[argument].size())
        return Status::error("GPU schedule: dim " + std::to_string(dim) +
                             " of argument " + std::to_string(argument) +
                             ", which has no such dim");
      v[i] = shapes[argument][dim];
      continue;
    }
    if (s.op == Op::SIToF32 || s.op == Op::UIToF32 || s.op == Op::SIToF64 ||
        s.op == Op::UIToF64) {
      v[i] = floatBits(s.op, v[s.operands[0]]);
      continue;
    }
    int64_t a = v[s.operands[0]], b = v[s.operands[1]];
    auto ua = static_cast<uint64_t>(a), ub = static_cast<uint64_t>(b);
    bool divides = s.op == Op::DivS || s.op == Op::DivU || s.op == Op::RemS ||
                   s.op == Op::RemU || s.op == Op::CeilDivS ||
                   s.op == Op::FloorDivS;
    if (divides && b == 0)
      return Status::error("GPU schedule: division by zero in scalar #" +
                           std::to_string(i));
    bool shifts = s.op == Op::Shl || s.op == Op::ShrS || s.op == Op::ShrU;
    if (shifts && (b < 0 || b >= 64))
      return Status::error("GPU schedule: shift by " + std::to_string(b) +
                           " in scalar #" + std::to_string(i));
    switch (s.op) {
    case Op::Add: v[i] = static_cast<int64_t>(ua + ub); break;
    case Op::Sub: v[i] = static_cast<int64_t>(ua - ub); break;
    case Op::Mul: v[i] = static_cast<int64_t>(ua * ub); break;
    case Op::DivS: v[i] = a / b; break;
    case Op::DivU: v[i] = static_cast<int64_t>(ua / ub); break;
    case Op::RemS: v[i] = a % b; break;
    case Op::RemU: v[i] = static_cast<int64_t>(ua % ub); break;
    case Op::CeilDivS: v[i] = ceilDiv(a, b); break;
    case Op::FloorDivS: v[i] = floorDiv(a, b); break;
    case Op::And: v[i] = a & b; break;
    case Op::Or: v[i] = a | b; break;
    case Op::Xor: v[i] = a ^ b; break;
    case Op::Shl: v[i] = static_cast<int64_t>(ua << b); break;
    case Op::ShrS: v[i] = a >> b; break;
    case Op::ShrU: v[i] = static_cast<int64_t>(ua >> b); break;
    case Op::MaxS: v[i] = std::max(a, b); break;
    case Op::MinS: v[i] = std::min(a, b); break;
    case Op::MaxU: v[i] = static_cast<int64_t>(std::max(ua, ub)); break;
    case Op::MinU: v[i] = static_cast<int64_t>(std::min(ua, ub)); break;
    case Op::Select: v[i] = a ? b : v[s.operands[2]]; break;
    case Op::CmpEq: v[i] = a == b; break;
    case Op::CmpNe: v[i] = a != b; break;
    case Op::CmpSlt: v[i] = a < b; break;
    case Op::CmpSle: v[i] = a <= b; break;
    case Op::CmpSgt: v[i] = a > b; break;
    case Op::CmpSge: v[i] = a >= b; break;
    case Op::CmpUlt: v[i] = ua < ub; break;
    case Op::CmpUle: v[i] = ua <= ub; break;
    case Op::CmpUgt: v[i] = ua > ub; break;
    case Op::CmpUge: v[i] = ua >= ub; break;
    default:
      break;
    }
  }
  return v;
}

} // namespace vitc::rt
