//===- HostCode.cpp - code sections compiled for this CPU -----------------===//
//
// Code sections are ELF shared objects. They are loaded from memory through
// memfd_create + dlopen, so no temporary file is ever written, and resolve
// the kernel symbols they import (_mlir_ciface_vitc_cpu_*) against this
// library, which is promoted to the global symbol scope first (a host that
// dlopen'ed the runtime with RTLD_LOCAL, e.g. Python's ctypes, would hide
// them otherwise).
//
//===----------------------------------------------------------------------===//
#include "HostCode.h"

#include "vitc/runtime/CpuFeatures.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <mutex>
#include <sys/mman.h>
#include <unistd.h>

namespace vitc::rt {
namespace {

class HostBuffer final : public Buffer {
public:
  HostBuffer(void *data, size_t size) : data_(data), size_(size) {}
  ~HostBuffer() override { std::free(data_); }
  void *data() override { return data_; }
  size_t size() const override { return size_; }

private:
  void *data_;
  size_t size_;
};

/// Work on the CPU runs synchronously in the calling thread.
class HostStream final : public Stream {
public:
  Status synchronize() override { return Status::ok(); }
};

/// Makes this library's symbols visible to code loaded later.
Status exportRuntimeSymbols() {
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    Dl_info info;
    if (!::dladdr(reinterpret_cast<void *>(&exportRuntimeSymbols), &info) ||
        !info.dli_fname) {
      error = "cannot locate the vitc runtime library";
      return;
    }
    // Deliberately never closed: the library stays global for the process.
    if (!::dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) {
      const char *message = ::dlerror();
      error = std::string("cannot export the runtime's symbols: ") +
              (message ? message : "unknown error");
    }
  });
  return error.empty() ? Status::ok() : Status::error(error);
}

bool writeAll(int fd, const uint8_t *data, uint64_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<uint64_t>(n);
  }
  return true;
}

/// A path of memfd `fd` that no loaded object has as its name. dlopen
/// returns an object already loaded under the same name instead of loading
/// the file, and fd numbers are reused: the fd of one model's code is closed
/// once loaded, so the next model's memfd gets its number, and a second
/// model in the process would run the first one's code (or find none of its
/// entry points). "/proc/self/fd/./N" names the same file by another name.
std::string uniqueLoadName(int fd) {
  std::string dots;
  while (true) {
    std::string name = "/proc/self/fd/" + dots + std::to_string(fd);
    void *loaded = ::dlopen(name.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (!loaded)
      return name;
    ::dlclose(loaded); // NOLOAD took a reference
    dots += "./";
  }
}

} // namespace

Status checkHostCode(const Artifact &artifact, const std::string &target,
                     const std::string &device) {
  if (artifact.target() != target)
    return Status::error("'" + artifact.path() + "' was compiled for target '" +
                         artifact.target() + "', not for " + device);
#if defined(__x86_64__)
  if (artifact.triple().rfind("x86_64", 0) != 0)
    return Status::error("'" + artifact.path() + "' was compiled for '" +
                         artifact.triple() + "', not for x86_64");
#endif
  std::string missing;
  for (const std::string &feature : artifact.cpuFeatures()) {
    if (!cpu::findFeature(feature.c_str()))
      return Status::error("'" + artifact.path() + "' needs CPU feature '" +
                           feature + "', which this runtime cannot check");
    if (!cpu::hostHasFeature(feature.c_str()))
      missing += (missing.empty() ? "" : ", ") + feature;
  }
  if (!missing.empty())
    return Status::error("artifact built for cpu '" + artifact.cpu() +
                         "' needs " + missing +
                         ", which this CPU lacks (recompile with "
                         "--cpu native or an older CPU such as x86-64-v2)");
  return Status::ok();
}

namespace {

/// $VITC_CODE_DIR set: a new file there for the code, kept after the
/// process ends, so that profilers (perf report, perf annotate) find the
/// code and its symbols, which they cannot read from a memfd. Returns its
/// open fd, or -1 with `error` set.
int createCodeFile(const char *dir, std::string &path, std::string &error) {
  static std::atomic<unsigned> counter{0};
  path = std::string(dir) + "/vitc-code-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++) + ".so";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    error = "$VITC_CODE_DIR: cannot create '" + path + "': " +
            std::strerror(errno);
  return fd;
}

} // namespace

StatusOr<void *> loadHostCode(const Artifact &artifact) {
  const Section *code = artifact.section("code");
  if (!code)
    return Status::error("'" + artifact.path() + "' has no code section");
  Status exported = exportRuntimeSymbols();
  if (!exported.isOk())
    return exported;
  const char *codeDir = std::getenv("VITC_CODE_DIR");
  int fd;
  std::string loadPath, error;
  // A code file that could not be loaded is not left behind.
  auto discard = [&] {
    if (codeDir && *codeDir)
      ::unlink(loadPath.c_str());
  };
  if (codeDir && *codeDir) {
    fd = createCodeFile(codeDir, loadPath, error);
    if (fd < 0)
      return Status::error("cannot load the code of '" + artifact.path() +
                           "': " + error);
  } else {
    fd = ::memfd_create("vitc-code", MFD_CLOEXEC);
    if (fd < 0)
      return Status::error(std::string("cannot load code: memfd_create: ") +
                           std::strerror(errno));
  }
  if (!writeAll(fd, code->data, code->size)) {
    std::string reason = std::strerror(errno);
    ::close(fd);
    discard();
    return Status::error("cannot load code: " + reason);
  }
  if (loadPath.empty())
    loadPath = uniqueLoadName(fd);
  void *handle = ::dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  ::close(fd); // the mapping keeps the memory alive
  if (!handle) {
    const char *message = ::dlerror();
    discard();
    return Status::error("cannot load the code of '" + artifact.path() +
                         "': " + (message ? message : "unknown error"));
  }
  return handle;
}

StatusOr<std::unique_ptr<Buffer>> allocateHostBuffer(size_t bytes) {
  void *data = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!data && bytes)
    return Status::error("out of memory allocating " + std::to_string(bytes) +
                         " bytes");
  return std::unique_ptr<Buffer>(new HostBuffer(data, bytes));
}

std::unique_ptr<Stream> createHostStream() {
  return std::unique_ptr<Stream>(new HostStream());
}

} // namespace vitc::rt
