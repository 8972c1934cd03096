//===- LibraryRoutines.h - the emulated GPU's library routines --*- C++ -*-===//
#ifndef VITC_DEVICES_EMULATOR_LIBRARYROUTINES_H
#define VITC_DEVICES_EMULATOR_LIBRARYROUTINES_H

#include "../gpu/GpuBackend.h"

namespace vitc::rt {

/// Runs `call` on host memory with the CPU kernels (the emulated GPU's
/// cuBLASLt); an error names what does not match the routine.
Status runEmulatedLibraryCall(const LibraryCall &call);

} // namespace vitc::rt

#endif // VITC_DEVICES_EMULATOR_LIBRARYROUTINES_H
