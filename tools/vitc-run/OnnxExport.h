//===- OnnxExport.h - trained weights back into the source ONNX model -----===//
//
// Reads the ONNX model a training artifact was compiled from, replaces each
// initializer named like a trained param or buffer with its trained value
// (converted to the initializer's element type: f32, f64, f16 or bf16) and
// keeps everything else: graph, opsets, metadata, other initializers.
// External data is read and written inline when the model stays under
// protobuf's 2 GB limit; otherwise every tensor's data goes to one file,
// OUT.data, next to the output. Files are written atomically.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUN_ONNXEXPORT_H
#define VITC_RUN_ONNXEXPORT_H

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::train {

struct TrainedTensor {
  std::string name;
  int32_t dtype = 0; // a vitc_dtype value
  std::vector<int64_t> shape;
  const void *data = nullptr;
};

/// Writes `source` with the trained values to `output`. Every tensor must
/// match an initializer of the same shape. Returns false (and `error`
/// naming the file and tensor at fault) on failure; `output` is untouched.
bool exportOnnx(const std::string &source, const std::string &output,
                const std::vector<TrainedTensor> &trained, std::string &error);

} // namespace vitc::train

#endif // VITC_RUN_ONNXEXPORT_H
