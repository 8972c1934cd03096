//===- LtMatmul.cpp - the CUDA device's matmuls on cuBLASLt ---------------===//
#include "LtMatmul.h"

#include <algorithm>
#include <vector>

namespace vitc::cuda {

using rt::Status;
using rt::StatusOr;

namespace {

/// The largest power of two (up to 256, cuBLASLt's default assumption)
/// that divides `address`. A tensor may start anywhere in its buffer (a
/// view's offset), and the heuristic must not pick a kernel that needs
/// more alignment than the pointers have.
uint32_t alignmentOf(rt::DevicePtr address) {
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment)
    alignment /= 2;
  return alignment;
}

void *pointer(rt::DevicePtr address) {
  return reinterpret_cast<void *>(static_cast<uintptr_t>(address));
}

/// What the cached descriptors and algorithm depend on.
std::string cacheKey(const MatmulPlan &plan) {
  std::string key = plan.bf16 ? "bf16" : "f32";
  key += ":" + std::to_string(plan.batchCount);
  for (const LtMatrix *m : {&plan.a, &plan.b, &plan.c})
    key += ":" + std::to_string(m->rows) + "," + std::to_string(m->cols) + "," +
           std::to_string(m->ld) + "," + std::to_string(m->batchOffset) + "," +
           (m->transpose ? "T" : "N") + "," +
           std::to_string(alignmentOf(m->data));
  return key;
}

/// A matmul preference, destroyed on every path.
struct Preference {
  const CublasLt &lt;
  cublasLtMatmulPreference_t preference = nullptr;
  ~Preference() {
    if (preference)
      (void)lt.api().cublasLtMatmulPreferenceDestroy(preference);
  }
};

} // namespace

StatusOr<std::unique_ptr<LtHandle>> LtHandle::create(const CublasLt &lt) {
  cublasLtHandle_t handle = nullptr;
  if (Status s =
          CublasLt::check(lt.api().cublasLtCreate(&handle), "cublasLtCreate");
      !s.isOk())
    return s;
  return std::unique_ptr<LtHandle>(new LtHandle(lt, handle));
}

LtHandle::~LtHandle() { (void)lt.api().cublasLtDestroy(handle); }

StatusOr<std::unique_ptr<LtDescriptors>>
LtDescriptors::create(const CublasLt &lt, const MatmulPlan &plan) {
  const CublasLtApi &api = lt.api();
  std::unique_ptr<LtDescriptors> d(new LtDescriptors(lt));
  // bf16 inputs are multiplied and accumulated in f32, into an f32 c.
  if (Status s =
          CublasLt::check(api.cublasLtMatmulDescCreate(
                              &d->operation, kCublasCompute32F, kCudaR32F),
                          "cublasLtMatmulDescCreate");
      !s.isOk())
    return s;
  for (auto [attribute, transpose] :
       {std::pair{kMatmulDescTransA, plan.a.transpose},
        std::pair{kMatmulDescTransB, plan.b.transpose}}) {
    int32_t op = transpose ? kCublasOpT : kCublasOpN;
    if (Status s = CublasLt::check(
            api.cublasLtMatmulDescSetAttribute(d->operation, attribute, &op,
                                               sizeof op),
            "cublasLtMatmulDescSetAttribute(CUBLASLT_MATMUL_DESC_TRANS)");
        !s.isOk())
      return s;
  }
  int inputType = plan.bf16 ? kCudaR16BF : kCudaR32F;
  struct Layout {
    cublasLtMatrixLayout_t *slot;
    const LtMatrix &matrix;
    int type;
  };
  for (const Layout &l :
       {Layout{&d->a, plan.a, inputType}, Layout{&d->b, plan.b, inputType},
        Layout{&d->c, plan.c, kCudaR32F}}) {
    if (Status s = CublasLt::check(
            api.cublasLtMatrixLayoutCreate(l.slot, l.type, l.matrix.rows,
                                           l.matrix.cols, l.matrix.ld),
            "cublasLtMatrixLayoutCreate");
        !s.isOk())
      return s;
    if (plan.batchCount == 1)
      continue;
    int32_t count = plan.batchCount;
    int64_t offset = l.matrix.batchOffset;
    if (Status s = CublasLt::check(
            api.cublasLtMatrixLayoutSetAttribute(*l.slot, kLayoutBatchCount,
                                                 &count, sizeof count),
            "cublasLtMatrixLayoutSetAttribute(CUBLASLT_MATRIX_LAYOUT_BATCH_"
            "COUNT)");
        !s.isOk())
      return s;
    if (Status s = CublasLt::check(
            api.cublasLtMatrixLayoutSetAttribute(
                *l.slot, kLayoutStridedBatchOffset, &offset, sizeof offset),
            "cublasLtMatrixLayoutSetAttribute(CUBLASLT_MATRIX_LAYOUT_STRIDED_"
            "BATCH_OFFSET)");
        !s.isOk())
      return s;
  }
  return d;
}

LtDescriptors::~LtDescriptors() {
  const CublasLtApi &api = lt.api();
  for (cublasLtMatrixLayout_t layout : {a, b, c})
    if (layout)
      (void)api.cublasLtMatrixLayoutDestroy(layout);
  if (operation)
    (void)api.cublasLtMatmulDescDestroy(operation);
}

StatusOr<std::unique_ptr<LtMatmul>> LtMatmul::load(const DriverApi &driver,
                                                   const std::string &path) {
  auto library = CublasLt::load(path);
  if (!library.isOk())
    return library.status();
  return std::unique_ptr<LtMatmul>(new LtMatmul(std::move(*library), driver));
}

LtMatmul::~LtMatmul() {
  cache.clear();
  handle.reset();
  // The caller made the context current and the stream idle.
  for (CUdeviceptr memory : {workspace, zeros})
    if (memory)
      (void)driver.cuMemFree(memory);
}

Status LtMatmul::createHandleAndWorkspace() {
  if (!handle) {
    auto created = LtHandle::create(*library);
    if (!created.isOk())
      return created.status();
    handle = std::move(*created);
  }
  if (!workspace) {
    if (Status s = Driver::check(driver.cuMemAlloc(&workspace, kWorkspaceBytes),
                                 "cuMemAlloc");
        !s.isOk())
      return Status::error("allocating cuBLASLt's workspace (" +
                           std::to_string(kWorkspaceBytes >> 20) +
                           " MiB): " + s.message());
  }
  return Status::ok();
}

Status LtMatmul::provideZeros(size_t bytes, CUstream stream) {
  if (zeroBytes >= bytes)
    return Status::ok();
  if (zeros) {
    // Matmuls already enqueued may still read the old zeros.
    if (Status s = Driver::check(driver.cuStreamSynchronize(stream),
                                 "cuStreamSynchronize");
        !s.isOk())
      return s;
    (void)driver.cuMemFree(zeros);
    zeros = 0;
    zeroBytes = 0;
  }
  if (Status s = Driver::check(driver.cuMemAlloc(&zeros, bytes), "cuMemAlloc");
      !s.isOk())
    return s;
  zeroBytes = bytes;
  // The host zeros must outlive the copy: wait for it (a rare path: k = 0).
  std::vector<char> host(bytes, 0);
  if (Status s = Driver::check(
          driver.cuMemcpyHtoDAsync(zeros, host.data(), bytes, stream),
          "cuMemcpyHtoDAsync");
      !s.isOk())
    return s;
  return Driver::check(driver.cuStreamSynchronize(stream),
                       "cuStreamSynchronize");
}

StatusOr<const LtMatmul::Prepared *> LtMatmul::prepare(const MatmulPlan &plan) {
  std::string key = cacheKey(plan);
  if (auto found = cache.find(key); found != cache.end())
    return found->second.get();
  auto prepared = std::make_unique<Prepared>();
  auto descriptors = LtDescriptors::create(*library, plan);
  if (!descriptors.isOk())
    return descriptors.status();
  prepared->descriptors = std::move(*descriptors);
  const LtDescriptors &d = *prepared->descriptors;

  const CublasLtApi &api = library->api();
  Preference preference{*library};
  if (Status s = CublasLt::check(
          api.cublasLtMatmulPreferenceCreate(&preference.preference),
          "cublasLtMatmulPreferenceCreate");
      !s.isOk())
    return s;
  uint64_t workspaceBytes = kWorkspaceBytes;
  if (Status s = CublasLt::check(
          api.cublasLtMatmulPreferenceSetAttribute(
              preference.preference, kPrefMaxWorkspaceBytes, &workspaceBytes,
              sizeof workspaceBytes),
          "cublasLtMatmulPreferenceSetAttribute(CUBLASLT_MATMUL_PREF_MAX_"
          "WORKSPACE_BYTES)");
      !s.isOk())
    return s;
  // C and D are the same memory.
  for (auto [attribute, address] :
       {std::pair{kPrefMinAlignmentABytes, plan.a.data},
        std::pair{kPrefMinAlignmentBBytes, plan.b.data},
        std::pair{kPrefMinAlignmentCBytes, plan.c.data},
        std::pair{kPrefMinAlignmentDBytes, plan.c.data}}) {
    uint32_t alignment = alignmentOf(address);
    if (Status s = CublasLt::check(
            api.cublasLtMatmulPreferenceSetAttribute(
                preference.preference, attribute, &alignment, sizeof alignment),
            "cublasLtMatmulPreferenceSetAttribute(CUBLASLT_MATMUL_PREF_MIN_"
            "ALIGNMENT)");
        !s.isOk())
      return s;
  }

  cublasLtMatmulHeuristicResult_t result{};
  int returned = 0;
  if (Status s =
          CublasLt::check(api.cublasLtMatmulAlgoGetHeuristic(
                              handle->get(), d.operation, d.a, d.b, d.c, d.c,
                              preference.preference, 1, &result, &returned),
                          "cublasLtMatmulAlgoGetHeuristic");
      !s.isOk())
    return s;
  if (returned == 0)
    return Status::error(
        "cublasLtMatmulAlgoGetHeuristic: no algorithm for "
        "this problem (cuBLASLt's A " +
        std::to_string(plan.a.rows) + "x" + std::to_string(plan.a.cols) +
        " ld " + std::to_string(plan.a.ld) + ", B " +
        std::to_string(plan.b.rows) + "x" + std::to_string(plan.b.cols) +
        " ld " + std::to_string(plan.b.ld) + ")");
  prepared->algo = result.algo;
  return cache.emplace(std::move(key), std::move(prepared)).first->second.get();
}

Status LtMatmul::run(const MatmulPlan &plan, CUstream stream) {
  if (plan.work == MatmulPlan::Work::None)
    return Status::ok();
  std::lock_guard<std::mutex> lock(mutex);
  auto failed = [&](const Status &s) {
    return Status::error("cuBLASLt, " + describe(plan) + ": " + s.message());
  };
  if (Status s = createHandleAndWorkspace(); !s.isOk())
    return failed(s);
  MatmulPlan actual = plan;
  if (plan.work == MatmulPlan::Work::Zeros) {
    size_t elements = std::max(plan.c.rows, plan.c.cols);
    if (Status s = provideZeros(elements * sizeof(float), stream); !s.isOk())
      return failed(s);
    actual.a.data = actual.b.data = zeros;
  }
  auto prepared = prepare(actual);
  if (!prepared.isOk())
    return failed(prepared.status());
  const LtDescriptors &d = *(*prepared)->descriptors;
  // Host scalars (the default pointer mode), read when the call enqueues.
  float alpha = 1.0f, beta = actual.accumulate ? 1.0f : 0.0f;
  void *c = pointer(actual.c.data);
  Status s = CublasLt::check(
      library->api().cublasLtMatmul(
          handle->get(), d.operation, &alpha, pointer(actual.a.data), d.a,
          pointer(actual.b.data), d.b, &beta, c, d.c, c, d.c,
          &(*prepared)->algo, pointer(workspace), kWorkspaceBytes, stream),
      "cublasLtMatmul");
  return s.isOk() ? s : failed(s);
}

} // namespace vitc::cuda
