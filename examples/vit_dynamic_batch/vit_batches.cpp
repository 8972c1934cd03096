// vit_batches: one compiled model, two batch sizes. vitc keeps a dynamic
// batch dim of the ONNX graph dynamic, so one artifact serves every batch
// size; this runs batch 2 and then batch 5 through the same loaded model and
// checks that the images they share get the same logits.
//
//   vit_batches MODEL.vtc [IMAGES.f32]
//
// MODEL.vtc: an inference artifact with one f32 input [N, C, H, W], N
// dynamic, and logits [N, classes] as its first output. IMAGES.f32: 5 images
// (5*C*H*W raw float32 values, C order); batch b takes the first b of them.
// Without it, image i is a checkerboard of 4x4 squares of +1 and -1 shifted
// by i pixels.
//
// Output, per batch: "batch 2: image 0: top-1 7: <logits>", ...; then
// "batches agree: max |diff| <d>".
#include "vitc_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error(what + ": " + vitc_last_error());
}

// The C API's objects with owners: a model, and the outputs of one run.
struct ModelDeleter {
  void operator()(vitc_model *model) const { vitc_model_free(model); }
};
using Model = std::unique_ptr<vitc_model, ModelDeleter>;

struct Outputs {
  std::vector<vitc_tensor> tensors;
  explicit Outputs(size_t n) : tensors(n) {}
  Outputs(const Outputs &) = delete;
  Outputs &operator=(const Outputs &) = delete;
  ~Outputs() {
    for (vitc_tensor &t : tensors)
      vitc_tensor_free(&t);
  }
};

struct Logits {
  int64_t rows, classes;
  std::vector<float> values;
  const float *row(int64_t r) const { return values.data() + r * classes; }
};

// Runs the first `batch` images of `images` (each C*H*W floats).
Logits run(vitc_model *model, const std::vector<int64_t> &chw,
           const std::vector<float> &images, int64_t batch) {
  vitc_tensor input{};
  input.dtype = VITC_DTYPE_F32;
  input.rank = 4;
  input.shape[0] = batch;
  std::copy(chw.begin(), chw.end(), input.shape + 1);
  // The runtime only reads inputs; the C API takes a non-const pointer.
  input.data = const_cast<float *>(images.data());

  Outputs outputs(size_t(vitc_model_num_outputs(model)));
  if (vitc_model_run(model, &input, 1, outputs.tensors.data(),
                     int32_t(outputs.tensors.size())) != 0)
    fail("run at batch " + std::to_string(batch));
  const vitc_tensor &out = outputs.tensors[0];
  if (out.dtype != VITC_DTYPE_F32 || out.rank != 2 || out.shape[0] != batch)
    throw std::runtime_error("expected f32 logits [" + std::to_string(batch) +
                             ", classes]");
  Logits logits{out.shape[0], out.shape[1], {}};
  const float *data = static_cast<const float *>(out.data);
  logits.values.assign(data, data + logits.rows * logits.classes);
  return logits;  // the runtime's buffers are freed by ~Outputs
}

}  // namespace

int main(int argc, char **argv) try {
  constexpr int64_t kBatches[] = {2, 5};
  constexpr int64_t kMaxBatch = 5;
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: vit_batches MODEL.vtc [IMAGES.f32]\n");
    return 2;
  }
  Model model(vitc_model_load(argv[1]));
  if (!model)
    fail(argv[1]);

  vitc_tensor_info info;
  if (vitc_model_input_info(model.get(), 0, &info) != 0)
    fail("input 0");
  if (info.dtype != VITC_DTYPE_F32 || info.rank != 4)
    throw std::runtime_error("expected an f32 [N, C, H, W] input");
  if (info.shape[0] >= 0)
    std::printf("note: the batch dim is fixed (%lld): recompile from a model "
                "with a dynamic batch dim\n", (long long)info.shape[0]);
  std::vector<int64_t> chw(info.shape + 1, info.shape + 4);
  std::printf("input '%s' f32 [%s, %lld, %lld, %lld]\n", info.name,
              info.shape[0] < 0 ? "?" : std::to_string(info.shape[0]).c_str(),
              (long long)chw[0], (long long)chw[1], (long long)chw[2]);

  int64_t imageSize = chw[0] * chw[1] * chw[2];
  std::vector<float> images(size_t(kMaxBatch * imageSize));
  if (argc == 3) {
    std::ifstream file(argv[2], std::ios::binary);
    file.read(reinterpret_cast<char *>(images.data()),
              std::streamsize(images.size() * sizeof(float)));
    if (!file)
      throw std::runtime_error(std::string(argv[2]) + ": expected " +
                               std::to_string(images.size()) +
                               " float32 values");
  } else {
    int64_t h = chw[1], w = chw[2];
    for (int64_t i = 0; i < kMaxBatch; ++i)
      for (int64_t k = 0; k < imageSize; ++k) {
        int64_t y = (k / w) % h, x = (k % w + i) % w;
        images[size_t(i * imageSize + k)] =
            (y / 4 + x / 4) % 2 == 0 ? 1.0f : -1.0f;
      }
  }

  std::vector<Logits> results;
  for (int64_t batch : kBatches) {
    results.push_back(run(model.get(), chw, images, batch));
    const Logits &logits = results.back();
    for (int64_t r = 0; r < logits.rows; ++r) {
      const float *row = logits.row(r);
      int64_t top = std::max_element(row, row + logits.classes) - row;
      std::printf("batch %lld: image %lld: top-1 %lld:", (long long)batch,
                  (long long)r, (long long)top);
      for (int64_t c = 0; c < logits.classes; ++c)
        std::printf(" %.9g", row[c]);
      std::printf("\n");
    }
  }

  // The images both batches hold must get the same logits.
  const Logits &small = results[0], &large = results[1];
  double maxDiff = 0;
  for (int64_t i = 0; i < small.rows * small.classes; ++i)
    maxDiff = std::max(maxDiff, double(std::fabs(small.values[size_t(i)] -
                                                 large.values[size_t(i)])));
  std::printf("batches agree: max |diff| %.3g\n", maxDiff);
  return maxDiff <= 1e-4 ? 0 : 1;
} catch (const std::exception &e) {
  std::fprintf(stderr, "vit_batches: %s\n", e.what());
  return 1;
}
