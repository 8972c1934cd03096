//===- PlotTest.cpp - the training plot is a valid PNG with the curves ----===//
//
// The written file is decoded with libpng (independently of the encoder
// path) and compared pixel for pixel with the in-memory image.
//
//===----------------------------------------------------------------------===//
#include "Plot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <png.h>
#include <unistd.h>

using namespace vitc::train;

namespace {

std::string tempDir() {
  std::string dir = std::filesystem::temp_directory_path() /
                    ("vitc-plot-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<EpochRecord> history(bool withVal) {
  std::vector<EpochRecord> records;
  for (int e = 1; e <= 5; ++e) {
    EpochRecord r;
    r.epoch = e;
    r.trainLoss = 1.0 / e;
    r.trainAcc = 0.5 + 0.08 * e;
    r.valLoss = withVal ? 1.1 / e : NAN;
    r.valAcc = withVal ? 0.45 + 0.08 * e : NAN;
    records.push_back(r);
  }
  return records;
}

int countColor(const Image &image, Rgb c) {
  int n = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) {
      Rgb p = image.at(x, y);
      n += p.r == c.r && p.g == c.g && p.b == c.b;
    }
  return n;
}

} // namespace

TEST(Plot, WritesADecodablePngEqualToTheImage) {
  Image image = drawTrainingPlot(history(true));
  std::string path = tempDir() + "/plot.png";
  std::string error;
  ASSERT_TRUE(writePng(path, image, error)) << error;

  png_image decoded{};
  decoded.version = PNG_IMAGE_VERSION;
  ASSERT_TRUE(png_image_begin_read_from_file(&decoded, path.c_str()))
      << decoded.message;
  EXPECT_EQ(decoded.width, static_cast<png_uint_32>(image.width()));
  EXPECT_EQ(decoded.height, static_cast<png_uint_32>(image.height()));
  decoded.format = PNG_FORMAT_RGB;
  std::vector<uint8_t> pixels(PNG_IMAGE_SIZE(decoded));
  ASSERT_TRUE(png_image_finish_read(&decoded, nullptr, pixels.data(), 0, nullptr))
      << decoded.message;
  for (int y = 0; y < image.height(); ++y)
    ASSERT_EQ(0, std::memcmp(&pixels[3 * size_t(y) * image.width()], image.row(y),
                             3 * size_t(image.width())))
        << "row " << y;
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(Plot, DrawsBothSeriesAndLegend) {
  const Rgb train{31, 119, 180}, val{255, 127, 14};
  Image both = drawTrainingPlot(history(true));
  EXPECT_GT(countColor(both, train), 200);
  EXPECT_GT(countColor(both, val), 200);
  // Without validation data only the train series (and its legend) appear.
  Image trainOnly = drawTrainingPlot(history(false));
  EXPECT_GT(countColor(trainOnly, train), 200);
  EXPECT_EQ(countColor(trainOnly, val), 0);
}

TEST(Plot, UnwritableDirectoryIsAnError) {
  std::string error;
  EXPECT_FALSE(writePng("/nonexistent-dir/plot.png", Image(4, 4, {0, 0, 0}), error));
  EXPECT_NE(error.find("/nonexistent-dir/plot.png"), std::string::npos) << error;
}

TEST(Plot, TextUsesTheBuiltInFont) {
  Image image(40, 20, {255, 255, 255});
  image.text(1, 1, "1.5", {0, 0, 0}, 1);
  // '1' is 010/110/010/010/111 at x = 1..3.
  EXPECT_EQ(image.at(2, 1).r, 0);
  EXPECT_EQ(image.at(1, 1).r, 255);
  EXPECT_EQ(image.at(1, 2).r, 0);
  EXPECT_EQ(Image::textWidth("1.5", 1), 11);
  // An unknown character is a blank of the same advance.
  Image blank(40, 20, {255, 255, 255});
  blank.text(1, 1, "#", {0, 0, 0}, 1);
  EXPECT_EQ(countColor(blank, {0, 0, 0}), 0);
}

TEST(Plot, DrawsTheLossOfEveryStep) {
  const Rgb step{174, 199, 232};
  std::vector<EpochRecord> records = history(true);
  for (EpochRecord &r : records)
    r.step = 10 * r.epoch;
  StepLosses steps;
  for (int s = 1; s <= 52; ++s) // two steps into a sixth epoch
    steps.losses.push_back(static_cast<float>(1.2 / std::sqrt(s) +
                                              0.05 * ((s * 7) % 5)));
  steps.losses[20] = NAN; // an unknown step leaves a gap
  steps.stepsPerEpoch = 10;
  Image image = drawTrainingPlot(records, steps);
  EXPECT_GT(countColor(image, step), 300);
  EXPECT_EQ(countColor(drawTrainingPlot(records), step), 0);
  // Without an epoch length the steps cannot be placed: no curve.
  EXPECT_EQ(countColor(drawTrainingPlot({}, {steps.losses, 0}), step), 0);
  std::string path = tempDir() + "/steps.png";
  std::string error;
  ASSERT_TRUE(writePng(path, image, error)) << error;
  if (const char *keep = std::getenv("VITC_PLOT_TEST_KEEP"))
    std::filesystem::copy_file(path, keep,
                               std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
