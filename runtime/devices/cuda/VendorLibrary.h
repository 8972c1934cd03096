//===- VendorLibrary.h - NVIDIA libraries loaded at run time ----*- C++ -*-===//
//
// cuBLASLt and cuDNN are loaded the same way: an explicit path, else an
// environment variable, else the sonames we were written against; never
// unloaded; then every entry point resolved into our own table, a missing
// one reported by name.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUNTIME_DEVICES_CUDA_VENDORLIBRARY_H
#define VITC_RUNTIME_DEVICES_CUDA_VENDORLIBRARY_H

#include "vitc/runtime/Status.h"

#include <string>
#include <utility>
#include <vector>

namespace vitc::cuda {

using vitc::rt::Status;
using vitc::rt::StatusOr;

/// A table entry: where to store the address of `symbol`.
struct VendorSymbol {
  void **slot;
  const char *symbol;
};

/// dlopens `path` if given, else $`envVar` if set, else the first of
/// `sonames` that loads. Returns the handle and the name it loaded.
/// `what` names the library in errors ("cuDNN").
StatusOr<std::pair<void *, std::string>>
openVendorLibrary(const std::string &what, const std::string &path,
                  const char *envVar, const std::vector<std::string> &sonames);

/// Resolves every symbol of `table` in `handle`; a missing one is an error
/// naming it, followed by `hint` (why the library may lack it).
Status resolveVendorSymbols(void *handle, const std::string &what,
                            const std::string &library,
                            const std::vector<VendorSymbol> &table,
                            const std::string &hint);

} // namespace vitc::cuda

#endif // VITC_RUNTIME_DEVICES_CUDA_VENDORLIBRARY_H
