//===- ScalarProgram.h - evaluate a schedule's scalars ----------*- C++ -*-===//
//
// The scalar program of a GPU schedule (sizes, offsets, grid dims as int64
// arithmetic on the arguments' dims) evaluated for one set of argument
// shapes. Division by zero and shifts out of range are errors, not UB.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_GPU_SCALARPROGRAM_H
#define VITC_DEVICES_GPU_SCALARPROGRAM_H

#include "vitc/runtime/GpuSchedule.h"
#include "vitc/runtime/Status.h"

#include <vector>

namespace vitc::rt {

/// The value of every slot of `schedule` where argument a has shape
/// `shapes[a]` (argument 0: the weights, a 1-D byte buffer).
StatusOr<std::vector<int64_t>>
evaluateScalars(const GpuScheduleSpec &schedule,
                const std::vector<std::vector<int64_t>> &shapes);

} // namespace vitc::rt

#endif // VITC_DEVICES_GPU_SCALARPROGRAM_H
