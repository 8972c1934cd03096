//===- CodeAllocations.cpp - compiled code's malloc/free, routed per thread ===//
//
// The ELF image is read from the artifact's bytes (program headers, the
// dynamic section, its relocation tables), every read bounds-checked: an
// artifact is untrusted input. The loaded object is then patched at its load
// address (dlinfo's l_addr) plus each relocation's offset.
//
//===----------------------------------------------------------------------===//
#include "vitc/runtime/CodeAllocations.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace vitc::rt {
namespace {

thread_local CodeAllocator *active = nullptr;

void *hookMalloc(size_t bytes) {
  return active ? active->allocate(bytes) : std::malloc(bytes);
}

void hookFree(void *pointer) {
  if (pointer && !(active && active->release(pointer)))
    std::free(pointer);
}

void *hookCalloc(size_t count, size_t size) {
  if (!active)
    return std::calloc(count, size);
  if (size && count > SIZE_MAX / size)
    return nullptr;
  void *pointer = active->allocate(count * size);
  if (pointer)
    std::memset(pointer, 0, count * size);
  return pointer;
}

void *hookAlignedAlloc(size_t alignment, size_t bytes) {
  if (!active)
    return std::aligned_alloc(alignment, bytes);
  // Over-allocate and round up: what MLIR does for its own aligned allocs.
  // The arena's pointers are 64-byte aligned, so this is exact below that.
  auto raw = reinterpret_cast<uintptr_t>(active->allocate(bytes + alignment));
  return raw ? reinterpret_cast<void *>((raw + alignment - 1) / alignment *
                                        alignment)
             : nullptr;
}

struct Hook {
  const char *name;
  void *function;
};
const Hook kHooks[] = {
    {"malloc", reinterpret_cast<void *>(&hookMalloc)},
    {"free", reinterpret_cast<void *>(&hookFree)},
    {"calloc", reinterpret_cast<void *>(&hookCalloc)},
    {"aligned_alloc", reinterpret_cast<void *>(&hookAlignedAlloc)},
};
/// Allocation functions no hook serves: memory they return or take could
/// come from both sides (an arena pointer given to realloc).
const char *const kUnsupported[] = {"realloc", "reallocarray", "posix_memalign",
                                    "memalign", "valloc", "pvalloc"};

/// Bounds-checked reads of the ELF image.
class Image {
public:
  Image(const uint8_t *data, size_t size) : data_(data), size_(size) {}
  template <typename T> bool read(uint64_t offset, T &value) const {
    if (offset > size_ || sizeof(T) > size_ - offset)
      return false;
    std::memcpy(&value, data_ + offset, sizeof(T));
    return true;
  }
  /// The NUL-terminated string at `offset`, or nullptr.
  const char *string(uint64_t offset) const {
    if (offset >= size_ || !std::memchr(data_ + offset, 0, size_ - offset))
      return nullptr;
    return reinterpret_cast<const char *>(data_ + offset);
  }

private:
  const uint8_t *data_;
  size_t size_;
};

struct Segments {
  std::vector<Elf64_Phdr> loads;
  Elf64_Phdr dynamic{}, relro{};
  bool hasDynamic = false, hasRelro = false;
  /// The file offset of virtual address `vaddr`, if a segment maps it.
  bool offsetOf(uint64_t vaddr, uint64_t &offset) const {
    for (const Elf64_Phdr &load : loads)
      if (vaddr >= load.p_vaddr && vaddr - load.p_vaddr < load.p_filesz) {
        offset = load.p_offset + (vaddr - load.p_vaddr);
        return true;
      }
    return false;
  }
  /// Whether a GOT slot at `vaddr` lies in a writable segment's memory.
  bool isSlot(uint64_t vaddr) const {
    for (const Elf64_Phdr &load : loads)
      if ((load.p_flags & PF_W) && vaddr >= load.p_vaddr &&
          load.p_memsz >= sizeof(void *) &&
          vaddr - load.p_vaddr <= load.p_memsz - sizeof(void *))
        return true;
    return false;
  }
};

/// Writes `value` into the GOT slot at `slot`, lifting RELRO's read-only
/// protection for the write where the slot lies in it.
bool patchSlot(uintptr_t slot, void *value, bool inRelro) {
  uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto first = reinterpret_cast<void *>(slot & ~(page - 1));
  if (inRelro && ::mprotect(first, page, PROT_READ | PROT_WRITE) != 0)
    return false;
  std::memcpy(reinterpret_cast<void *>(slot), &value, sizeof(value));
  if (inRelro)
    ::mprotect(first, page, PROT_READ);
  return true;
}

} // namespace

CodeAllocator *setCodeAllocator(CodeAllocator *allocator) {
  CodeAllocator *previous = active;
  active = allocator;
  return previous;
}

Status redirectCodeAllocations(void *handle, const uint8_t *elf, size_t size,
                               bool &redirected) {
  redirected = false;
  Image image(elf, size);
  Elf64_Ehdr header;
  if (!image.read(0, header) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) ||
      header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr))
    return Status::ok(); // not an image we know: the code keeps malloc
  uint32_t jumpSlot, globDat;
  if (header.e_machine == EM_X86_64) {
    jumpSlot = R_X86_64_JUMP_SLOT;
    globDat = R_X86_64_GLOB_DAT;
  } else if (header.e_machine == EM_AARCH64) {
    jumpSlot = R_AARCH64_JUMP_SLOT;
    globDat = R_AARCH64_GLOB_DAT;
  } else {
    return Status::ok();
  }

  Segments segments;
  for (uint16_t i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr phdr;
    if (!image.read(header.e_phoff + uint64_t(i) * sizeof(phdr), phdr))
      return Status::error("the code's ELF program headers are truncated");
    if (phdr.p_type == PT_LOAD)
      segments.loads.push_back(phdr);
    else if (phdr.p_type == PT_DYNAMIC)
      segments.dynamic = phdr, segments.hasDynamic = true;
    else if (phdr.p_type == PT_GNU_RELRO)
      segments.relro = phdr, segments.hasRelro = true;
  }
  if (!segments.hasDynamic)
    return Status::ok(); // nothing imported

  uint64_t symtab = 0, strtab = 0, strsz = 0, jmprel = 0, pltrelsz = 0,
           rela = 0, relasz = 0;
  int64_t pltrel = DT_RELA;
  bool hasRel = false;
  for (uint64_t at = segments.dynamic.p_offset;
       at + sizeof(Elf64_Dyn) <= segments.dynamic.p_offset +
                                     segments.dynamic.p_filesz;
       at += sizeof(Elf64_Dyn)) {
    Elf64_Dyn entry;
    if (!image.read(at, entry) || entry.d_tag == DT_NULL)
      break;
    switch (entry.d_tag) {
    case DT_SYMTAB: symtab = entry.d_un.d_ptr; break;
    case DT_STRTAB: strtab = entry.d_un.d_ptr; break;
    case DT_STRSZ: strsz = entry.d_un.d_val; break;
    case DT_JMPREL: jmprel = entry.d_un.d_ptr; break;
    case DT_PLTRELSZ: pltrelsz = entry.d_un.d_val; break;
    case DT_PLTREL: pltrel = static_cast<int64_t>(entry.d_un.d_val); break;
    case DT_RELA: rela = entry.d_un.d_ptr; break;
    case DT_RELASZ: relasz = entry.d_un.d_val; break;
    case DT_REL: hasRel = true; break;
    default: break;
    }
  }
  if (hasRel || pltrel != DT_RELA)
    return Status::ok(); // REL relocations: not what ELF64 linkers emit
  uint64_t symtabOffset = 0, strtabOffset = 0;
  if (!segments.offsetOf(symtab, symtabOffset) ||
      !segments.offsetOf(strtab, strtabOffset))
    return Status::ok();

  link_map *map = nullptr;
  if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map)
    return Status::error("cannot locate the loaded code (dlinfo)");

  // Collect first, patch after: a table that turns out unsupported halfway
  // must leave the code untouched.
  struct Patch {
    uint64_t vaddr;
    void *function;
  };
  std::vector<Patch> patches;
  for (auto [table, bytes] : {std::pair{jmprel, pltrelsz}, {rela, relasz}}) {
    uint64_t offset = 0;
    if (bytes == 0 || !segments.offsetOf(table, offset))
      continue;
    for (uint64_t at = offset; at + sizeof(Elf64_Rela) <= offset + bytes;
         at += sizeof(Elf64_Rela)) {
      Elf64_Rela relocation;
      Elf64_Sym symbol;
      if (!image.read(at, relocation))
        return Status::error("the code's ELF relocations are truncated");
      uint64_t index = ELF64_R_SYM(relocation.r_info);
      if (index == 0)
        continue;
      if (!image.read(symtabOffset + index * sizeof(Elf64_Sym), symbol) ||
          symbol.st_name >= strsz)
        return Status::error("the code's ELF symbol table is corrupt");
      const char *name = image.string(strtabOffset + symbol.st_name);
      if (!name)
        return Status::error("the code's ELF string table is corrupt");
      for (const char *unsupported : kUnsupported)
        if (std::strcmp(name, unsupported) == 0)
          return Status::ok();
      for (const Hook &hook : kHooks) {
        if (std::strcmp(name, hook.name) != 0)
          continue;
        uint32_t type = ELF64_R_TYPE(relocation.r_info);
        if (type != jumpSlot && type != globDat)
          return Status::ok(); // e.g. the address taken into data
        if (!segments.isSlot(relocation.r_offset))
          return Status::error("the code's ELF relocation of '" +
                               std::string(name) + "' lies outside its data");
        patches.push_back({relocation.r_offset, hook.function});
      }
    }
  }
  for (const Patch &patch : patches) {
    bool inRelro = segments.hasRelro && patch.vaddr >= segments.relro.p_vaddr &&
                   patch.vaddr - segments.relro.p_vaddr < segments.relro.p_memsz;
    if (!patchSlot(map->l_addr + patch.vaddr, patch.function, inRelro))
      return Status::error("cannot redirect the code's allocations: mprotect "
                           "refused");
  }
  redirected = true;
  return Status::ok();
}

} // namespace vitc::rt
