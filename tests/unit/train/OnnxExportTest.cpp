//===- OnnxExportTest.cpp - trained values replace the right initializers -===//
#include "OnnxExport.h"

#include "vitc_runtime.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <onnx/onnx_pb.h>
#include <unistd.h>

using namespace vitc::train;
namespace fs = std::filesystem;
using onnx::TensorProto;

namespace {

class OnnxExportTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("vitc-export-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }

  /// y = x * w + b with initializers w (f32 [2,3], float_data), b (f32 [3],
  /// raw or external data), and an unrelated initializer `shape` (i64).
  onnx::ModelProto model(bool externalBias) {
    onnx::ModelProto m;
    m.set_ir_version(8);
    m.add_opset_import()->set_version(17);
    m.set_producer_name("test");
    onnx::GraphProto *g = m.mutable_graph();
    g->set_name("g");
    onnx::NodeProto *node = g->add_node();
    node->set_op_type("MatMul");
    node->add_input("x");
    node->add_input("w");
    node->add_output("y");
    TensorProto *w = g->add_initializer();
    w->set_name("w");
    w->set_data_type(TensorProto::FLOAT);
    w->add_dims(2);
    w->add_dims(3);
    for (int i = 0; i < 6; ++i)
      w->add_float_data(static_cast<float>(i));
    TensorProto *b = g->add_initializer();
    b->set_name("b");
    b->set_data_type(TensorProto::FLOAT16);
    b->add_dims(3);
    std::string half(6, '\0');
    if (externalBias) {
      std::ofstream(dir + "/weights.bin", std::ios::binary) << "0123" << half;
      b->set_data_location(TensorProto::EXTERNAL);
      for (auto [k, v] : {std::pair<const char *, const char *>{"location", "weights.bin"},
                          {"offset", "4"}, {"length", "6"}}) {
        auto *entry = b->add_external_data();
        entry->set_key(k);
        entry->set_value(v);
      }
    } else {
      b->set_raw_data(half);
    }
    TensorProto *shape = g->add_initializer();
    shape->set_name("shape");
    shape->set_data_type(TensorProto::INT64);
    shape->add_dims(2);
    shape->add_int64_data(-1);
    shape->add_int64_data(3);
    return m;
  }

  std::string save(const onnx::ModelProto &m) {
    std::string path = dir + "/model.onnx";
    std::ofstream out(path, std::ios::binary);
    m.SerializeToOstream(&out);
    return path;
  }

  onnx::ModelProto load(const std::string &path) {
    onnx::ModelProto m;
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(m.ParseFromIstream(&in));
    return m;
  }

  const TensorProto &initializer(const onnx::ModelProto &m, const std::string &name) {
    for (const TensorProto &t : m.graph().initializer())
      if (t.name() == name)
        return t;
    ADD_FAILURE() << "no initializer " << name;
    return m.graph().initializer(0);
  }

  std::string dir;
  std::vector<float> w{0.5f, -1.f, 2.f, 3.25f, 1e-3f, -7.f};
  // 1, -2 and a value that rounds to even in f16 (1 + 2^-11 -> 1).
  std::vector<float> b{1.f, -2.f, 1.f + 1.f / 2048};
  std::vector<TrainedTensor> trained() {
    return {{"w", VITC_DTYPE_F32, {2, 3}, w.data()},
            {"b", VITC_DTYPE_F32, {3}, b.data()}};
  }
};

} // namespace

TEST_F(OnnxExportTest, ReplacesTrainedInitializersAndKeepsTheRest) {
  std::string source = save(model(false));
  std::string out = dir + "/trained.onnx", error;
  ASSERT_TRUE(exportOnnx(source, out, trained(), error)) << error;
  onnx::ModelProto m = load(out);
  EXPECT_EQ(m.producer_name(), "test");
  EXPECT_EQ(m.opset_import(0).version(), 17);
  ASSERT_EQ(m.graph().node_size(), 1);
  EXPECT_EQ(m.graph().node(0).op_type(), "MatMul");

  const TensorProto &tw = initializer(m, "w");
  EXPECT_EQ(tw.data_type(), TensorProto::FLOAT);
  EXPECT_EQ(tw.float_data_size(), 0);
  ASSERT_EQ(tw.raw_data().size(), 24u);
  EXPECT_EQ(0, std::memcmp(tw.raw_data().data(), w.data(), 24));

  // f16 bits of 1, -2 and 1 (round to nearest even).
  const TensorProto &tb = initializer(m, "b");
  EXPECT_EQ(tb.data_type(), TensorProto::FLOAT16);
  uint16_t half[3];
  ASSERT_EQ(tb.raw_data().size(), sizeof half);
  std::memcpy(half, tb.raw_data().data(), sizeof half);
  EXPECT_EQ(half[0], 0x3c00);
  EXPECT_EQ(half[1], 0xc000);
  EXPECT_EQ(half[2], 0x3c00);

  const TensorProto &ts = initializer(m, "shape");
  ASSERT_EQ(ts.int64_data_size(), 2);
  EXPECT_EQ(ts.int64_data(0), -1);
}

TEST_F(OnnxExportTest, ExternalDataIsWrittenInline) {
  std::string source = save(model(true));
  std::string out = dir + "/trained.onnx", error;
  // Only w is trained: b's external bytes must be read and inlined.
  std::vector<TrainedTensor> values = {trained()[0]};
  ASSERT_TRUE(exportOnnx(source, out, values, error)) << error;
  fs::remove(dir + "/weights.bin");
  onnx::ModelProto m = load(out);
  const TensorProto &tb = initializer(m, "b");
  EXPECT_NE(tb.data_location(), TensorProto::EXTERNAL);
  EXPECT_EQ(tb.external_data_size(), 0);
  EXPECT_EQ(tb.raw_data(), std::string(6, '\0'));
}

TEST_F(OnnxExportTest, UnknownNameOrShapeIsAnErrorAndWritesNothing) {
  std::string source = save(model(false));
  std::string out = dir + "/trained.onnx", error;
  std::vector<TrainedTensor> values = {{"fc.weight", VITC_DTYPE_F32, {2, 3}, w.data()}};
  EXPECT_FALSE(exportOnnx(source, out, values, error));
  EXPECT_NE(error.find("no initializer 'fc.weight'"), std::string::npos) << error;
  values = {{"w", VITC_DTYPE_F32, {3, 2}, w.data()}};
  EXPECT_FALSE(exportOnnx(source, out, values, error));
  EXPECT_NE(error.find("'w'"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(OnnxExportTest, BadSourceIsAnError) {
  std::ofstream(dir + "/bad.onnx") << "not a model";
  std::string error;
  EXPECT_FALSE(exportOnnx(dir + "/bad.onnx", dir + "/out.onnx", trained(), error));
  EXPECT_NE(error.find("bad.onnx"), std::string::npos) << error;
  EXPECT_FALSE(exportOnnx(dir + "/absent.onnx", dir + "/out.onnx", trained(), error));
  EXPECT_NE(error.find("absent.onnx"), std::string::npos) << error;
}
