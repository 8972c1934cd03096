//===- MatmulPlan.cpp - a matmul call as cuBLASLt computes it -------------===//
#include "MatmulPlan.h"

#include <optional>
#include <utility>

namespace vitc::cuda {

using rt::DType;
using rt::Status;
using rt::StatusOr;

namespace {

struct Routine {
  const char *name;
  size_t rank;
  DType input; // of a and b; c is f32
};

constexpr Routine kRoutines[] = {
    {"matmul_f32", 2, DType::F32},
    {"matmul_bf16", 2, DType::BF16},
    {"batch_matmul_f32", 3, DType::F32},
    {"batch_matmul_bf16", 3, DType::BF16},
};

const Routine *findRoutine(const std::string &name) {
  for (const Routine &r : kRoutines)
    if (name == r.name)
      return &r;
  return nullptr;
}

/// An operand's last two dims as the product reads it (its transpose flag
/// applied), and its batch (1 for rank 2).
struct View {
  int64_t batch = 1, rows = 0, cols = 0;
  int64_t batchStride = 0, rowStride = 0, colStride = 0;
  rt::DevicePtr data = 0;
  const char *name = "";                    // "a", "b" or "c"
  const rt::DeviceTensor *tensor = nullptr; // as given, for messages
};

View transposed(View v) {
  std::swap(v.rows, v.cols);
  std::swap(v.rowStride, v.colStride);
  return v;
}

StatusOr<View> makeView(const Routine &spec, const rt::DeviceTensor &tensor,
                        const char *name) {
  std::string what = std::string("operand ") + name;
  if (tensor.sizes.size() != spec.rank ||
      tensor.strides.size() != tensor.sizes.size())
    return Status::error(what + " has sizes " + rt::shapeString(tensor.sizes) +
                         " and strides " + rt::shapeString(tensor.strides) +
                         "; the routine takes rank-" +
                         std::to_string(spec.rank) + " tensors");
  DType dtype = name[0] == 'c' ? DType::F32 : spec.input;
  if (tensor.dtype != dtype)
    return Status::error(what + " is " + rt::dtypeName(tensor.dtype) +
                         ", not " + rt::dtypeName(dtype));
  for (size_t i = 0; i < spec.rank; ++i)
    if (tensor.sizes[i] < 0 || tensor.strides[i] < 0)
      return Status::error(what + " has sizes " +
                           rt::shapeString(tensor.sizes) + " and strides " +
                           rt::shapeString(tensor.strides) +
                           ": negative sizes and strides are not supported");
  View v;
  size_t r = spec.rank;
  if (r == 3) {
    v.batch = tensor.sizes[0];
    v.batchStride = tensor.strides[0];
  }
  v.rows = tensor.sizes[r - 2];
  v.cols = tensor.sizes[r - 1];
  v.rowStride = tensor.strides[r - 2];
  v.colStride = tensor.strides[r - 1];
  v.data = tensor.data;
  v.name = name;
  v.tensor = &tensor;
  return v;
}

/// `v` as a column-major matrix as stored: its rows contiguous (unit row
/// stride) and its columns apart by at least a column's length, which
/// cuBLASLt requires of a leading dimension. A dim of size 1 has no stride
/// that matters.
std::optional<LtMatrix> columnMajor(const View &v) {
  if ((v.rowStride != 1 && v.rows != 1) ||
      (v.cols != 1 && v.colStride < v.rows))
    return std::nullopt;
  LtMatrix m;
  m.rows = static_cast<uint64_t>(v.rows);
  m.cols = static_cast<uint64_t>(v.cols);
  m.ld = v.cols == 1 ? v.rows : v.colStride;
  m.data = v.data;
  return m;
}

/// An operand of the product: column-major as stored (op N), else
/// transposed (op T: its columns contiguous, the stored matrix is the
/// column-major transpose).
std::optional<LtMatrix> operand(const View &v) {
  if (std::optional<LtMatrix> m = columnMajor(v))
    return m;
  std::optional<LtMatrix> m = columnMajor(transposed(v));
  if (m)
    m->transpose = true;
  return m;
}

Status layoutError(const View &v) {
  const rt::DeviceTensor &t = *v.tensor;
  std::string what = std::string("operand ") + v.name + " (sizes " +
                     rt::shapeString(t.sizes) + ", strides " +
                     rt::shapeString(t.strides) + ")";
  bool unit =
      v.rowStride == 1 || v.colStride == 1 || v.rows == 1 || v.cols == 1;
  if (!unit)
    return Status::error(what + " has no unit stride in its last two dims: "
                                "cuBLASLt needs its rows or its columns "
                                "contiguous");
  return Status::error(what + " has overlapping rows or columns: cuBLASLt "
                              "needs the stride beside the unit one to be at "
                              "least the length of a contiguous row or column");
}

/// A packed column-major matrix that the runner points at zeros.
LtMatrix packedZeros(uint64_t rows, uint64_t cols) {
  LtMatrix m;
  m.rows = rows;
  m.cols = cols;
  m.ld = static_cast<int64_t>(rows);
  return m;
}

/// Sets the plan's matrices for views a (m x k), b (k x n), c (m x n) of
/// batch plan.batchCount.
Status layOut(MatmulPlan &plan, View a, View b, const View &c) {
  std::optional<LtMatrix> d = columnMajor(transposed(c));
  plan.swapped = d.has_value();
  if (plan.swapped) {
    // c^T = b^T a^T: cuBLASLt's A is b^T, its B is a^T.
    View first = transposed(b), second = transposed(a);
    a = first;
    b = second;
  } else if (!(d = columnMajor(c))) {
    return layoutError(c);
  }
  plan.c = *d;
  plan.c.batchOffset = plan.batchCount > 1 ? c.batchStride : 0;
  if (plan.batchCount > 1 && c.batchStride == 0)
    return Status::error("operand c (sizes " +
                         rt::shapeString(c.tensor->sizes) + ", strides " +
                         rt::shapeString(c.tensor->strides) +
                         ") has batch stride 0: its batches would overwrite "
                         "each other");
  if (plan.work == MatmulPlan::Work::Zeros) {
    // A zero column (rows x 1) times a zero row (1 x cols), the same for
    // every batch.
    plan.a = packedZeros(plan.c.rows, 1);
    plan.b = packedZeros(1, plan.c.cols);
    return Status::ok();
  }
  std::optional<LtMatrix> first = operand(a), second = operand(b);
  if (!first)
    return layoutError(a);
  if (!second)
    return layoutError(b);
  first->batchOffset = plan.batchCount > 1 && a.batch > 1 ? a.batchStride : 0;
  second->batchOffset = plan.batchCount > 1 && b.batch > 1 ? b.batchStride : 0;
  plan.a = *first;
  plan.b = *second;
  return Status::ok();
}

std::string dims(const View &v) {
  return std::to_string(v.rows) + "x" + std::to_string(v.cols);
}

} // namespace

bool isMatmulRoutine(const std::string &routine) {
  return findRoutine(routine) != nullptr;
}

StatusOr<MatmulPlan> planMatmul(const rt::LibraryCall &call) {
  const Routine *spec = findRoutine(call.routine);
  if (!spec)
    return Status::error("'" + call.routine +
                         "' is not a matmul routine (matmul_f32, matmul_bf16, "
                         "batch_matmul_f32, batch_matmul_bf16)");
  if (call.tensors.size() != 3)
    return Status::error("expected 3 tensors (a, b, c), got " +
                         std::to_string(call.tensors.size()));
  if (call.scalars.size() != 4)
    return Status::error("expected 4 scalars (transA, transB, accumulate, "
                         "constantB), got " +
                         std::to_string(call.scalars.size()));
  View views[3];
  const char *names[] = {"a", "b", "c"};
  for (int i = 0; i < 3; ++i) {
    auto view = makeView(*spec, call.tensors[i], names[i]);
    if (!view.isOk())
      return view.status();
    views[i] = *view;
  }
  View a = call.scalars[0] ? transposed(views[0]) : views[0];
  View b = call.scalars[1] ? transposed(views[1]) : views[1];
  const View &c = views[2];
  if (a.cols != b.rows || a.rows != c.rows || b.cols != c.cols)
    return Status::error("the shapes do not match: op(a) is " + dims(a) +
                         ", op(b) is " + dims(b) + ", c is " + dims(c));
  if ((a.batch != 1 && a.batch != c.batch) ||
      (b.batch != 1 && b.batch != c.batch))
    return Status::error(
        "the batches do not match: a has " + std::to_string(a.batch) + ", b " +
        std::to_string(b.batch) + ", c " + std::to_string(c.batch) +
        " (only a batch of 1 is broadcast)");

  MatmulPlan plan;
  plan.bf16 = spec->input == DType::BF16;
  plan.accumulate = call.scalars[2] != 0;
  plan.m = c.rows;
  plan.n = c.cols;
  plan.k = a.cols;
  plan.batch = c.batch;
  if (plan.m == 0 || plan.n == 0 || plan.batch == 0)
    return plan; // Work::None: no element to write.
  if (plan.k == 0) {
    // The product is zero.
    if (plan.accumulate)
      return plan;
    plan.work = MatmulPlan::Work::Zeros;
  } else {
    plan.work = MatmulPlan::Work::Product;
  }
  if (plan.batch > INT32_MAX)
    return Status::error("a batch of " + std::to_string(plan.batch) +
                         " is more than cuBLASLt takes");

  // A b shared by the whole batch while a's and c's rows are evenly spaced
  // across batches (a Linear layer on (B, T, C)) is one GEMM of batch * m
  // rows: the library tiles it better than a batch of small ones.
  if (plan.batch > 1 && b.batch == 1 && a.batch == plan.batch &&
      a.batchStride == a.rows * a.rowStride &&
      c.batchStride == c.rows * c.rowStride) {
    MatmulPlan merged = plan;
    View mergedA = a, mergedC = c;
    mergedA.rows *= plan.batch;
    mergedC.rows *= plan.batch;
    mergedA.batch = mergedC.batch = 1;
    if (layOut(merged, mergedA, b, mergedC).isOk())
      return merged;
  }
  plan.batchCount = static_cast<int32_t>(plan.batch);
  if (Status s = layOut(plan, a, b, c); !s.isOk())
    return s;
  return plan;
}

std::string describe(const MatmulPlan &plan) {
  std::string text = "m=" + std::to_string(plan.m) +
                     " n=" + std::to_string(plan.n) +
                     " k=" + std::to_string(plan.k);
  if (plan.batch != 1)
    text += " batch=" + std::to_string(plan.batch);
  return text;
}

} // namespace vitc::cuda
