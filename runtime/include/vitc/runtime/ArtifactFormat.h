//===- ArtifactFormat.h - the .vtc file layout, shared by writer and reader ===//
//
// Header-only and dependency-free: the compiler's artifact writer and the
// runtime's loader include it, so both sides agree on one definition.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_ARTIFACTFORMAT_H
#define VITC_RUNTIME_ARTIFACTFORMAT_H

#include <cstdint>

namespace vitc::artifact {

/// Bumped on any incompatible change of the header, the manifest's meaning,
/// the entry ABI or the runtime kernels' signatures that compiled code calls.
/// Readers accept exactly this version. 3: convolution kernels take reorder
/// hints.
constexpr uint32_t kFormatVersion = 3;
constexpr char kMagic[8] = {'V', 'I', 'T', 'C', 'A', 'R', 'T', '\0'};
/// Sections start at multiples of this, so the weights section can be
/// mapped straight from the file.
constexpr uint64_t kSectionAlignment = 4096;
/// The packed entry of function <name> in the code section is the symbol
/// kEntryPrefix + <name>, e.g. "vitc_entry_main", "vitc_entry_train_step".
constexpr const char *kEntryPrefix = "vitc_entry_";
/// The emulated GPU's kernel <module>.<kernel> is the host function
/// kEmulatedKernelPrefix + "<module>.<kernel>" (its launch context first,
/// then the kernel's arguments), called through the launch entry
/// `void kEmulatedLaunchPrefix<module>.<kernel>(void *context, void
/// **params)` with the arguments passed as cuLaunchKernel passes them.
constexpr const char *kEmulatedKernelPrefix = "vitc_kernel.";
constexpr const char *kEmulatedLaunchPrefix = "vitc_launch.";
/// A kernel that synchronises its threads (barriers, shuffles) or has
/// workgroup memory also has `int64_t kEmulatedFibersPrefix<module>.<kernel>()`,
/// returning the workgroup bytes a block needs: the emulator runs its
/// blocks' threads as fibers.
constexpr const char *kEmulatedFibersPrefix = "vitc_fibers.";
/// The static workgroup (shared) memory an emulated block may have, as on
/// CUDA GPUs.
constexpr int64_t kEmulatedWorkgroupBytes = 48 * 1024;

/// The first bytes of every .vtc file, little-endian.
struct FileHeader {
  char magic[8];
  uint32_t formatVersion;
  uint32_t headerSize;
  uint64_t manifestOffset;
  uint64_t manifestSize;
};
static_assert(sizeof(FileHeader) == 32, "FileHeader must have no padding");

} // namespace vitc::artifact

#endif // VITC_RUNTIME_ARTIFACTFORMAT_H
