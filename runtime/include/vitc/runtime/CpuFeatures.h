//===- CpuFeatures.h - instruction-set features the runtime can check -----===//
//
// The compiler records which of these features (LLVM names) the code of an
// artifact may use; the runtime checks each against the host with CPUID
// before loading the code, so an artifact built for a newer CPU fails with a
// message instead of SIGILL.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_CPUFEATURES_H
#define VITC_RUNTIME_CPUFEATURES_H

#include <cstdint>

namespace vitc::cpu {

/// Register state the operating system must save for a feature to be usable
/// (XCR0 bits).
enum class OsState : uint8_t { None, Avx, Avx512, Amx };
enum class Reg : uint8_t { Eax, Ebx, Ecx, Edx };

struct X86Feature {
  const char *name; // LLVM feature name
  uint32_t leaf, subleaf;
  Reg reg;
  uint8_t bit;
  OsState state;
};

inline constexpr X86Feature kX86Features[] = {
    {"sse", 1, 0, Reg::Edx, 25, OsState::None},
    {"sse2", 1, 0, Reg::Edx, 26, OsState::None},
    {"sse3", 1, 0, Reg::Ecx, 0, OsState::None},
    {"pclmul", 1, 0, Reg::Ecx, 1, OsState::None},
    {"ssse3", 1, 0, Reg::Ecx, 9, OsState::None},
    {"fma", 1, 0, Reg::Ecx, 12, OsState::Avx},
    {"cx16", 1, 0, Reg::Ecx, 13, OsState::None},
    {"sse4.1", 1, 0, Reg::Ecx, 19, OsState::None},
    {"sse4.2", 1, 0, Reg::Ecx, 20, OsState::None},
    {"movbe", 1, 0, Reg::Ecx, 22, OsState::None},
    {"popcnt", 1, 0, Reg::Ecx, 23, OsState::None},
    {"aes", 1, 0, Reg::Ecx, 25, OsState::None},
    {"avx", 1, 0, Reg::Ecx, 28, OsState::Avx},
    {"f16c", 1, 0, Reg::Ecx, 29, OsState::Avx},
    {"bmi", 7, 0, Reg::Ebx, 3, OsState::None},
    {"avx2", 7, 0, Reg::Ebx, 5, OsState::Avx},
    {"bmi2", 7, 0, Reg::Ebx, 8, OsState::None},
    {"avx512f", 7, 0, Reg::Ebx, 16, OsState::Avx512},
    {"avx512dq", 7, 0, Reg::Ebx, 17, OsState::Avx512},
    {"adx", 7, 0, Reg::Ebx, 19, OsState::None},
    {"avx512ifma", 7, 0, Reg::Ebx, 21, OsState::Avx512},
    {"avx512cd", 7, 0, Reg::Ebx, 28, OsState::Avx512},
    {"sha", 7, 0, Reg::Ebx, 29, OsState::None},
    {"avx512bw", 7, 0, Reg::Ebx, 30, OsState::Avx512},
    {"avx512vl", 7, 0, Reg::Ebx, 31, OsState::Avx512},
    {"avx512vbmi", 7, 0, Reg::Ecx, 1, OsState::Avx512},
    {"avx512vbmi2", 7, 0, Reg::Ecx, 6, OsState::Avx512},
    {"gfni", 7, 0, Reg::Ecx, 8, OsState::None},
    {"vaes", 7, 0, Reg::Ecx, 9, OsState::Avx},
    {"vpclmulqdq", 7, 0, Reg::Ecx, 10, OsState::Avx},
    {"avx512vnni", 7, 0, Reg::Ecx, 11, OsState::Avx512},
    {"avx512bitalg", 7, 0, Reg::Ecx, 12, OsState::Avx512},
    {"avx512vpopcntdq", 7, 0, Reg::Ecx, 14, OsState::Avx512},
    {"amx-bf16", 7, 0, Reg::Edx, 22, OsState::Amx},
    {"avx512fp16", 7, 0, Reg::Edx, 23, OsState::Avx512},
    {"amx-tile", 7, 0, Reg::Edx, 24, OsState::Amx},
    {"amx-int8", 7, 0, Reg::Edx, 25, OsState::Amx},
    {"avxvnni", 7, 1, Reg::Eax, 4, OsState::Avx},
    {"avx512bf16", 7, 1, Reg::Eax, 5, OsState::Avx512},
    {"lzcnt", 0x80000001, 0, Reg::Ecx, 5, OsState::None},
};

/// True if the host CPU and OS support the feature named `name` (LLVM name).
/// Returns false for names not in kX86Features and on non-x86 hosts.
bool hostHasFeature(const char *name);

/// The table entry for `name`, or nullptr if the runtime cannot check it.
inline const X86Feature *findFeature(const char *name) {
  for (const X86Feature &f : kX86Features) {
    const char *a = f.name, *b = name;
    while (*a && *a == *b)
      ++a, ++b;
    if (*a == *b)
      return &f;
  }
  return nullptr;
}

} // namespace vitc::cpu

#endif // VITC_RUNTIME_CPUFEATURES_H
