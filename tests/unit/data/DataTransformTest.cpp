//===- DataTransformTest.cpp - Normalisation, resize and augmentation -----===//
#include "DataTestUtil.h"

#include <cmath>
#include <set>

using namespace vitc::data;
using namespace vitc::data::test;

namespace {

TEST(DataTransform, NormalisesUint8PerChannel) {
  Split split = makeIdSplit(2, 3, 2, 2);
  Transform t = identityTransform(split);
  t.mean = {0.5f, 0.4f, 0.3f};
  t.std = {0.2f, 0.25f, 0.5f};
  std::vector<float> out = renderAll(split, t);
  ASSERT_EQ(out.size(), split.u8.size());
  for (size_t i = 0; i < out.size(); ++i) {
    size_t c = (i / 4) % 3;
    EXPECT_NEAR(out[i], (split.u8[i] / 255.0 - t.mean[c]) / t.std[c], 1e-5)
        << i;
  }
}

TEST(DataTransform, NormalisesFloatWithoutScaling) {
  Split split;
  split.count = 1, split.channels = 2, split.height = 1, split.width = 3;
  split.f32 = {0.f, 1.f, 2.f, -3.f, 10.f, 0.5f};
  split.labels = {0};
  Transform t = identityTransform(split);
  t.mean = {1.f, -1.f};
  t.std = {2.f, 0.5f};
  std::vector<float> out = renderAll(split, t);
  std::vector<float> expected = {-0.5f, 0.f, 0.5f, -4.f, 22.f, 3.f};
  ASSERT_EQ(out.size(), expected.size());
  for (size_t i = 0; i < out.size(); ++i)
    EXPECT_NEAR(out[i], expected[i], 1e-6) << i;
}

TEST(DataTransform, ReplicatesGreyChannels) {
  Split split = makeIdSplit(3, 1, 4, 5);
  Transform t = identityTransform(split);
  t.channels = 3;
  t.replicateChannels = true;
  t.mean = {0.1f, 0.2f, 0.3f};
  t.std = {0.5f}; // broadcast to every channel
  std::vector<float> out = renderAll(split, t);
  ASSERT_EQ(out.size(), 3u * 3 * 20);
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 20; ++p)
        EXPECT_NEAR(out[(n * 3 + c) * 20 + p],
                    (split.u8[n * 20 + p] / 255.0 - t.mean[c]) / 0.5, 1e-5);
}

/// torch.nn.functional.interpolate(mode="bilinear", align_corners=False) of
/// one plane, written from its definition, in double.
std::vector<double> referenceBilinear(const std::vector<double> &in, int inH,
                                      int inW, int outH, int outW) {
  auto source = [](int o, int in, int out) {
    return std::max((o + 0.5) * double(in) / out - 0.5, 0.0);
  };
  std::vector<double> out;
  for (int y = 0; y < outH; ++y) {
    double sy = source(y, inH, outH);
    int y0 = int(std::floor(sy)), y1 = std::min(y0 + 1, inH - 1);
    for (int x = 0; x < outW; ++x) {
      double sx = source(x, inW, outW);
      int x0 = int(std::floor(sx)), x1 = std::min(x0 + 1, inW - 1);
      double fy = sy - y0, fx = sx - x0;
      auto at = [&](int yy, int xx) { return in[yy * inW + xx]; };
      out.push_back((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                    fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
    }
  }
  return out;
}

TEST(DataTransform, ResizesBilinearlyLikePyTorch) {
  // Values printed by torch.nn.functional.interpolate for these inputs.
  Split small;
  small.count = 1, small.channels = 1, small.height = 2, small.width = 3;
  small.f32 = {0, 10, 20, 30, 40, 50};
  small.labels = {0};
  Transform t = identityTransform(small);
  t.height = 4, t.width = 5, t.resize = true;
  std::vector<float> torchUp = {0,    4,    10,   16,   20,   7.5,  11.5,
                                17.5, 23.5, 27.5, 22.5, 26.5, 32.5, 38.5,
                                42.5, 30,   34,   40,   46,   50};
  std::vector<float> up = renderAll(small, t);
  ASSERT_EQ(up.size(), torchUp.size());
  for (size_t i = 0; i < up.size(); ++i)
    EXPECT_NEAR(up[i], torchUp[i], 1e-4) << i;

  Split squares;
  squares.count = 1, squares.channels = 1, squares.height = 5,
  squares.width = 5;
  for (int i = 0; i < 25; ++i)
    squares.f32.push_back(float(i * i));
  squares.labels = {0};
  t = identityTransform(squares);
  t.height = 3, t.width = 2, t.resize = true;
  std::vector<float> torchDown = {11.583333f, 29.916666f, 115.75f,
                                  175.75f,    369.91663f, 471.58328f};
  std::vector<float> down = renderAll(squares, t);
  ASSERT_EQ(down.size(), torchDown.size());
  for (size_t i = 0; i < down.size(); ++i)
    EXPECT_NEAR(down[i], torchDown[i], 1e-3) << i;
}

TEST(DataTransform, ResizesAndReplicatesUint8AgainstReference) {
  Split split = makeIdSplit(2, 1, 7, 5);
  for (auto [outH, outW] :
       {std::pair{16, 9}, std::pair{3, 12}, std::pair{7, 2}}) {
    Transform t = identityTransform(split);
    t.channels = 3, t.height = outH, t.width = outW;
    t.resize = t.replicateChannels = true;
    t.mean = {0.5f, 0.25f, 0.f};
    t.std = {0.5f, 1.f, 2.f};
    std::vector<float> out = renderAll(split, t);
    size_t plane = size_t(outH) * outW;
    ASSERT_EQ(out.size(), 2 * 3 * plane);
    for (int n = 0; n < 2; ++n) {
      std::vector<double> in(split.u8.begin() + n * 35,
                             split.u8.begin() + (n + 1) * 35);
      std::vector<double> ref = referenceBilinear(in, 7, 5, outH, outW);
      for (int c = 0; c < 3; ++c)
        for (size_t p = 0; p < plane; ++p)
          ASSERT_NEAR(out[(n * 3 + c) * plane + p],
                      (ref[p] / 255 - t.mean[c]) / t.std[c], 1e-5)
              << outH << "x" << outW << " sample " << n << " channel " << c
              << " pixel " << p;
    }
  }
}

TEST(DataTransform, CheckFitsExplainsMismatches) {
  Split grey = makeIdSplit(1, 1, 28, 28);
  Transform t;
  t.channels = 3, t.height = 224, t.width = 224;
  expectError(checkFits(grey, t),
              {"dataset images are 1x28x28 but the model takes 3x224x224 "
               "(CxHxW)",
               "use --resize", "and channel replication"});
  t.resize = true;
  expectError(checkFits(grey, t), {"use channel replication"});
  t.replicateChannels = true;
  EXPECT_TRUE(ok(checkFits(grey, t)));
  t.channels = 1, t.resize = false;
  expectError(checkFits(grey, t), {"1x28x28", "1x224x224", "use --resize"});
  expectError(Loader::create(grey, t, 1, false, false, false, 0),
              {"use --resize"});

  Split rgb = makeIdSplit(1, 3, 8, 8);
  Transform one = identityTransform(rgb);
  one.channels = 1;
  one.replicateChannels = one.resize = true;
  expectError(
      checkFits(rgb, one),
      {"3x8x8", "1x8x8", "3-channel images cannot be converted to 1 channels"});

  Transform norm = identityTransform(rgb);
  norm.mean = {0.f, 0.f};
  expectError(checkFits(rgb, norm), {"mean has 2 values", "give 1 or 3"});
  norm.mean = {0.f};
  norm.std = {1.f, 0.f, 1.f};
  expectError(checkFits(rgb, norm), {"std holds 0", "must be positive"});
  norm.std = {1.f};
  norm.cropPadding = -1;
  expectError(checkFits(rgb, norm), {"crop padding", "-1"});

  Split broken = makeIdSplit(2, 1, 4, 4);
  broken.u8.pop_back();
  expectError(checkFits(broken, identityTransform(broken)),
              {"inconsistent dataset split", "need 32", "holds 31"});
}

/// `image` ([C,H,W]) seen through a crop shifted by (dy, dx) and mirrored if
/// `flip`; `pad` per channel outside.
std::vector<float> shifted(const std::vector<float> &image, int64_t C,
                           int64_t H, int64_t W, int64_t dy, int64_t dx,
                           bool flip, const std::vector<float> &pad) {
  std::vector<float> out;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        int64_t sy = y + dy, sx = (flip ? W - 1 - x : x) + dx;
        bool inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
        out.push_back(inside ? image[(c * H + sy) * W + sx] : pad[c]);
      }
  return out;
}

/// Each augmented sample is its plain rendering under some crop shift in
/// [-P, P]^2 and some flip; over many samples, every shift and both flips
/// occur, flips about half the time.
void checkCropFlipInvariants(const Split &split, Transform t) {
  const int64_t P = t.cropPadding, C = t.channels, H = t.height, W = t.width;
  std::vector<float> plain = renderAll(split, t);
  std::vector<float> pad;
  for (int64_t c = 0; c < C; ++c)
    pad.push_back(-t.mean[t.mean.size() == 1 ? 0 : c] /
                  t.std[t.std.size() == 1 ? 0 : c]);
  VITC_ASSIGN_OK(loader, Loader::create(split, t, 64, /*shuffle=*/true,
                                        /*augment=*/true, false, /*seed=*/5));
  std::set<std::pair<int64_t, int64_t>> shifts;
  int flips = 0, samples = 0;
  size_t size = size_t(C * H * W);
  for (int epoch = 0; epoch < 2; ++epoch)
    for (const Batch &batch : epochBatches(*loader, epoch))
      for (int64_t i = 0; i < batch.size; ++i, ++samples) {
        std::vector<float> got(batch.images.begin() + i * size,
                               batch.images.begin() + (i + 1) * size);
        std::vector<float> image(plain.begin() + batch.labels[i] * size,
                                 plain.begin() + (batch.labels[i] + 1) * size);
        bool found = false;
        for (int64_t dy = -P; dy <= P && !found; ++dy)
          for (int64_t dx = -P; dx <= P && !found; ++dx)
            for (bool flip : {false, true})
              if (!found && got == shifted(image, C, H, W, dy, dx, flip, pad)) {
                found = true;
                shifts.insert({dy, dx});
                flips += flip;
              }
        ASSERT_TRUE(found) << "sample " << batch.labels[i]
                           << " is not a padded crop or flip of its image";
      }
  EXPECT_EQ(shifts.size(), size_t((2 * P + 1) * (2 * P + 1)));
  EXPECT_GT(flips, samples * 0.4);
  EXPECT_LT(flips, samples * 0.6);
}

TEST(DataTransform, AugmentsByPaddedCropAndFlip) {
  Split split =
      makeIdSplit(500, 1, 6, 7); // pixel values unique within a sample
  Transform t = identityTransform(split);
  t.cropPadding = 2;
  t.flip = true;
  t.mean = {0.3f};
  t.std = {0.7f};
  checkCropFlipInvariants(split, t);
  // Augmentation happens after resizing and channel replication.
  Split small = makeIdSplit(400, 1, 3, 4);
  t = identityTransform(small);
  t.channels = 3, t.height = 6, t.width = 9,
  t.resize = t.replicateChannels = true;
  t.cropPadding = 1, t.flip = true, t.mean = {0.1f, 0.2f, 0.3f};
  checkCropFlipInvariants(small, t);
}

TEST(DataTransform, AugmentationOffLeavesImagesAlone) {
  Split split = makeIdSplit(20, 1, 5, 5);
  Transform t = identityTransform(split);
  t.cropPadding = 3, t.flip = true;
  VITC_ASSIGN_OK(
      loader, Loader::create(split, t, 20, false, /*augment=*/false, false, 9));
  std::vector<Batch> batches = epochBatches(*loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  for (size_t i = 0; i < split.u8.size(); ++i)
    EXPECT_NEAR(batches[0].images[i], split.u8[i] / 255.0, 1e-6);
}

} // namespace
