//===- ArtifactLoaderTest.cpp - the loader's checks on bad artifacts ------===//
//
// Builds artifacts byte by byte (header + weights + manifest, no code) and
// checks that the loader refuses each defect with a message naming the file
// and the problem (also in the functions, roles and training information),
// and that the CPU device refuses targets and features it lacks.
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
#include <optional>
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
  artifact::Function *main = manifest.add_functions();
  main->set_name("main");
  main->set_entry(std::string(artifact::kEntryPrefix) + "main");
  artifact::TensorInfo *input = main->add_inputs();
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

/// The 16 bytes of the weights section: four f32.
const float kWeights[4] = {1.5f, -2.0f, 0.25f, 8.0f};

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
  bytes.resize(artifact::kSectionAlignment, '\0');
  bytes.append(reinterpret_cast<const char *>(kWeights), sizeof(kWeights));
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
  ASSERT_EQ((*artifact)->functions().size(), 1u);
  const rt::FunctionSpec &main = (*artifact)->functions()[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.entry, "vitc_entry_main");
  ASSERT_EQ(main.inputs.size(), 1u);
  EXPECT_EQ(main.inputs[0].name, "x");
  EXPECT_EQ(main.inputs[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ(main.inputs[0].role, "");
  EXPECT_EQ((*artifact)->mode(), "inference");
  EXPECT_FALSE((*artifact)->training().has_value());
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
                       "reads version " +
                       std::to_string(artifact::kFormatVersion)),
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

artifact::TensorInfo *addTensor(
    google::protobuf::RepeatedPtrField<artifact::TensorInfo> *tensors,
    const std::string &name, const std::string &role,
    const std::string &updates = "") {
  artifact::TensorInfo *tensor = tensors->Add();
  tensor->set_name(name);
  tensor->set_dtype("f32");
  tensor->add_shape(4);
  tensor->set_role(role);
  tensor->set_updates(updates);
  return tensor;
}

/// A training artifact: train_step(w: param, m: opt_state, x: data, lr)
/// -> (loss, w', m') and eval_step(w, x) -> (loss), with w's initial value
/// the whole weights section.
artifact::Manifest trainManifest() {
  artifact::Manifest manifest = validManifest();
  manifest.set_mode("train");
  manifest.clear_functions();
  artifact::Function *train = manifest.add_functions();
  train->set_name("train_step");
  train->set_entry("vitc_entry_train_step");
  addTensor(train->mutable_inputs(), "w", "param");
  addTensor(train->mutable_inputs(), "m", "opt_state");
  addTensor(train->mutable_inputs(), "x", "data");
  addTensor(train->mutable_inputs(), "lr", "lr")->clear_shape();
  addTensor(train->mutable_outputs(), "loss", "loss")->clear_shape();
  addTensor(train->mutable_outputs(), "w", "param", "w");
  addTensor(train->mutable_outputs(), "m", "opt_state", "m");
  artifact::Function *eval = manifest.add_functions();
  eval->set_name("eval_step");
  eval->set_entry("vitc_entry_eval_step");
  addTensor(eval->mutable_inputs(), "w", "param");
  addTensor(eval->mutable_inputs(), "x", "data");
  addTensor(eval->mutable_outputs(), "loss", "loss")->clear_shape();
  artifact::Training *training = manifest.mutable_training();
  training->set_loss("cross_entropy");
  training->set_optimizer("adamw");
  training->set_lr(0.5f);
  training->set_num_classes(7);
  artifact::Weight *initial = training->add_initial_values();
  initial->set_name("w");
  initial->set_offset(0);
  initial->set_bytes(16);
  initial->set_dtype("f32");
  initial->add_shape(4);
  return manifest;
}

std::string manifestError(const std::string &name,
                          const artifact::Manifest &manifest) {
  return openError(writeFile(name, serialize(manifest)));
}

TEST(ArtifactLoader, ReadsSeveralFunctionsWithRoles) {
  std::string path = writeFile("train.vtc", serialize(trainManifest()));
  auto opened = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  const rt::Artifact &artifact = **opened;
  EXPECT_EQ(artifact.mode(), "train");
  ASSERT_EQ(artifact.functions().size(), 2u);
  EXPECT_EQ(artifact.findFunction("train_step"), std::optional<size_t>(0));
  EXPECT_EQ(artifact.findFunction("eval_step"), std::optional<size_t>(1));
  EXPECT_EQ(artifact.findFunction("main"), std::nullopt);
  const rt::FunctionSpec &train = artifact.functions()[0];
  EXPECT_EQ(train.entry, "vitc_entry_train_step");
  ASSERT_EQ(train.inputs.size(), 4u);
  EXPECT_EQ(train.inputs[1].role, "opt_state");
  EXPECT_EQ(train.inputs[3].shape, std::vector<int64_t>{});
  ASSERT_EQ(train.outputs.size(), 3u);
  EXPECT_EQ(train.outputs[2].role, "opt_state");
  EXPECT_EQ(train.outputs[2].updates, "m");
  EXPECT_EQ(train.outputs[0].updates, "");
  EXPECT_EQ(artifact.functions()[1].outputs.size(), 1u);
}

TEST(ArtifactLoader, ReadsTheSharding) {
  // Artifacts from before the field are not sharded.
  std::string path = writeFile("plain.vtc", serialize(trainManifest()));
  auto plain = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(plain.isOk()) << plain.status().message();
  EXPECT_EQ((*plain)->training()->sharding, "none");

  artifact::Manifest manifest = trainManifest();
  manifest.mutable_training()->set_sharding("ddp");
  path = writeFile("ddp.vtc", serialize(manifest));
  auto ddp = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(ddp.isOk()) << ddp.status().message();
  EXPECT_EQ((*ddp)->training()->sharding, "ddp");

  manifest.mutable_training()->set_sharding("fsdp");
  path = writeFile("fsdp.vtc", serialize(manifest));
  auto fsdp = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(fsdp.isOk()) << fsdp.status().message();
  EXPECT_EQ((*fsdp)->training()->sharding, "fsdp");

  manifest.mutable_training()->set_sharding("tp");
  EXPECT_NE(manifestError("tp.vtc", manifest)
                .find("unknown sharding 'tp' (this runtime runs none, ddp and fsdp)"),
            std::string::npos);
}

TEST(ArtifactLoader, ReadsTrainingInfoAndInitialValuesInPlace) {
  artifact::Manifest manifest = trainManifest();
  // A second initial value: the last two floats.
  artifact::Weight *tail = manifest.mutable_training()->add_initial_values();
  tail->set_name("tail");
  tail->set_offset(8);
  tail->set_bytes(8);
  tail->set_dtype("f32");
  tail->add_shape(2);
  std::string path = writeFile("train-init.vtc", serialize(manifest));
  auto opened = rt::Artifact::open(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(opened.isOk()) << opened.status().message();
  const rt::Artifact &artifact = **opened;
  ASSERT_TRUE(artifact.training().has_value());
  const rt::TrainingSpec &training = *artifact.training();
  EXPECT_EQ(training.loss, "cross_entropy");
  EXPECT_EQ(training.optimizer, "adamw");
  EXPECT_EQ(training.lr, 0.5f);
  EXPECT_EQ(training.numClasses, 7);
  const rt::Section *weights = artifact.section("weights");
  const rt::InitialValue *w = training.findInitialValue("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->data, weights->data);
  EXPECT_EQ(w->shape, std::vector<int64_t>{4});
  EXPECT_EQ(std::memcmp(w->data, kWeights, sizeof(kWeights)), 0);
  const rt::InitialValue *t = training.findInitialValue("tail");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->data, weights->data + 8);
  EXPECT_EQ(static_cast<const float *>(t->data)[1], kWeights[3]);
  EXPECT_EQ(training.findInitialValue("m"), nullptr);
}

TEST(ArtifactLoader, RejectsInitialValuesOutsideTheWeights) {
  artifact::Manifest manifest = trainManifest();
  artifact::Weight *w = manifest.mutable_training()->mutable_initial_values(0);
  w->set_offset(4);
  std::string error = manifestError("init-oob.vtc", manifest);
  EXPECT_NE(error.find("initial value 'w' lies outside the weights section "
                       "(4 + 16 > 16 bytes)"),
            std::string::npos) << error;
  // An offset that would wrap around when added to the size.
  w->set_offset(~uint64_t(0) - 4);
  error = manifestError("init-wrap.vtc", manifest);
  EXPECT_NE(error.find("initial value 'w' lies outside the weights section"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsInconsistentInitialValues) {
  artifact::Manifest manifest = trainManifest();
  manifest.mutable_training()->mutable_initial_values(0)->set_bytes(12);
  std::string error = manifestError("init-bytes.vtc", manifest);
  EXPECT_NE(error.find("initial value 'w' has 12 bytes, but f32 [4] needs 16"),
            std::string::npos) << error;

  manifest = trainManifest();
  artifact::Weight *w = manifest.mutable_training()->mutable_initial_values(0);
  w->set_bytes(8);
  w->set_shape(0, 2);
  error = manifestError("init-shape.vtc", manifest);
  EXPECT_NE(error.find("function 'train_step': param 'w' is f32 [4], but its "
                       "initial value is f32 [2]"),
            std::string::npos) << error;

  manifest = trainManifest();
  manifest.mutable_training()->mutable_initial_values(0)->set_name("v");
  error = manifestError("init-missing.vtc", manifest);
  EXPECT_NE(error.find("function 'train_step': param 'w' has no initial value"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsAModeWithoutItsTrainingInfo) {
  artifact::Manifest manifest = trainManifest();
  manifest.clear_training();
  std::string error = manifestError("no-training.vtc", manifest);
  EXPECT_NE(error.find("mode 'train' but no training information"),
            std::string::npos) << error;
  manifest = trainManifest();
  manifest.set_mode("inference");
  error = manifestError("stray-training.vtc", manifest);
  EXPECT_NE(error.find("training information in an inference artifact"),
            std::string::npos) << error;
  manifest = validManifest();
  manifest.set_mode("finetune");
  error = manifestError("mode.vtc", manifest);
  EXPECT_NE(error.find("unknown mode 'finetune' (inference, train)"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsUnknownRoles) {
  artifact::Manifest manifest = trainManifest();
  manifest.mutable_functions(0)->mutable_inputs(2)->set_role("images");
  std::string error = manifestError("role.vtc", manifest);
  EXPECT_NE(error.find("function 'train_step': input 'x' has unknown role "
                       "'images' (input roles: "),
            std::string::npos) << error;
  EXPECT_NE(error.find(tempPath("role.vtc")), std::string::npos) << error;
  // An input role on an output.
  manifest = trainManifest();
  manifest.mutable_functions(1)->mutable_outputs(0)->set_role("data");
  error = manifestError("output-role.vtc", manifest);
  EXPECT_NE(error.find("function 'eval_step': output 'loss' has unknown role "
                       "'data' (output roles: "),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsBadUpdates) {
  artifact::Manifest manifest = trainManifest();
  manifest.mutable_functions(0)->mutable_outputs(1)->set_updates("q");
  std::string error = manifestError("updates.vtc", manifest);
  EXPECT_NE(error.find("function 'train_step': output 'w' updates 'q', which "
                       "is not an input of the function"),
            std::string::npos) << error;

  manifest = trainManifest();
  manifest.mutable_functions(0)->mutable_outputs(2)->set_updates("w");
  error = manifestError("updates-twice.vtc", manifest);
  EXPECT_NE(error.find("function 'train_step': input 'w' is updated by more "
                       "than one output"),
            std::string::npos) << error;

  manifest = trainManifest();
  manifest.mutable_functions(0)->mutable_outputs(1)->set_shape(0, 5);
  error = manifestError("updates-shape.vtc", manifest);
  EXPECT_NE(error.find("output 'w' (f32 [5]) cannot update input 'w' (f32 "
                       "[4])"),
            std::string::npos) << error;

  manifest = trainManifest();
  manifest.mutable_functions(0)->mutable_inputs(0)->set_updates("m");
  error = manifestError("updates-input.vtc", manifest);
  EXPECT_NE(error.find("input 'w' names an input to update ('m'), which only "
                       "outputs can"),
            std::string::npos) << error;
}

TEST(ArtifactLoader, RejectsBadFunctionLists) {
  artifact::Manifest manifest = validManifest();
  manifest.clear_functions();
  std::string error = manifestError("no-function.vtc", manifest);
  EXPECT_NE(error.find("has no function"), std::string::npos) << error;

  manifest = validManifest();
  manifest.mutable_functions(0)->clear_entry();
  error = manifestError("no-entry.vtc", manifest);
  EXPECT_NE(error.find("function 'main': no entry symbol"), std::string::npos)
      << error;

  manifest = validManifest();
  *manifest.add_functions() = manifest.functions(0);
  error = manifestError("twice.vtc", manifest);
  EXPECT_NE(error.find("has two functions named 'main'"), std::string::npos)
      << error;
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
  manifest.set_target("rocm");
  std::string error = compatibilityError(manifest);
  EXPECT_NE(error.find("was compiled for target 'rocm'"), std::string::npos)
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
