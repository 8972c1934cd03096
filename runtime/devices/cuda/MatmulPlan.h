//===- MatmulPlan.h - a matmul call as cuBLASLt computes it -----*- C++ -*-===//
//
// The pure half of the CUDA device's matmuls (LtMatmul.h runs them): which
// column-major matrices, transposes, leading dimensions and batch offsets
// make cuBLASLt compute a schedule's matmul call (GpuBackend.h's
// LibraryCall), or why it cannot. No library, handle or GPU is involved, so
// the unit tests check it everywhere.
//
// cuBLASLt computes D = op(A) op(B) on column-major matrices, where op may
// transpose, and writes D without a transpose. So c, which we must write as
// it is stored, decides the orientation: a c with unit column stride (row-
// major, the usual case) is read as the column-major c^T, and cuBLASLt
// computes c^T = op(b)^T op(a)^T, the operands swapped; a c with unit row
// stride is the column-major c itself, c = op(a) op(b). Each operand then
// needs one unit stride among its last two dims: that dim's stride-1 order
// is column-major as stored (op N) or column-major transposed (op T), the
// other stride its leading dimension.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_DEVICES_CUDA_MATMULPLAN_H
#define VITC_DEVICES_CUDA_MATMULPLAN_H

#include "../gpu/GpuBackend.h"

#include <cstdint>
#include <string>

namespace vitc::cuda {

/// One of cuBLASLt's matrices: column-major as stored, `rows` x `cols`
/// with leading dimension `ld` (all in elements), the next matrix of a
/// batch `batchOffset` elements further (0: the same matrix for every
/// product, a broadcast operand).
struct LtMatrix {
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
  int64_t batchOffset = 0;
  /// The product reads the matrix transposed (CUBLAS_OP_T); never for c.
  bool transpose = false;
  rt::DevicePtr data = 0;
};

struct MatmulPlan {
  enum class Work {
    None,    ///< c is empty, or k = 0 while accumulating: nothing to do.
    Product, ///< c (+)= a b.
    /// k = 0 without accumulating: c = 0, computed as a product of a
    /// column and a row of zeros that the runner supplies (a and b say
    /// how it reads them; their data is 0): cuBLASLt then writes c through
    /// the same layout as any product, whatever its strides.
    Zeros,
  };
  Work work = Work::None;
  bool bf16 = false;       ///< a and b are bf16 (c is always f32).
  bool accumulate = false; ///< beta = 1, else 0.
  /// cuBLASLt computes c^T = b^T a^T: its A is our b and its B our a.
  bool swapped = false;
  /// The problem as the call states it, for messages: c is batch x m x n.
  int64_t m = 0, n = 0, k = 0, batch = 1;
  /// cuBLASLt's A, B and C (also its D: the product is written in place).
  LtMatrix a, b, c;
  int32_t batchCount = 1;
};

/// matmul_f32, matmul_bf16, batch_matmul_f32 or batch_matmul_bf16.
bool isMatmulRoutine(const std::string &routine);

/// How cuBLASLt computes `call`, one of the matmul routines; an error says
/// what is wrong (the operands, their shapes, or strides with no unit
/// stride in an operand's last two dims: it names the operand, its sizes
/// and strides). Like every library call's error, it is reported after the
/// ONNX node and the routine (ScheduleExecutable), so it names neither.
rt::StatusOr<MatmulPlan> planMatmul(const rt::LibraryCall &call);

/// "m=4 n=8 k=16 batch=2": the call's problem, for messages.
std::string describe(const MatmulPlan &plan);

} // namespace vitc::cuda

#endif // VITC_DEVICES_CUDA_MATMULPLAN_H
