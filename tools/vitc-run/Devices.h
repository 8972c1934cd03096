//===- Devices.h - `vitc-run --devices`: what this machine can run on -----===//
#ifndef VITC_RUN_DEVICES_H
#define VITC_RUN_DEVICES_H

namespace vitc::run {

/// Prints one line per device kind: the CPU, and the CUDA GPUs as the
/// driver reports them, or why there are none (no driver, no device, the
/// toolkit's stub library). Returns the exit status (0).
int printDevices();

} // namespace vitc::run

#endif // VITC_RUN_DEVICES_H
