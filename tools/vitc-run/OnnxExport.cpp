//===- OnnxExport.cpp - trained weights back into the source ONNX model ---===//
#include "OnnxExport.h"

#include "vitc/train/AtomicFile.h"

#include "vitc_runtime.h"

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <onnx/onnx_pb.h>
#include <sstream>

namespace vitc::train {

namespace {

using onnx::TensorProto;
namespace fs = std::filesystem;

/// ONNX's element type of a vitc dtype.
int onnxType(int32_t dtype) {
  switch (dtype) {
  case VITC_DTYPE_F32: return TensorProto::FLOAT;
  case VITC_DTYPE_F16: return TensorProto::FLOAT16;
  case VITC_DTYPE_BF16: return TensorProto::BFLOAT16;
  case VITC_DTYPE_F64: return TensorProto::DOUBLE;
  case VITC_DTYPE_I64: return TensorProto::INT64;
  case VITC_DTYPE_I32: return TensorProto::INT32;
  case VITC_DTYPE_I8: return TensorProto::INT8;
  case VITC_DTYPE_U8: return TensorProto::UINT8;
  case VITC_DTYPE_I1: return TensorProto::BOOL;
  }
  return TensorProto::UNDEFINED;
}

/// Rounds an f32 to its upper 16 bits, to nearest even (bf16).
uint16_t toBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((bits >> 16) | 0x40); // quiet NaN
  return static_cast<uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

/// IEEE f32 -> f16, round to nearest even, with subnormals and overflow.
uint16_t toF16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  uint32_t absBits = bits & 0x7fffffff;
  if (absBits > 0x7f800000)
    return sign | 0x7e00;
  if (absBits >= 0x477ff000) // rounds to >= 65520: infinity
    return sign | 0x7c00;
  if (absBits < 0x38800000) { // below f16's smallest normal: subnormal
    float magnitude;
    std::memcpy(&magnitude, &absBits, 4);
    // Adding 0.5 aligns the subnormal's bits to the low mantissa, rounding
    // to nearest even in the FPU.
    float shifted = magnitude + 0.5f;
    uint32_t s;
    std::memcpy(&s, &shifted, 4);
    return sign | static_cast<uint16_t>(s - 0x3f000000);
  }
  uint32_t rounded = absBits + 0xfff + ((absBits >> 13) & 1);
  return sign | static_cast<uint16_t>((rounded - 0x38000000) >> 13);
}

/// The bytes of `t` converted to ONNX element type `target`, or false.
bool convert(const TrainedTensor &t, int64_t count, int target,
             std::string &bytes) {
  size_t size = vitc_dtype_size(static_cast<vitc_dtype>(t.dtype));
  if (onnxType(t.dtype) == target) {
    bytes.assign(static_cast<const char *>(t.data), size * count);
    return true;
  }
  if (t.dtype != VITC_DTYPE_F32)
    return false;
  const float *in = static_cast<const float *>(t.data);
  auto fill = [&](auto convertOne) {
    using Out = decltype(convertOne(0.0f));
    bytes.resize(sizeof(Out) * count);
    for (int64_t i = 0; i < count; ++i) {
      Out value = convertOne(in[i]);
      std::memcpy(&bytes[sizeof(Out) * i], &value, sizeof(Out));
    }
  };
  if (target == TensorProto::DOUBLE)
    fill([](float x) { return static_cast<double>(x); });
  else if (target == TensorProto::FLOAT16)
    fill(toF16);
  else if (target == TensorProto::BFLOAT16)
    fill(toBf16);
  else
    return false;
  return true;
}

/// Makes `t` hold exactly `bytes` as raw_data.
void setRawData(TensorProto &t, std::string bytes) {
  t.clear_float_data();
  t.clear_int32_data();
  t.clear_string_data();
  t.clear_int64_data();
  t.clear_double_data();
  t.clear_uint64_data();
  t.clear_external_data();
  t.clear_data_location();
  t.set_raw_data(std::move(bytes));
}

/// Reads an external tensor's bytes (location relative to `modelDir`).
bool readExternal(const TensorProto &t, const fs::path &modelDir,
                  std::string &bytes, std::string &error) {
  std::string location;
  long long offset = 0, length = -1;
  for (const auto &entry : t.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::atoll(entry.value().c_str());
    else if (entry.key() == "length")
      length = std::atoll(entry.value().c_str());
  }
  fs::path path = fs::path(location).is_absolute() ? fs::path(location)
                                                   : modelDir / location;
  std::ifstream in(path, std::ios::binary);
  if (location.empty() || !in) {
    error = "initializer '" + t.name() + "': cannot read external data '" +
            path.string() + "'";
    return false;
  }
  if (length < 0) {
    in.seekg(0, std::ios::end);
    length = static_cast<long long>(in.tellg()) - offset;
  }
  bytes.resize(static_cast<size_t>(std::max(length, 0LL)));
  in.seekg(offset);
  if (length < 0 || !in.read(bytes.data(), length)) {
    error = "initializer '" + t.name() + "': external data '" + path.string() +
            "' is shorter than offset " + std::to_string(offset) +
            " + length " + std::to_string(length);
    return false;
  }
  return true;
}

bool writeAtomically(const std::string &path, const std::string &bytes,
                     std::string &error) {
  AtomicFile file;
  if (!file.open(path, error))
    return false;
  file.write(bytes.data(), bytes.size());
  return file.commit(error); // also reports a failed write
}

/// For models over 2 GB: moves every tensor's data to `dataPath`, which
/// the model then references by its file name.
bool externalize(onnx::ModelProto &model, const std::string &dataPath,
                 std::string &error) {
  AtomicFile file;
  if (!file.open(dataPath, error))
    return false;
  std::string location = fs::path(dataPath).filename().string();
  uint64_t offset = 0;
  for (TensorProto &t : *model.mutable_graph()->mutable_initializer()) {
    if (!t.has_raw_data())
      continue;
    // Keep tensors 4 KiB-aligned in the file, so readers can map them.
    static const char zeros[4096] = {};
    uint64_t pad = (4096 - offset % 4096) % 4096;
    file.write(zeros, pad);
    offset += pad;
    const std::string &raw = t.raw_data();
    file.write(raw.data(), raw.size());
    uint64_t length = raw.size();
    setRawData(t, "");
    t.clear_raw_data();
    t.set_data_location(TensorProto::EXTERNAL);
    for (auto [key, value] :
         {std::pair<const char *, std::string>{"location", location},
          {"offset", std::to_string(offset)},
          {"length", std::to_string(length)}}) {
      auto *entry = t.add_external_data();
      entry->set_key(key);
      entry->set_value(value);
    }
    offset += length;
  }
  return file.commit(error);
}

} // namespace

bool exportOnnx(const std::string &source, const std::string &output,
                const std::vector<TrainedTensor> &trained, std::string &error) {
  auto fail = [&](const std::string &problem) {
    error = "--export-onnx: " + problem;
    return false;
  };
  std::ifstream in(source, std::ios::binary);
  if (!in)
    return fail("cannot read the source model '" + source + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string bytes = buffer.str();
  onnx::ModelProto model;
  if (bytes.size() > INT_MAX ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return fail("'" + source + "' is not a valid ONNX model (binary protobuf)");
  bytes.clear();
  bytes.shrink_to_fit();

  std::map<std::string, TensorProto *> initializers;
  for (TensorProto &t : *model.mutable_graph()->mutable_initializer())
    initializers[t.name()] = &t;

  fs::path modelDir = fs::path(source).parent_path();
  for (TensorProto &t : *model.mutable_graph()->mutable_initializer())
    if (t.data_location() == TensorProto::EXTERNAL) {
      std::string data;
      if (!readExternal(t, modelDir, data, error))
        return fail("'" + source + "': " + error);
      setRawData(t, std::move(data));
    }

  for (const TrainedTensor &value : trained) {
    auto it = initializers.find(value.name);
    if (it == initializers.end())
      return fail("'" + source + "' has no initializer '" + value.name +
                  "' (was the artifact compiled from another model?)");
    TensorProto &t = *it->second;
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    if (dims != value.shape)
      return fail("initializer '" + value.name + "' of '" + source +
                  "' has another shape than the trained tensor");
    int64_t count = 1;
    for (int64_t d : dims)
      count *= d;
    std::string data;
    if (!convert(value, count, t.data_type(), data))
      return fail("initializer '" + value.name + "' of '" + source +
                  "': cannot store a " +
                  vitc_dtype_name(static_cast<vitc_dtype>(value.dtype)) +
                  " tensor in ONNX element type " +
                  std::to_string(t.data_type()));
    setRawData(t, std::move(data));
  }

  // Protobuf cannot encode messages of 2 GiB or more.
  if (model.ByteSizeLong() >= static_cast<size_t>(INT_MAX) &&
      !externalize(model, output + ".data", error))
    return fail(error);
  std::string serialized;
  if (!model.SerializeToString(&serialized))
    return fail("cannot serialize the model for '" + output + "'");
  if (!writeAtomically(output, serialized, error))
    return fail(error);
  return true;
}

} // namespace vitc::train
