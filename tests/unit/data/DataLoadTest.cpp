//===- DataLoadTest.cpp - Reading idx and .npy datasets -------------------===//
#include "DataTestUtil.h"
#include "Npy.h"

#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <fstream>

using namespace vitc::data;
using namespace vitc::data::test;
using vitc::rt::DType;

namespace {

/// The bytes of an idx file: big-endian magic 0x000008<rank>, dims, data.
std::string idxBytes(const std::vector<uint32_t> &dims,
                     const std::vector<uint8_t> &data, uint32_t magic = 0) {
  if (!magic)
    magic = 0x800u | static_cast<uint32_t>(dims.size());
  std::string bytes;
  auto put32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes += static_cast<char>((v >> shift) & 0xff);
  };
  put32(magic);
  for (uint32_t dim : dims)
    put32(dim);
  bytes.append(data.begin(), data.end());
  return bytes;
}

void writeFile(const std::string &path, const std::string &bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), bytes.size());
}

/// Writes `bytes` gzip-compressed, as `parts` concatenated gzip members.
void writeGzip(const std::string &path, const std::string &bytes,
               int parts = 1) {
  size_t step = bytes.size() / parts;
  for (int i = 0; i < parts; ++i) {
    gzFile file = gzopen(path.c_str(), i == 0 ? "wb" : "ab");
    ASSERT_NE(file, nullptr);
    size_t begin = i * step, end = i + 1 == parts ? bytes.size() : begin + step;
    ASSERT_EQ(gzwrite(file, bytes.data() + begin, unsigned(end - begin)),
              int(end - begin));
    ASSERT_EQ(gzclose(file), Z_OK);
  }
}

std::string readFile(const std::string &path) {
  std::ifstream is(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(is), {});
}

/// Pixel p of image i in the idx tests.
uint8_t pixel(int i, int p) { return static_cast<uint8_t>(i * 50 + p * 3 + 1); }

/// Writes an idx split `prefix` of `count` 2x3 images (plain or gzip).
void writeIdxSplit(const TempDir &dir, const std::string &prefix, int count,
                   const std::vector<uint8_t> &labels, bool gz) {
  std::vector<uint8_t> pixels;
  for (int i = 0; i < count; ++i)
    for (int p = 0; p < 6; ++p)
      pixels.push_back(pixel(i, p));
  std::string images = idxBytes({uint32_t(count), 2, 3}, pixels);
  std::string labelBytes = idxBytes({uint32_t(labels.size())}, labels);
  if (gz) {
    writeGzip(dir.file(prefix + "-images-idx3-ubyte.gz"), images, /*parts=*/2);
    writeGzip(dir.file(prefix + "-labels-idx1-ubyte.gz"), labelBytes);
  } else {
    writeFile(dir.file(prefix + "-images-idx3-ubyte"), images);
    writeFile(dir.file(prefix + "-labels-idx1-ubyte"), labelBytes);
  }
}

void expectIdxSplit(const Split &split, int count,
                    const std::vector<uint8_t> &labels) {
  EXPECT_EQ(split.count, count);
  EXPECT_EQ(split.channels, 1);
  EXPECT_EQ(split.height, 2);
  EXPECT_EQ(split.width, 3);
  EXPECT_TRUE(split.f32.empty());
  ASSERT_EQ(split.u8.size(), size_t(count) * 6);
  for (int i = 0; i < count; ++i)
    for (int p = 0; p < 6; ++p)
      EXPECT_EQ(split.u8[i * 6 + p], pixel(i, p))
          << "image " << i << " pixel " << p;
  EXPECT_EQ(split.labels, std::vector<int64_t>(labels.begin(), labels.end()));
}

TEST(DataIdx, ReadsPlainAndGzippedFiles) {
  TempDir dir;
  writeIdxSplit(dir, "train", 5, {3, 1, 4, 1, 5}, /*gz=*/false);
  writeIdxSplit(dir, "t10k", 3, {9, 2, 6}, /*gz=*/true);
  VITC_ASSIGN_OK(dataset, loadDataset({"mnist", dir.str()}));
  expectIdxSplit(dataset.train, 5, {3, 1, 4, 1, 5});
  expectIdxSplit(dataset.test, 3, {9, 2, 6});
  EXPECT_EQ(dataset.train.numClasses(), 6);
  EXPECT_EQ(dataset.test.numClasses(), 10);
}

TEST(DataIdx, NamesMissingFiles) {
  TempDir dir;
  writeIdxSplit(dir, "train", 2, {0, 1}, false);
  expectError(loadDataset({"fashion-mnist", dir.str()}),
              {dir.file("t10k-images-idx3-ubyte"),
               dir.file("t10k-images-idx3-ubyte.gz"), "missing"});
  expectError(loadDataset({"mnist", ""}), {"'mnist' needs a directory"});
  expectError(loadDataset({"cifar", dir.str()}),
              {"unknown dataset kind 'cifar'", "fashion-mnist, mnist or npy"});
}

TEST(DataIdx, RejectsBadMagicTruncationAndCountMismatch) {
  TempDir dir;
  writeIdxSplit(dir, "t10k", 2, {0, 1}, false);
  std::string images = dir.file("train-images-idx3-ubyte");
  std::string labels = dir.file("train-labels-idx1-ubyte");
  std::vector<uint8_t> pixels(2 * 6, 7);
  writeFile(labels, idxBytes({2}, {1, 2}));

  writeFile(images, idxBytes({2, 2, 3}, pixels, /*magic=*/0x801));
  expectError(loadDataset({"mnist", dir.str()}),
              {images, "bad idx magic 0x00000801", "expected 0x00000803"});
  writeFile(images, idxBytes({2, 2, 3}, pixels,
                             /*magic=*/0x0D03)); // not unsigned bytes
  expectError(loadDataset({"mnist", dir.str()}), {images, "bad idx magic"});

  std::vector<uint8_t> short_(pixels.begin(), pixels.end() - 1);
  writeFile(images, idxBytes({2, 2, 3}, short_));
  expectError(loadDataset({"mnist", dir.str()}),
              {images, "truncated", "needs 12 bytes", "holds 11"});
  writeFile(images, idxBytes({2, 2, 3}, pixels).substr(0, 10));
  expectError(loadDataset({"mnist", dir.str()}), {images, "truncated"});

  std::vector<uint8_t> long_(pixels);
  long_.push_back(0);
  writeFile(images, idxBytes({2, 2, 3}, long_));
  expectError(loadDataset({"mnist", dir.str()}),
              {images, "1 unexpected bytes"});

  writeFile(images, idxBytes({2, 2, 3}, pixels));
  writeFile(labels, idxBytes({3}, {1, 2, 3}));
  expectError(loadDataset({"mnist", dir.str()}),
              {images, "holds 2 images", labels, "holds 3 labels"});
}

TEST(DataIdx, RejectsTruncatedAndCorruptGzip) {
  TempDir dir;
  writeIdxSplit(dir, "train", 4, {0, 1, 2, 3}, /*gz=*/true);
  writeIdxSplit(dir, "t10k", 1, {0}, false);
  std::string path = dir.file("train-images-idx3-ubyte.gz");
  std::string gz = readFile(path);
  writeFile(path, gz.substr(0, gz.size() / 2));
  expectError(loadDataset({"mnist", dir.str()}), {path, "truncated"});
  std::string corrupt = gz;
  for (size_t i = 12; i < corrupt.size() - 8; ++i)
    corrupt[i] = static_cast<char>(0xff);
  writeFile(path, corrupt);
  expectError(loadDataset({"mnist", dir.str()}), {path, "not valid gzip data"});
}

// --- .npy shards -------------------------------------------------------------

void writeNpy(const std::string &path, DType dtype,
              const std::vector<int64_t> &shape, const void *data) {
  ASSERT_TRUE(ok(vitc::npy::writeNpy(path, dtype, shape, data)));
}

TEST(DataNpy, ConcatenatesUint8NhwcShardsInNameOrder) {
  TempDir dir;
  // Image n of the split, [H=2, W=2, C=3] in the file: value 100n + 10h + 3w +
  // c.
  auto value = [](int n, int h, int w, int c) {
    return uint8_t(100 * n + 10 * h + 3 * w + c);
  };
  auto shard = [&](int first, int count) {
    std::vector<uint8_t> data;
    for (int n = first; n < first + count; ++n)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          for (int c = 0; c < 3; ++c)
            data.push_back(value(n, h, w, c));
    return data;
  };
  // Written out of order: the reader sorts by name.
  std::vector<uint8_t> second = shard(2, 1), first = shard(0, 2);
  writeNpy(dir.file("train_images_1.npy"), DType::U8, {1, 2, 2, 3},
           second.data());
  writeNpy(dir.file("train_images_0.npy"), DType::U8, {2, 2, 2, 3},
           first.data());
  int32_t labels0[2] = {7, 0}, labels1[1] = {2};
  writeNpy(dir.file("train_labels_1.npy"), DType::I32, {1}, labels1);
  writeNpy(dir.file("train_labels_0.npy"), DType::I32, {2}, labels0);
  std::vector<uint8_t> test = shard(5, 1);
  uint8_t testLabel = 4;
  writeNpy(dir.file("test_images.npy"), DType::U8, {1, 2, 2, 3}, test.data());
  writeNpy(dir.file("test_labels.npy"), DType::U8, {1, 1}, &testLabel);

  VITC_ASSIGN_OK(dataset, loadDataset({"npy", dir.str()}));
  const Split &train = dataset.train;
  ASSERT_EQ(train.count, 3);
  EXPECT_EQ(train.channels, 3);
  EXPECT_EQ(train.height, 2);
  EXPECT_EQ(train.width, 2);
  ASSERT_EQ(train.u8.size(), 3u * 12);
  for (int n = 0; n < 3; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          EXPECT_EQ(train.u8[((n * 3 + c) * 2 + h) * 2 + w], value(n, h, w, c))
              << n << " " << c << " " << h << " " << w;
  EXPECT_EQ(train.labels, (std::vector<int64_t>{7, 0, 2}));
  EXPECT_EQ(train.numClasses(), 8);
  EXPECT_EQ(dataset.test.count, 1);
  EXPECT_EQ(dataset.test.u8[1], value(5, 0, 1, 0)); // channel 0, h 0, w 1
  EXPECT_EQ(dataset.test.labels, (std::vector<int64_t>{4}));
}

TEST(DataNpy, ReadsFloatNchwAndGreyNhw) {
  TempDir dir;
  float images[2 * 3 * 2 * 2];
  for (int i = 0; i < 24; ++i)
    images[i] = 0.25f * i - 1.f;
  int64_t labels[2] = {1, 0};
  writeNpy(dir.file("train_images.npy"), DType::F32, {2, 3, 2, 2}, images);
  writeNpy(dir.file("train_labels.npy"), DType::I64, {2, 1}, labels);
  writeNpy(dir.file("test_images.npy"), DType::F32, {1, 3, 2, 2}, images);
  writeNpy(dir.file("test_labels.npy"), DType::I64, {1}, labels);
  VITC_ASSIGN_OK(dataset, loadDataset({"npy", dir.str()}));
  EXPECT_EQ(dataset.train.channels, 3);
  EXPECT_TRUE(dataset.train.u8.empty());
  EXPECT_EQ(dataset.train.f32,
            std::vector<float>(images, images + 24)); // NCHW: as stored
  EXPECT_EQ(dataset.train.labels, (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(dataset.test.f32, std::vector<float>(images, images + 12));

  // [N,H,W] is one grey channel; [N,3,4,3] is NCHW (dim 1 is a channel count
  // too); [N,4,5,1] is NHWC.
  TempDir grey;
  uint8_t pixels[3 * 4 * 5];
  for (int i = 0; i < 60; ++i)
    pixels[i] = uint8_t(i);
  uint8_t few[3] = {0, 1, 2};
  writeNpy(grey.file("train_images.npy"), DType::U8, {3, 4, 5}, pixels);
  writeNpy(grey.file("train_labels.npy"), DType::U8, {3}, few);
  writeNpy(grey.file("test_images.npy"), DType::U8, {1, 4, 5, 1}, pixels);
  writeNpy(grey.file("test_labels.npy"), DType::U8, {1}, few);
  VITC_ASSIGN_OK(greyDataset, loadDataset({"npy", grey.str()}));
  dataset = std::move(greyDataset);
  EXPECT_EQ(dataset.train.channels, 1);
  EXPECT_EQ(dataset.train.height, 4);
  EXPECT_EQ(dataset.train.width, 5);
  EXPECT_EQ(dataset.train.u8, std::vector<uint8_t>(pixels, pixels + 60));
  EXPECT_EQ(dataset.test.channels, 1);
  EXPECT_EQ(dataset.test.height, 4);
  EXPECT_EQ(dataset.test.u8, std::vector<uint8_t>(pixels, pixels + 20));

  TempDir ambiguous;
  writeNpy(ambiguous.file("train_images.npy"), DType::U8, {1, 3, 4, 3}, pixels);
  writeNpy(ambiguous.file("train_labels.npy"), DType::U8, {1}, few);
  writeNpy(ambiguous.file("test_images.npy"), DType::U8, {1, 3, 4, 3}, pixels);
  writeNpy(ambiguous.file("test_labels.npy"), DType::U8, {1}, few);
  VITC_ASSIGN_OK(ambiguousDataset, loadDataset({"npy", ambiguous.str()}));
  dataset = std::move(ambiguousDataset);
  EXPECT_EQ(dataset.train.channels, 3);
  EXPECT_EQ(dataset.train.height, 4);
  EXPECT_EQ(dataset.train.width, 3);
  EXPECT_EQ(dataset.train.u8, std::vector<uint8_t>(pixels, pixels + 36));
}

TEST(DataNpy, ReportsUnsupportedDtypesBadLabelsAndMismatches) {
  TempDir dir;
  double wide[2 * 2 * 2] = {};
  uint8_t pixels[2 * 2 * 2] = {};
  int64_t labels[2] = {0, -1}, good[2] = {0, 1};
  float floatLabels[2] = {0, 1};
  std::string images = dir.file("train_images.npy"),
              labelPath = dir.file("train_labels.npy");
  writeNpy(dir.file("test_images.npy"), DType::U8, {2, 2, 2}, pixels);
  writeNpy(dir.file("test_labels.npy"), DType::I64, {2}, good);

  expectError(loadDataset({"npy", dir.str()}),
              {"missing dataset files", dir.file("train_images*.npy")});

  writeNpy(images, DType::F64, {2, 2, 2}, wide);
  writeNpy(labelPath, DType::I64, {2}, good);
  expectError(loadDataset({"npy", dir.str()}),
              {images, "dtype f64 are not supported", "uint8 or float32"});

  writeNpy(images, DType::U8, {2, 2, 2}, pixels);
  writeNpy(labelPath, DType::I64, {2}, labels);
  expectError(loadDataset({"npy", dir.str()}),
              {labelPath, "label -1 at index 1 is negative"});

  writeNpy(labelPath, DType::F32, {2}, floatLabels);
  expectError(loadDataset({"npy", dir.str()}),
              {labelPath, "labels of dtype f32 are not supported"});

  writeNpy(labelPath, DType::I64, {1}, good);
  expectError(
      loadDataset({"npy", dir.str()}),
      {dir.file("train_images*.npy"), "hold 2 images", "hold 1 labels"});

  int64_t square[4] = {0, 1, 1, 0};
  writeNpy(labelPath, DType::I64, {2, 2}, square);
  expectError(loadDataset({"npy", dir.str()}),
              {labelPath, "expected [N] or [N,1]"});

  writeNpy(labelPath, DType::I64, {2}, good);
  writeNpy(dir.file("train_images_b.npy"), DType::U8, {1, 2, 4}, pixels);
  expectError(
      loadDataset({"npy", dir.str()}),
      {dir.file("train_images_b.npy"), "1x2x4", "shards before it", "1x2x2"});

  std::filesystem::remove(dir.file("train_images_b.npy"));
  writeNpy(dir.file("test_images.npy"), DType::U8, {2, 2, 1, 2},
           pixels); // 2x1x2
  expectError(loadDataset({"npy", dir.str()}),
              {"test images are 2x1x2 but training images are 1x2x2"});

  std::filesystem::remove(dir.file("test_images.npy"));
  std::ofstream(dir.file("test_images.npy")) << "not numpy";
  expectError(loadDataset({"npy", dir.str()}),
              {dir.file("test_images.npy"), "bad magic"});
}

// --- The real data set
// ---------------------------------------------------------

TEST(DataFashionMnist, ReadsTheDebianPackage) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(std::string(dir) +
                               "/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << dir << " is not installed";
  auto start = std::chrono::steady_clock::now();
  // The default directory.
  VITC_ASSIGN_OK(dataset, loadDataset({"fashion-mnist", ""}));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("[          ] loading Fashion-MNIST took %.3f s\n", seconds);
  for (const Split *split : {&dataset.train, &dataset.test}) {
    EXPECT_EQ(split->channels, 1);
    EXPECT_EQ(split->height, 28);
    EXPECT_EQ(split->width, 28);
    EXPECT_EQ(split->u8.size(), size_t(split->count) * 28 * 28);
    EXPECT_EQ(split->numClasses(), 10);
    for (int64_t label : split->labels)
      ASSERT_TRUE(label >= 0 && label <= 9) << label;
  }
  EXPECT_EQ(dataset.train.count, 60000);
  EXPECT_EQ(dataset.test.count, 10000);
  EXPECT_EQ(dataset.train.labels[0], 9); // an ankle boot
  // Each class has 6000 training images.
  std::vector<int> perClass(10);
  for (int64_t label : dataset.train.labels)
    ++perClass[label];
  EXPECT_EQ(perClass, std::vector<int>(10, 6000));

  // One shuffled, augmented epoch at 28x28, as a training run would read it.
  Transform t = identityTransform(dataset.train);
  t.mean = {0.2860f}, t.std = {0.3530f}, t.cropPadding = 2, t.flip = true;
  VITC_ASSIGN_OK(loader,
                 Loader::create(dataset.train, t, 128, true, true, false, 1));
  start = std::chrono::steady_clock::now();
  std::vector<Batch> batches = epochBatches(*loader, 0);
  seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf(
      "[          ] one augmented epoch (%zu batches of 128) took %.3f s\n",
      batches.size(), seconds);
  EXPECT_EQ(batches.size(), 469u);
  EXPECT_EQ(batches.back().size, 60000 - 468 * 128);
}

} // namespace
