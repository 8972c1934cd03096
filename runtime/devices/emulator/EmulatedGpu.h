//===- EmulatedGpu.h - the emulated GPU, a test device ----------*- C++ -*-===//
#ifndef VITC_DEVICES_EMULATOR_EMULATEDGPU_H
#define VITC_DEVICES_EMULATOR_EMULATEDGPU_H

#include "vitc/runtime/Device.h"

namespace vitc::rt {

/// The emulated GPU: runs cuda-emulator artifacts on the CPU (a test
/// device, never a GPU result; see EmulatedGpu.cpp).
std::unique_ptr<Device> createEmulatedGpuDevice();

} // namespace vitc::rt

#endif // VITC_DEVICES_EMULATOR_EMULATEDGPU_H
