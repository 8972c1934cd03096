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

} // namespace vitc

#endif // VITC_COMPILER_CODEGEN_CUDA_GPUSCHEDULE_H
