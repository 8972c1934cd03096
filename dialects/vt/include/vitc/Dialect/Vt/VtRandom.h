//===- VtRandom.h - vt.random_uniform's counter-based hash ------*- C++ -*-===//
//
// vt.random_uniform's values are a pure function of (seed, stream, linear
// element index), so they do not depend on loop order, tiling or threads,
// and the CPU and GPU lowerings produce the same bits:
//
//   key     = mix64(mix64(seed) ^ stream)
//   bits(i) = mix64(key + (i + 1) * kGamma)   // SplitMix64's i-th output
//   u(i)    = (bits(i) >> 40) * 2^-24         // 24 bits: exact in f32, < 1
//
// mix64 is SplitMix64's finaliser (Stafford's "Mix13"), a bijection on 64
// bits. Different streams of one seed are different SplitMix64 sequences;
// overlapping windows would need their keys to differ by a multiple of
// kGamma below the element count (probability ~ count / 2^64).
//
// This file is the reference: the constant folder evaluates it, the linalg
// lowering emits the same arithmetic as arith ops
// (VtToLinalgElementwise.cpp), and the exec test checks both against a numpy
// copy (tests/lit/exec/Inputs/random_uniform_exec.py).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DIALECT_VT_VTRANDOM_H
#define VITC_DIALECT_VT_VTRANDOM_H

#include <cstdint>

namespace vitc::vt::random {

/// SplitMix64's increment (2^64 / golden ratio, odd).
constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;
/// mix64's multipliers and shifts: z = (z ^ z >> 30) * kMul1;
/// z = (z ^ z >> 27) * kMul2; z ^= z >> 31.
constexpr uint64_t kMul1 = 0xBF58476D1CE4E5B9ull;
constexpr uint64_t kMul2 = 0x94D049BB133111EBull;
constexpr unsigned kShift1 = 30, kShift2 = 27, kShift3 = 31;
/// The random bits kept, as many as f32's mantissa holds:
/// u = (bits >> (64 - kMantissaBits)) * 2^-kMantissaBits.
constexpr unsigned kMantissaBits = 24;

constexpr uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> kShift1)) * kMul1;
  z = (z ^ (z >> kShift2)) * kMul2;
  return z ^ (z >> kShift3);
}

/// The SplitMix64 state of stream `stream` of `seed`.
constexpr uint64_t streamKey(int64_t seed, int64_t stream) {
  return mix64(mix64((uint64_t)seed) ^ (uint64_t)stream);
}

/// Element `index` of the stream in [0, 1).
inline float uniform(uint64_t key, int64_t index) {
  uint64_t bits = mix64(key + ((uint64_t)index + 1) * kGamma);
  return (float)(bits >> (64 - kMantissaBits)) *
         (1.0f / (float)(1ull << kMantissaBits));
}

} // namespace vitc::vt::random

#endif // VITC_DIALECT_VT_VTRANDOM_H
