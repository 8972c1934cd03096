//===- Plot.h - training curves as a PNG ----------------------------------===//
//
// Two panels (loss and accuracy per epoch, train and validation; the loss
// panel also shows the loss of every step) drawn into an RGB image with axes,
// ticks, labels and a legend, written with libpng.
// Text uses a built-in 3x5 pixel font (digits, '.', '-', '%' and the
// capitals the labels need).
//
//===----------------------------------------------------------------------===//
#ifndef VITC_RUN_PLOT_H
#define VITC_RUN_PLOT_H

#include "vitc/train/EpochRecord.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vitc::train {

struct Rgb {
  uint8_t r, g, b;
};

/// An RGB raster with the few drawing primitives a chart needs. Pixels
/// outside the image are clipped.
class Image {
public:
  Image(int width, int height, Rgb background);
  int width() const { return width_; }
  int height() const { return height_; }
  const uint8_t *row(int y) const { return &pixels_[3 * size_t(y) * width_]; }
  Rgb at(int x, int y) const;

  void set(int x, int y, Rgb color);
  void fill(int x0, int y0, int x1, int y1, Rgb color); // inclusive
  void line(int x0, int y0, int x1, int y1, Rgb color, int thickness = 1);
  /// Draws `text` (unknown characters as blanks) with its top-left at
  /// (x, y), each font pixel `scale` x `scale`.
  void text(int x, int y, const std::string &text, Rgb color, int scale = 2);
  static int textWidth(const std::string &text, int scale = 2);
  static int textHeight(int scale = 2) { return 5 * scale; }

private:
  int width_, height_;
  std::vector<uint8_t> pixels_;
};

/// Encodes `image` as an 8-bit RGB PNG at `path` (atomically).
bool writePng(const std::string &path, const Image &image, std::string &error);

/// The loss of every step, step s at s - 1 (NaN: unknown), drawn along the
/// epoch axis: the steps of each finished epoch of the history spread over
/// that epoch, later ones `stepsPerEpoch` to an epoch.
struct StepLosses {
  std::vector<float> losses;
  int64_t stepsPerEpoch = 0;
};

/// The loss and accuracy chart of `history` (and `steps`).
Image drawTrainingPlot(const std::vector<EpochRecord> &history,
                       const StepLosses &steps = {});

} // namespace vitc::train

#endif // VITC_RUN_PLOT_H
