//===- CpuFeatures.cpp - check ISA features of the host with CPUID --------===//
#include "vitc/runtime/CpuFeatures.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace vitc::cpu {

#if defined(__x86_64__) || defined(__i386__)
namespace {

/// XCR0: the register state the OS saves on context switches.
uint64_t readXcr0() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27)))
    return 0; // no OSXSAVE: no AVX state either
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

bool osSupports(OsState state) {
  uint64_t xcr0 = readXcr0();
  switch (state) {
  case OsState::None:
    return true;
  case OsState::Avx: // SSE + AVX state
    return (xcr0 & 0x6) == 0x6;
  case OsState::Avx512: // + opmask, ZMM_Hi256, Hi16_ZMM
    return (xcr0 & 0xe6) == 0xe6;
  case OsState::Amx: // + XTILECFG, XTILEDATA
    return (xcr0 & 0x60000) == 0x60000;
  }
  return false;
}

} // namespace

bool hostHasFeature(const char *name) {
  const X86Feature *feature = findFeature(name);
  if (!feature)
    return false;
  unsigned maxLeaf = __get_cpuid_max(feature->leaf & 0x80000000u, nullptr);
  if (maxLeaf < feature->leaf)
    return false;
  unsigned regs[4];
  __cpuid_count(feature->leaf, feature->subleaf, regs[0], regs[1], regs[2],
                regs[3]);
  unsigned value = regs[static_cast<int>(feature->reg)];
  return (value >> feature->bit & 1u) && osSupports(feature->state);
}
#else
bool hostHasFeature(const char *) { return false; }
#endif

} // namespace vitc::cpu
