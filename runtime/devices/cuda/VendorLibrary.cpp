//===- VendorLibrary.cpp - NVIDIA libraries loaded at run time -------------===//
#include "VendorLibrary.h"

#include <cstdlib>
#include <dlfcn.h>

namespace vitc::cuda {

StatusOr<std::pair<void *, std::string>>
openVendorLibrary(const std::string &what, const std::string &path,
                  const char *envVar, const std::vector<std::string> &sonames) {
  // An explicit library is the only one tried.
  std::vector<std::string> candidates = sonames;
  if (!path.empty())
    candidates = {path};
  else if (const char *env = std::getenv(envVar); env && *env)
    candidates = {env};
  std::string why;
  for (const std::string &candidate : candidates) {
    // Never unloaded: these libraries are large (cuBLASLt maps over
    // 500 MB), load sub-libraries and keep per-thread state, which makes
    // unloading unsafe while threads live.
    if (void *handle =
            dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE))
      return std::make_pair(handle, candidate);
    // Report the first failure: the library asked for first.
    if (why.empty())
      if (const char *error = dlerror())
        why = error;
  }
  return Status::error(what + " is not available: cannot load '" +
                       candidates.front() + "'" +
                       (why.empty() ? "" : " (" + why + ")") + "; set " +
                       envVar + " to the library's path");
}

Status resolveVendorSymbols(void *handle, const std::string &what,
                            const std::string &library,
                            const std::vector<VendorSymbol> &table,
                            const std::string &hint) {
  for (const VendorSymbol &entry : table) {
    *entry.slot = dlsym(handle, entry.symbol);
    if (!*entry.slot)
      return Status::error("the " + what + " library '" + library +
                           "' has no " + entry.symbol + ": " + hint);
  }
  return Status::ok();
}

} // namespace vitc::cuda
