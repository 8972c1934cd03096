//===- Plot.cpp - training curves as a PNG --------------------------------===//
#include "Plot.h"

#include "vitc/train/AtomicFile.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdlib>
#include <png.h>

namespace vitc::train {

namespace {

/// 3x5 glyphs: five rows, bit 2 is the left column.
struct Glyph {
  char c;
  uint8_t rows[5];
};
constexpr Glyph kFont[] = {
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}},
    {'3', {7, 1, 7, 1, 7}}, {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}},
    {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 2, 2}}, {'8', {7, 5, 7, 5, 7}},
    {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {'%', {5, 1, 2, 4, 5}}, {'A', {2, 5, 7, 5, 5}}, {'C', {3, 4, 4, 4, 3}},
    {'E', {7, 4, 6, 4, 7}}, {'H', {5, 5, 7, 5, 5}}, {'I', {7, 2, 2, 2, 7}},
    {'L', {4, 4, 4, 4, 7}}, {'N', {6, 5, 5, 5, 5}}, {'O', {2, 5, 5, 5, 2}},
    {'P', {6, 5, 6, 4, 4}}, {'R', {6, 5, 6, 5, 5}}, {'S', {3, 4, 2, 1, 6}},
    {'T', {7, 2, 2, 2, 2}}, {'U', {5, 5, 5, 5, 7}}, {'V', {5, 5, 5, 5, 2}},
    {'Y', {5, 5, 2, 2, 2}},
};

const Glyph *findGlyph(char c) {
  for (const Glyph &glyph : kFont)
    if (glyph.c == c)
      return &glyph;
  return nullptr;
}

constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrid{225, 225, 225};
constexpr Rgb kTrainColor{31, 119, 180}, kValColor{255, 127, 14};
// A lighter train colour: the noisy per-step curve stays behind the epochs'.
constexpr Rgb kStepColor{174, 199, 232};

/// A point of a curve: x in epochs; a NaN y leaves a gap.
struct Point {
  double x, y;
};

/// Where each step lies on the epoch axis: the steps of a finished epoch
/// spread evenly over it (so a resumed run's epochs of another length stay
/// right), the steps after the last one at `stepsPerEpoch` to an epoch.
std::vector<Point> stepPoints(const std::vector<EpochRecord> &history,
                                  const StepLosses &steps) {
  std::vector<Point> points;
  double epochAtStart = 0;
  int64_t stepAtStart = 0;
  size_t next = 0; // the record of the epoch the step belongs to
  int64_t tailLength = steps.stepsPerEpoch;
  if (tailLength <= 0 && !history.empty())
    tailLength = history.back().step -
                 (history.size() > 1 ? history[history.size() - 2].step : 0);
  for (size_t i = 0; i < steps.losses.size(); ++i) {
    int64_t step = static_cast<int64_t>(i) + 1;
    while (next < history.size() && step > history[next].step) {
      epochAtStart = static_cast<double>(history[next].epoch);
      stepAtStart = history[next].step;
      ++next;
    }
    double x;
    if (next < history.size())
      x = epochAtStart + (history[next].epoch - epochAtStart) *
                             static_cast<double>(step - stepAtStart) /
                             static_cast<double>(history[next].step - stepAtStart);
    else if (tailLength > 0)
      x = epochAtStart + static_cast<double>(step - stepAtStart) / tailLength;
    else
      break; // no epoch length known: no curve
    points.push_back({x, steps.losses[i]});
  }
  return points;
}

/// Axis ticks at multiples of 1, 2 or 5 x 10^k covering [lo, hi].
struct Ticks {
  double first, step;
  int count;
  int decimals;
};

Ticks niceTicks(double lo, double hi, int maxTicks) {
  if (!(hi > lo)) {
    double pad = std::max(std::fabs(lo) * 0.1, 1e-3);
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / std::max(maxTicks - 1, 1);
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  double first = std::floor(lo / step) * step;
  double last = std::ceil(hi / step) * step;
  int count = static_cast<int>(std::lround((last - first) / step)) + 1;
  int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return {first, step, count, decimals};
}

std::string formatTick(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return std::string(text) == "-0" ? "0" : text;
}

/// One chart: a title, epochs on x, and up to two series. The legend goes
/// where the curves usually are not: top right for a falling quantity,
/// bottom right for a rising one.
void drawPanel(Image &image, int left, int top, int width, int height,
               const std::string &title,
               const std::vector<EpochRecord> &history,
               double EpochRecord::*train, double EpochRecord::*val,
               bool legendAtBottom, const std::vector<Point> &steps = {}) {
  // The plot area inside the panel, leaving room for labels.
  int x0 = left + 70, x1 = left + width - 20;
  int y0 = top + 30, y1 = top + height - 50;

  double lo = INFINITY, hi = -INFINITY;
  bool hasVal = false;
  for (const EpochRecord &r : history)
    for (double EpochRecord::*field : {train, val})
      if (std::isfinite(r.*field)) {
        lo = std::min(lo, r.*field);
        hi = std::max(hi, r.*field);
        hasVal |= field == val;
      }
  for (const Point &p : steps)
    if (std::isfinite(p.y)) {
      lo = std::min(lo, p.y);
      hi = std::max(hi, p.y);
    }
  if (!std::isfinite(lo))
    lo = 0, hi = 1;
  Ticks yTicks = niceTicks(lo, hi, 6);
  double yMin = yTicks.first, yMax = yTicks.first + yTicks.step * (yTicks.count - 1);
  int64_t epochs = history.empty() ? 1 : history.back().epoch;
  // Steps start at the beginning of epoch 1.
  double xMin = history.empty() || !steps.empty() ? 0 : history.front().epoch;
  double xMax = std::max<double>(epochs, xMin + 1);
  if (!steps.empty())
    xMax = std::max(xMax, std::ceil(steps.back().x));
  auto px = [&](double epoch) {
    return x0 + static_cast<int>(std::lround((epoch - xMin) / (xMax - xMin) * (x1 - x0)));
  };
  auto py = [&](double value) {
    return y1 - static_cast<int>(std::lround((value - yMin) / (yMax - yMin) * (y1 - y0)));
  };

  image.text(left + (width - Image::textWidth(title)) / 2, top + 8, title, kBlack);
  for (int i = 0; i < yTicks.count; ++i) {
    double value = yTicks.first + i * yTicks.step;
    int y = py(value);
    image.line(x0, y, x1, y, kGrid);
    image.line(x0 - 5, y, x0, y, kBlack);
    std::string label = formatTick(value, yTicks.decimals);
    image.text(x0 - 9 - Image::textWidth(label), y - Image::textHeight() / 2,
               label, kBlack);
  }
  int64_t xStep = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((xMax - xMin) / 10)));
  for (int64_t e = static_cast<int64_t>(xMin); e <= static_cast<int64_t>(xMax); e += xStep) {
    int x = px(static_cast<double>(e));
    image.line(x, y1, x, y1 + 5, kBlack);
    std::string label = std::to_string(e);
    image.text(x - Image::textWidth(label) / 2, y1 + 10, label, kBlack);
  }
  image.text((x0 + x1 - Image::textWidth("EPOCH")) / 2, y1 + 28, "EPOCH", kBlack);
  image.line(x0, y0, x0, y1, kBlack);
  image.line(x0, y1, x1, y1, kBlack);

  // A line through `points`, broken at NaN values; the epochs' series
  // (thick) mark each point.
  auto curve = [&](const std::vector<Point> &points, Rgb color, bool thick) {
    int lastX = 0, lastY = 0;
    bool havePoint = false;
    for (const Point &p : points) {
      if (!std::isfinite(p.y)) {
        havePoint = false;
        continue;
      }
      int x = px(p.x), y = py(p.y);
      if (havePoint)
        image.line(lastX, lastY, x, y, color, thick ? 2 : 1);
      if (thick)
        image.fill(x - 2, y - 2, x + 2, y + 2, color);
      lastX = x, lastY = y, havePoint = true;
    }
  };
  auto series = [&](double EpochRecord::*field) {
    std::vector<Point> points;
    for (const EpochRecord &r : history)
      points.push_back({static_cast<double>(r.epoch), r.*field});
    return points;
  };
  curve(steps, kStepColor, /*thick=*/false);
  curve(series(train), kTrainColor, /*thick=*/true);
  curve(series(val), kValColor, /*thick=*/true);

  int entries = 1 + hasVal + !steps.empty();
  int lx1 = x1 - 8, lx0 = lx1 - 80;
  int ly0 = legendAtBottom ? y1 - 16 - 18 * entries : y0 + 8;
  image.fill(lx0, ly0, lx1, ly0 + 8 + 18 * entries, kWhite);
  for (int x : {lx0, lx1})
    image.line(x, ly0, x, ly0 + 8 + 18 * entries, kBlack);
  for (int y : {ly0, ly0 + 8 + 18 * entries})
    image.line(lx0, y, lx1, y, kBlack);
  auto entry = [&](int index, const std::string &name, Rgb color) {
    int y = ly0 + 13 + 18 * index;
    image.line(lx0 + 8, y, lx0 + 28, y, color, 2);
    image.text(lx0 + 36, y - Image::textHeight() / 2, name, kBlack);
  };
  entry(0, "TRAIN", kTrainColor);
  if (hasVal)
    entry(1, "VAL", kValColor);
  if (!steps.empty())
    entry(entries - 1, "STEP", kStepColor);
}

} // namespace

Image::Image(int width, int height, Rgb background)
    : width_(width), height_(height), pixels_(3 * size_t(width) * height) {
  fill(0, 0, width - 1, height - 1, background);
}

Rgb Image::at(int x, int y) const {
  const uint8_t *p = &pixels_[3 * (size_t(y) * width_ + x)];
  return {p[0], p[1], p[2]};
}

void Image::set(int x, int y, Rgb color) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_)
    return;
  uint8_t *p = &pixels_[3 * (size_t(y) * width_ + x)];
  p[0] = color.r, p[1] = color.g, p[2] = color.b;
}

void Image::fill(int x0, int y0, int x1, int y1, Rgb color) {
  for (int y = std::max(y0, 0); y <= std::min(y1, height_ - 1); ++y)
    for (int x = std::max(x0, 0); x <= std::min(x1, width_ - 1); ++x)
      set(x, y, color);
}

void Image::line(int x0, int y0, int x1, int y1, Rgb color, int thickness) {
  // Bresenham; a thick line stamps a square at each point.
  int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy, below = (thickness - 1) / 2, above = thickness / 2;
  while (true) {
    fill(x0 - below, y0 - below, x0 + above, y0 + above, color);
    if (x0 == x1 && y0 == y1)
      break;
    int e2 = 2 * err;
    if (e2 >= dy)
      err += dy, x0 += sx;
    if (e2 <= dx)
      err += dx, y0 += sy;
  }
}

void Image::text(int x, int y, const std::string &text, Rgb color, int scale) {
  for (char c : text) {
    if (const Glyph *glyph = findGlyph(c))
      for (int row = 0; row < 5; ++row)
        for (int col = 0; col < 3; ++col)
          if (glyph->rows[row] & (4 >> col))
            fill(x + col * scale, y + row * scale, x + (col + 1) * scale - 1,
                 y + (row + 1) * scale - 1, color);
    x += 4 * scale;
  }
}

int Image::textWidth(const std::string &text, int scale) {
  return text.empty() ? 0 : static_cast<int>(text.size()) * 4 * scale - scale;
}

bool writePng(const std::string &path, const Image &image, std::string &error) {
  AtomicFile file;
  if (!file.open(path, error))
    return false;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr,
                                            nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    error = "cannot write '" + path + "': out of memory";
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    error = "cannot write '" + path + "': libpng failed";
    return false;
  }
  png_set_write_fn(
      png, &file,
      [](png_structp p, png_bytep data, size_t size) {
        static_cast<AtomicFile *>(png_get_io_ptr(p))->write(data, size);
      },
      nullptr);
  png_set_IHDR(png, info, image.width(), image.height(), 8, PNG_COLOR_TYPE_RGB,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height(); ++y)
    png_write_row(png, image.row(y));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  if (!file.commit(error))
    return false;
  return true;
}

Image drawTrainingPlot(const std::vector<EpochRecord> &history,
                       const StepLosses &steps) {
  constexpr int kPanelWidth = 480, kHeight = 400;
  Image image(2 * kPanelWidth, kHeight, kWhite);
  drawPanel(image, 0, 0, kPanelWidth, kHeight, "LOSS", history,
            &EpochRecord::trainLoss, &EpochRecord::valLoss,
            /*legendAtBottom=*/false, stepPoints(history, steps));
  drawPanel(image, kPanelWidth, 0, kPanelWidth, kHeight, "ACCURACY", history,
            &EpochRecord::trainAcc, &EpochRecord::valAcc,
            /*legendAtBottom=*/true);
  return image;
}

} // namespace vitc::train
