//===- CudaGpuTest.cpp - the CUDA device ----------------------------------===//
//
// Without a GPU: creating the CUDA device (directly, and as the "cuda"
// target's device) fails with one line naming the cause, whether the driver
// is missing or is the toolkit's stub; and the choice of a GPU module's code
// (cubin, else the newest PTX the GPU can compile) is checked on made-up
// sections. With a GPU: the backend loads a PTX kernel, copies and launches
// on the device; elsewhere those tests say why they are skipped.
//
//===----------------------------------------------------------------------===//
#include "CudaGpu.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>

using namespace vitc::rt;

using namespace vitc::testing;

namespace {


Section gpuModule(const std::string &name, const std::string &arch) {
  return {"gpu-module", arch, name, nullptr, 0};
}

/// The arch of the code chosen for module "m" on an sm_`major``minor` GPU,
/// or the error.
std::string chosen(const std::vector<Section> &sections, int major, int minor) {
  auto code = chooseGpuModuleCode(sections, "m", major, minor);
  return code.isOk() ? (*code)->arch : "error: " + code.status().message();
}

} // namespace

TEST(CudaDevice, AMissingDriverIsOneClearError) {
  auto device = createCudaDevice(-1, "/nonexistent/libcuda.so.1");
  expectOneLine(device.status(), "no CUDA driver on this machine: cannot load "
                                 "'/nonexistent/libcuda.so.1'");
}

TEST(CudaDevice, TheCudaTargetSaysWhyItHasNoDevice) {
  ScopedEnv driver("VITC_CUDA_DRIVER", "/nonexistent/libcuda.so.1");
  auto device = deviceForTarget("cuda");
  expectOneLine(device.status(), "no CUDA driver on this machine: cannot load "
                                 "'/nonexistent/libcuda.so.1'");
}

TEST(CudaDevice, TheStubDriverFailsInCuInitByName) {
  std::string stub = stubLibrary();
  if (stub.empty())
    GTEST_SKIP() << "no CUDA toolkit stub libcuda.so on this machine";
  auto device = createCudaDevice(-1, stub);
  ASSERT_FALSE(device.isOk());
  EXPECT_EQ(device.status().message(),
            "cannot use the CUDA driver '" + stub +
                "': cuInit: CUDA_ERROR_STUB_LIBRARY (34): the CUDA toolkit's "
                "stub libcuda was loaded, not a driver");

  ScopedEnv driver("VITC_CUDA_DRIVER", stub);
  auto target = deviceForTarget("cuda");
  expectOneLine(target.status(), "cuInit: CUDA_ERROR_STUB_LIBRARY");
}

TEST(CudaDevice, ABackendNeedsACudaDevice) {
  auto cpu = createCpuDevice();
  auto backend = createCudaBackend(*cpu, {}, {});
  expectOneLine(backend.status(), "is not a CUDA device");
}

TEST(CudaModuleCode, TheNewestPtxTheGpuCanCompile) {
  // The compiler's default (--gpu-arch sm_80,sm_90 --gpu-format isa).
  std::vector<Section> ptx = {gpuModule("m", "compute_80"),
                              gpuModule("m", "compute_90")};
  EXPECT_EQ(chosen(ptx, 9, 0), "compute_90");
  EXPECT_EQ(chosen(ptx, 12, 0), "compute_90");
  EXPECT_EQ(chosen(ptx, 8, 6), "compute_80");
  EXPECT_EQ(chosen(ptx, 8, 0), "compute_80");
  EXPECT_EQ(chosen(ptx, 7, 5),
            "error: GPU module 'm' has code for compute_80, compute_90 only; "
            "a GPU of sm_75 needs a cubin for sm_75 or PTX for compute_75 or "
            "older (compile with --gpu-arch sm_75)");
}

TEST(CudaModuleCode, ACubinForExactlyThisGpuComesFirst) {
  std::vector<Section> both = {gpuModule("m", "compute_80"),
                               gpuModule("m", "sm_80"),
                               gpuModule("m", "sm_90")};
  EXPECT_EQ(chosen(both, 9, 0), "sm_90");
  EXPECT_EQ(chosen(both, 8, 0), "sm_80");
  // No cubin for sm_86: the PTX, compiled by the driver.
  EXPECT_EQ(chosen(both, 8, 6), "compute_80");
  // A cubin for another GPU is never taken.
  EXPECT_EQ(chosen({gpuModule("m", "sm_80")}, 8, 6).rfind("error: ", 0), 0u);
}

TEST(CudaModuleCode, ArchSpecificPtxOnlyForThatGpu) {
  std::vector<Section> sections = {gpuModule("m", "compute_80"),
                                   gpuModule("m", "compute_90a")};
  EXPECT_EQ(chosen(sections, 9, 0), "compute_90a");
  EXPECT_EQ(chosen(sections, 10, 0), "compute_80");
}

TEST(CudaModuleCode, OnlyThatModulesSections) {
  std::vector<Section> sections = {gpuModule("other", "compute_80"),
                                   {"weights", "", "", nullptr, 0}};
  EXPECT_EQ(chosen(sections, 9, 0),
            "error: GPU module 'm' has no code (no gpu-module section of that "
            "name)");
  sections.push_back(gpuModule("m", "compute_90"));
  EXPECT_EQ(chosen(sections, 9, 0), "compute_90");
}

namespace {

/// data[i] += 1 for i < n; any GPU from sm_50 compiles it.
const char kAddOnePtx[] = R"(.version 7.0
.target sm_50
.address_size 64

.visible .entry add_one(.param .u64 data, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<3>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [data];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.s32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.s32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.f32 %f1, [%rd4];
  add.f32 %f2, %f1, 0f3F800000;
  st.global.f32 [%rd4], %f2;
DONE:
  ret;
}
)";

Section ptxSection(const std::string &module, const char *text, size_t size) {
  return {"gpu-module", "compute_50", module,
          reinterpret_cast<const uint8_t *>(text), size};
}

/// The default GPU, or why there is none (the GPU tests skip then).
StatusOr<std::shared_ptr<Device>> gpuOrSkipReason() {
  return createCudaDevice();
}

} // namespace

TEST(CudaGpu, TheDeviceDescribesItsGpu) {
  auto device = gpuOrSkipReason();
  if (!device.isOk())
    GTEST_SKIP() << "no GPU: " << device.status().message();
  EXPECT_EQ((*device)->kind(), DeviceKind::Cuda);
  EXPECT_TRUE(std::regex_match((*device)->name(),
                               std::regex(R"(cuda:[0-9]+ \(.+, sm_[0-9]+\))")))
      << (*device)->name();
  auto buffer = (*device)->allocate(1 << 20);
  ASSERT_TRUE(buffer.isOk()) << buffer.status().message();
  EXPECT_NE((*buffer)->data(), nullptr);
  EXPECT_EQ((*buffer)->size(), size_t(1) << 20);
  auto empty = (*device)->allocate(0);
  ASSERT_TRUE(empty.isOk()) << empty.status().message();
  auto stream = (*device)->createStream();
  Status synced = stream->synchronize();
  EXPECT_TRUE(synced.isOk()) << synced.message();

  {
    ScopedEnv ordinal("VITC_CUDA_DEVICE", "gpu0");
    expectOneLine(createCudaDevice().status(),
                  "invalid VITC_CUDA_DEVICE 'gpu0'");
  }
  expectOneLine(createCudaDevice(4096).status(), "no CUDA GPU cuda:4096");
}

TEST(CudaGpu, TheBackendCopiesAndLaunchesAPtxKernel) {
  auto device = gpuOrSkipReason();
  if (!device.isOk())
    GTEST_SKIP() << "no GPU: " << device.status().message();
  auto backend = createCudaBackend(
      **device, {ptxSection("test", kAddOnePtx, sizeof kAddOnePtx)},
      {{"test", "add_one"}});
  ASSERT_TRUE(backend.isOk()) << backend.status().message();
  GpuBackend &gpu = **backend;
  EXPECT_EQ(gpu.name(), (*device)->name());

  constexpr uint32_t n = 1000;
  std::vector<float> host(n);
  for (uint32_t i = 0; i < n; ++i)
    host[i] = float(i);
  auto a = gpu.allocate(n * sizeof(float));
  auto b = gpu.allocate(n * sizeof(float));
  ASSERT_TRUE(a.isOk() && b.isOk());
  EXPECT_EQ(*a % 256, 0u);
  ASSERT_TRUE(gpu.copyToDevice(*a, host.data(), n * sizeof(float)).isOk());

  // a += 1, in 4 blocks of 256 threads (the last partly idle).
  DevicePtr data = *a;
  uint32_t count = n;
  void *params[] = {&data, &count};
  Status launched = gpu.launch(0, {4, 1, 1}, {256, 1, 1}, 0, params);
  ASSERT_TRUE(launched.isOk()) << launched.message();
  // More than the default 48 KiB of dynamic shared memory: allowed first.
  launched = gpu.launch(0, {4, 1, 1}, {256, 1, 1}, 64 * 1024, params);
  ASSERT_TRUE(launched.isOk()) << launched.message();
  // b = a, then within b: b[1..] = b[0..n-1) (overlapping ranges).
  ASSERT_TRUE(gpu.copyOnDevice(*b, *a, n * sizeof(float)).isOk());
  ASSERT_TRUE(
      gpu.copyOnDevice(*b + sizeof(float), *b, (n - 1) * sizeof(float)).isOk());
  Status synced = gpu.synchronize();
  ASSERT_TRUE(synced.isOk()) << synced.message();

  std::vector<float> result(n);
  ASSERT_TRUE(gpu.copyToHost(result.data(), *a, n * sizeof(float)).isOk());
  for (uint32_t i = 0; i < n; ++i)
    ASSERT_EQ(result[i], float(i) + 2) << "a[" << i << "]";
  ASSERT_TRUE(gpu.copyToHost(result.data(), *b, n * sizeof(float)).isOk());
  EXPECT_EQ(result[0], 2.0f);
  for (uint32_t i = 1; i < n; ++i)
    ASSERT_EQ(result[i], float(i - 1) + 2) << "b[" << i << "]";

  expectOneLine(gpu.launch(7, {1, 1, 1}, {1, 1, 1}, 0, params), "no kernel #7");
  gpu.free(*a);
  gpu.free(*b);
}

TEST(CudaGpu, BadModulesAreNamedErrors) {
  auto device = gpuOrSkipReason();
  if (!device.isOk())
    GTEST_SKIP() << "no GPU: " << device.status().message();
  // PTX without its NUL.
  auto unterminated = createCudaBackend(
      **device, {ptxSection("test", kAddOnePtx, std::strlen(kAddOnePtx))},
      {{"test", "add_one"}});
  expectOneLine(unterminated.status(),
                "GPU module 'test' (compute_50): the PTX text is not "
                "NUL-terminated");
  // PTX the JIT rejects: the error names the module and the driver's error.
  const char broken[] = ".version 7.0\n.target sm_50\n.address_size 64\n"
                        ".visible .entry k() { bogus; }\n";
  auto invalid =
      createCudaBackend(**device, {ptxSection("broken", broken, sizeof broken)},
                        {{"broken", "k"}});
  expectOneLine(invalid.status(), "GPU module 'broken' (compute_50): "
                                  "cuModuleLoadDataEx: CUDA_ERROR_INVALID_PTX");
  // A kernel the module does not have.
  auto missing = createCudaBackend(
      **device, {ptxSection("test", kAddOnePtx, sizeof kAddOnePtx)},
      {{"test", "add_two"}});
  expectOneLine(missing.status(), "GPU module 'test' has no kernel 'add_two': "
                                  "cuModuleGetFunction: CUDA_ERROR_NOT_FOUND");
}
