//===- GpuSchedule.h - the schedule a GPU function runs by ------*- C++ -*-===//
//
// vitc-gpu-build-schedule records the host side of every GPU function as a
// schedule (see BuildGpuSchedule.cpp for its parts) in the module attribute
// below; the backend serialises it into the artifact's manifest
// (runtime/artifact/artifact.proto, GpuSchedule), which the runtime's GPU
// devices execute.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_CODEGEN_CUDA_GPUSCHEDULE_H
#define VITC_COMPILER_CODEGEN_CUDA_GPUSCHEDULE_H

namespace vitc {

/// `{<function name> = {scalars, memrefs, commands, results}}` on the module.
inline constexpr char kGpuSchedulesAttr[] = "vitc.gpu_schedules";

/// Library routines of the GPU targets are called `<prefix><routine>` in
/// the host code (vitc-linalg-to-library{kernel-prefix=...}); the schedule
/// records `<routine>` in a call command.
inline constexpr char kGpuLibraryPrefix[] = "vitc_gpu_";

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_CUDA_GPUSCHEDULE_H
