//===- ArtifactLoaderTest.cpp - the loader's checks on bad artifacts ------===//
//
// Builds artifacts byte by byte (header + manifest, no code) and checks that
// the loader refuses each defect with a message naming the file and the
// problem, and that the CPU device refuses targets and features it lacks.
//
//===----------------------------------------------------------------------===//
#include "vitc/runtime/ArtifactFormat.h"
#include "vitc/runtime/CpuFeatures.h"
#include "vitc/runtime/Session.h"

#include "vitc/artifact/artifact.pb.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace vitc;

namespace {

std::string tempPath(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("vitc-loader-test-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

artifact::Manifest validManifest() {
  artifact::Manifest manifest;
  manifest.set_format_version(artifact::kFormatVersion);
  manifest.set_target("cpu");
  manifest.set_cpu("x86-64");
  manifest.set_triple("x86_64-pc-linux-gnu");
  manifest.set_mode("inference");
  manifest.set_entry(artifact::kEntrySymbol);
  artifact::TensorInfo *input = manifest.add_inputs();
  input->set_name("x");
  input->set_dtype("f32");
  input->add_shape(-1);
  input->add_shape(4);
  artifact::Section *weights = manifest.add_sections();
  weights->set_kind("weights");
  weights->set_offset(artifact::kSectionAlignment);
  weights->set_size(16);
  return manifest;
}

/// header | pad | 16 weight bytes | manifest, like the compiler writes it.
std::string serialize(const artifact::Manifest &manifest,
                      uint32_t version = artifact::kFormatVersion) {
  std::string manifestBytes = manifest.SerializeAsString();
  artifact::FileHeader header;
  std::memcpy(header.magic, artifact::kMagic, sizeof(header.magic));
  header.formatVersion = version;
  header.headerSize = sizeof(header);
  header.manifestOffset = artifact::kSectionAlignment + 16;
  header.manifestSize = manifestBytes.size();
  std::string bytes(reinterpret_cast<const char *>(&header), sizeof(header));
  bytes.resize(header.manifestOffset, '\0');
  return bytes + manifestBytes;
}

std::string writeFile(const std::string &name, const std::string &bytes) {
  std::string path = tempPath(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string openError(const std::string &path) {
  auto artifact = rt::Artifact::open(path);
  std::filesystem::remove(path);
  EXPECT_FALSE(artifact.isOk());
  return artifact.isOk() ? "" : artifact.status().message();
}

TEST(ArtifactLoader, AcceptsAWellFormedFile) {
  std::string path = writeFile("ok.vtc", serialize(validManifest()));
  auto artifact = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(artifact.isOk()) << artifact.status().message();
  ASSERT_EQ((*artifact)->inputs().size(), 1u);
  EXPECT_EQ((*artifact)->inputs()[0].name, "x");
  EXPECT_EQ((*artifact)->inputs()[0].shape, (std::vector<int64_t>{-1, 4}));
  ASSERT_NE((*artifact)->section("weights"), nullptr);
  EXPECT_EQ((*artifact)->section("weights")->size, 16u);
}

TEST(ArtifactLoader, RejectsBadMagic) {
  std::string bytes = serialize(validManifest());
  bytes[0] = 'X';
  std::string path = writeFile("magic.vtc", bytes);
  std::string error = openError(path);
  EXPECT_NE(error.find("is not a vitc artifact (bad magic number)"),
            std::string::npos) << error;
  EXPECT_NE(error.find(path), std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsOtherFormatVersions) {
  std::string error =
      openError(writeFile("version.vtc", serialize(validManifest(), 99)));
  EXPECT_NE(error.find("has artifact format version 99, but this runtime "
                       "reads version 1"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsTruncatedFiles) {
  std::string bytes = serialize(validManifest());
  // Cut inside the manifest, then inside the header.
  std::string error =
      openError(writeFile("cut.vtc", bytes.substr(0, bytes.size() - 5)));
  EXPECT_NE(error.find("is truncated: the manifest ends at"),
            std::string::npos) << error;
  error = openError(writeFile("cut-header.vtc", bytes.substr(0, 20)));
  EXPECT_NE(error.find("is truncated (incomplete header)"), std::string::npos)
      << error;
  error = openError(writeFile("empty.vtc", ""));
  EXPECT_NE(error.find("bad magic number"), std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsSectionsOutsideTheFile) {
  artifact::Manifest manifest = validManifest();
  manifest.mutable_sections(0)->set_size(1 << 20);
  std::string error = openError(writeFile("section.vtc", serialize(manifest)));
  EXPECT_NE(error.find("is truncated: the weights section ends at"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsACorruptManifest) {
  std::string bytes = serialize(validManifest());
  bytes.replace(bytes.size() - 8, 8, std::string(8, '\xff'));
  std::string error = openError(writeFile("corrupt.vtc", bytes));
  EXPECT_NE(error.find("has a corrupt manifest"), std::string::npos) << error;
}

/// The CPU device's verdict on an artifact with `manifest`.
std::string compatibilityError(const artifact::Manifest &manifest) {
  std::string path = writeFile("compat.vtc", serialize(manifest));
  auto artifact = rt::Artifact::open(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(artifact.isOk());
  if (!artifact.isOk())
    return "";
  rt::Status status = rt::createCpuDevice()->checkCompatible(**artifact);
  return status.isOk() ? "" : status.message();
}

TEST(CpuDevice, RejectsOtherTargets) {
  artifact::Manifest manifest = validManifest();
  manifest.set_target("cuda");
  std::string error = compatibilityError(manifest);
  EXPECT_NE(error.find("was compiled for target 'cuda'"), std::string::npos)
      << error;
}

TEST(CpuDevice, NamesTheCpuFeaturesTheHostLacks) {
  const char *missing = nullptr;
  for (const cpu::X86Feature &feature : cpu::kX86Features)
    if (!cpu::hostHasFeature(feature.name)) {
      missing = feature.name;
      break;
    }
  if (!missing)
    GTEST_SKIP() << "this CPU has every feature the runtime checks";
  artifact::Manifest manifest = validManifest();
  manifest.set_cpu("future-cpu");
  manifest.add_cpu_features("sse2");
  manifest.add_cpu_features(missing);
  std::string error = compatibilityError(manifest);
  EXPECT_EQ(error.find("artifact built for cpu 'future-cpu' needs " +
                       std::string(missing) + ", which this CPU lacks"),
            0u) << error;
}

TEST(CpuDevice, AcceptsFeaturesTheHostHas) {
  ASSERT_TRUE(cpu::hostHasFeature("sse2")); // every x86-64 CPU
  artifact::Manifest manifest = validManifest();
  manifest.add_cpu_features("sse2");
  EXPECT_EQ(compatibilityError(manifest), "");
  manifest.add_cpu_features("no-such-feature");
  EXPECT_NE(compatibilityError(manifest).find("which this runtime cannot check"),
            std::string::npos);
}

} // namespace
