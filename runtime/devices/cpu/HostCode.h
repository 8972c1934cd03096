//===- HostCode.h - code sections compiled for this CPU ---------*- C++ -*-===//
//
// What the devices that run host code share: the CPU device runs the
// functions of a cpu artifact, the emulated GPU the kernels of a
// cuda-emulator artifact. Both check the code against this CPU, load it
// from memory, and work in host memory on a synchronous stream.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CPU_HOSTCODE_H
#define VITC_DEVICES_CPU_HOSTCODE_H

#include "vitc/runtime/Device.h"

namespace vitc::rt {

/// The artifact was compiled for `target` (the device `device`, e.g. "the
/// cpu"), for this machine's architecture, and uses only CPU features it
/// has; the error says what differs or is missing.
Status checkHostCode(const Artifact &artifact, const std::string &target,
                     const std::string &device);

/// The artifact's "code" section, loaded as a shared object (memfd_create +
/// dlopen, no file written) that resolves the runtime's kernel symbols; a
/// dlopen handle.
StatusOr<void *> loadHostCode(const Artifact &artifact);

/// Host memory, 64-byte aligned.
StatusOr<std::unique_ptr<Buffer>> allocateHostBuffer(size_t bytes);

/// A stream whose work has finished when it was submitted.
std::unique_ptr<Stream> createHostStream();

} // namespace vitc::rt

#endif // VITC_DEVICES_CPU_HOSTCODE_H
