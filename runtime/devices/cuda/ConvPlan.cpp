//===- ConvPlan.cpp - a convolution call as cuDNN computes it -------------===//
#include "ConvPlan.h"

#include <algorithm>
#include <climits>
#include <tuple>

namespace vitc::cuda {

using rt::DType;
using rt::Status;
using rt::StatusOr;

namespace {

struct Routine {
  const char *name;
  size_t rank; // 5: grouped
  DType input; // of input and filter; the output is f32
};

constexpr Routine kRoutines[] = {
    {"conv2d_f32", 4, DType::F32},
    {"conv2d_bf16", 4, DType::BF16},
    {"conv2d_grouped_f32", 5, DType::F32},
    {"conv2d_grouped_bf16", 5, DType::BF16},
};

const Routine *findRoutine(const std::string &name) {
  for (const Routine &r : kRoutines)
    if (name == r.name)
      return &r;
  return nullptr;
}

/// "operand input (sizes [2, 3, 8, 8], strides [192, 64, 8, 1])".
std::string operandText(const char *name, const rt::DeviceTensor &t) {
  return std::string("operand ") + name + " (sizes " +
         rt::shapeString(t.sizes) + ", strides " + rt::shapeString(t.strides) +
         ")";
}

/// Rank and element type of an operand, as the routine takes them.
Status checkOperand(const Routine &spec, const rt::DeviceTensor &t,
                    const char *name, DType dtype) {
  std::string what = std::string("operand ") + name;
  if (t.sizes.size() != spec.rank || t.strides.size() != t.sizes.size())
    return Status::error(what + " has sizes " + rt::shapeString(t.sizes) +
                         " and strides " + rt::shapeString(t.strides) +
                         "; the routine takes rank-" +
                         std::to_string(spec.rank) + " tensors");
  if (t.dtype != dtype)
    return Status::error(what + " is " + rt::dtypeName(t.dtype) + ", not " +
                         rt::dtypeName(dtype));
  for (int64_t size : t.sizes)
    if (size < 0)
      return Status::error(what + " has sizes " + rt::shapeString(t.sizes) +
                           ": negative sizes are not supported");
  return Status::ok();
}

/// An activation (input or output) as cuDNN's NCHW, groups merged into
/// channels; int64 until the plan checks that cuDNN's ints hold it.
struct Activation {
  std::array<int64_t, 4> dims{}, strides{};
  int64_t groups = 1, channels = 0; // channels per group
};

StatusOr<Activation> activation(const rt::DeviceTensor &t, const char *name) {
  const std::vector<int64_t> &s = t.sizes, &st = t.strides;
  Activation a;
  if (s.size() == 4) {
    std::copy(s.begin(), s.end(), a.dims.begin());
    std::copy(st.begin(), st.end(), a.strides.begin());
    a.channels = s[1];
    return a;
  }
  // N, G, C, H, W: G and C must step through memory as one dim.
  if (s[1] > 1 && s[2] > 1 && st[1] != s[2] * st[2])
    return Status::error(operandText(name, t) +
                         " has its group and channel dims apart (stride " +
                         std::to_string(st[1]) + ", not " +
                         std::to_string(s[2]) + " * " + std::to_string(st[2]) +
                         "): cuDNN reads the groups' channels as one "
                         "dim");
  a.dims = {s[0], s[1] * s[2], s[3], s[4]};
  a.strides = {st[0], s[2] > 1 ? st[2] : st[1], st[3], st[4]};
  a.groups = s[1];
  a.channels = s[2];
  return a;
}

/// Whether `t` is packed in its identity layout (size-1 dims excepted).
bool packedAsIs(const rt::DeviceTensor &t) {
  int64_t expected = 1;
  for (size_t d = t.sizes.size(); d-- > 0;) {
    if (t.sizes[d] != 1 && t.strides[d] != expected)
      return false;
    expected *= std::max<int64_t>(t.sizes[d], 1);
  }
  return true;
}

/// The rows (or columns) of x that cuDNN reads along one spatial dim, of
/// the call's `in`: cuDNN's output has exactly (in + 2 pad - extent) /
/// stride + 1 rows, so x keeps the fewest rows that give `out` (up to
/// stride - 1 more, which no output reads). A row left out must be one no
/// output reads: cuDNN reads it as padding.
StatusOr<int64_t> fitInput(const char *dim, int64_t in, int64_t out,
                           int64_t kernel, int64_t stride, int64_t dilation,
                           int64_t pad) {
  int64_t extent = (kernel - 1) * dilation + 1;
  int64_t fewest = (out - 1) * stride + extent - 2 * pad;
  int64_t fitted = std::min(in, fewest + stride - 1);
  int64_t read = (out - 1) * stride + extent - pad; // rows 0 .. read - 1
  if (fitted >= std::max<int64_t>(fewest, 1) &&
      (fitted == in || fitted >= read))
    return fitted;
  int64_t gives =
      in + 2 * pad >= extent ? (in + 2 * pad - extent) / stride + 1 : 0;
  return Status::error(
      std::string("the output's ") + dim + " " + std::to_string(out) +
      " does not fit the input's " + std::to_string(in) + ": kernel " +
      std::to_string(kernel) + ", stride " + std::to_string(stride) +
      ", dilation " + std::to_string(dilation) + " and pads " +
      std::to_string(pad) + "/" + std::to_string(pad) + " give " +
      std::to_string(gives) + " (cuDNN pads both sides alike)");
}

/// `a` as cuDNN's tensor: a size-1 dim gets the stride it would have if
/// packed (cuDNN refuses strides below 1, and a canonical stride keeps
/// packed tensors recognisably packed), every other stride must be
/// positive, and all must fit cuDNN's ints.
StatusOr<CudnnTensor> toCudnn(const Activation &a, const rt::DeviceTensor &t,
                              const char *name) {
  std::array<int64_t, 4> strides = a.strides;
  for (int d = 3; d >= 0; --d) {
    if (a.dims[d] == 1)
      strides[d] = d == 3 ? 1 : strides[d + 1] * a.dims[d + 1];
    else if (strides[d] < 1)
      return Status::error(operandText(name, t) +
                           " has a stride below 1 in a dim larger than 1: "
                           "cuDNN needs positive strides");
  }
  CudnnTensor c;
  for (int d = 0; d < 4; ++d) {
    if (a.dims[d] > INT_MAX || strides[d] > INT_MAX)
      return Status::error(operandText(name, t) +
                           " has sizes or strides beyond the 32-bit ones "
                           "cuDNN takes");
    c.dims[d] = static_cast<int>(a.dims[d]);
    c.strides[d] = static_cast<int>(strides[d]);
  }
  c.data = t.data;
  return c;
}

std::string dims(const std::array<int, 4> &d) {
  return std::to_string(d[0]) + "x" + std::to_string(d[1]) + "x" +
         std::to_string(d[2]) + "x" + std::to_string(d[3]);
}

std::string pair(const std::array<int, 2> &p) {
  return std::to_string(p[0]) + "x" + std::to_string(p[1]);
}

} // namespace

std::array<int, 4> packedStrides(const std::array<int, 4> &dims) {
  std::array<int, 4> strides{};
  int stride = 1;
  for (int d = 3; d >= 0; --d) {
    strides[d] = stride;
    stride *= std::max(dims[d], 1);
  }
  return strides;
}

bool isPacked(const CudnnTensor &t) {
  std::array<int, 4> packed = packedStrides(t.dims);
  for (int d = 0; d < 4; ++d)
    if (t.dims[d] != 1 && t.strides[d] != packed[d])
      return false;
  return true;
}

bool isConvRoutine(const std::string &routine) {
  return findRoutine(routine) != nullptr;
}

StatusOr<ConvPlan> planConv(const rt::LibraryCall &call) {
  const Routine *spec = findRoutine(call.routine);
  if (!spec)
    return Status::error("'" + call.routine +
                         "' is not a convolution routine (conv2d_f32, "
                         "conv2d_bf16, conv2d_grouped_f32, "
                         "conv2d_grouped_bf16)");
  if (call.tensors.size() != 3)
    return Status::error("expected 3 tensors (input, filter, output), got " +
                         std::to_string(call.tensors.size()));
  if (call.scalars.size() != 11)
    return Status::error(
        "expected 11 scalars (strideH, strideW, dilationH, dilationW, "
        "padTop, padLeft, padBottom, padRight, accumulate, constantFilter, "
        "reorderHints), got " +
        std::to_string(call.scalars.size()));
  const rt::DeviceTensor &input = call.tensors[0], &filter = call.tensors[1],
                         &output = call.tensors[2];
  for (auto [tensor, name, dtype] : {std::tuple{&input, "input", spec->input},
                                     std::tuple{&filter, "filter", spec->input},
                                     std::tuple{&output, "output", DType::F32}})
    if (Status s = checkOperand(*spec, *tensor, name, dtype); !s.isOk())
      return s;
  auto x = activation(input, "input");
  if (!x.isOk())
    return x.status();
  auto y = activation(output, "output");
  if (!y.isOk())
    return y.status();

  // The filter: (F, C, KH, KW), or (G, F, C, KH, KW).
  const std::vector<int64_t> &f = filter.sizes;
  bool grouped = spec->rank == 5;
  int64_t filterGroups = grouped ? f[0] : 1;
  int64_t filterOut = f[grouped], filterIn = f[grouped + 1];
  int64_t kernel[2] = {f[grouped + 2], f[grouped + 3]};
  if (x->groups != filterGroups || y->groups != filterGroups)
    return Status::error("the groups do not match: the input has " +
                         std::to_string(x->groups) + ", the filter " +
                         std::to_string(filterGroups) + ", the output " +
                         std::to_string(y->groups));
  if (x->dims[0] != y->dims[0])
    return Status::error("the batches do not match: the input has " +
                         std::to_string(x->dims[0]) + ", the output " +
                         std::to_string(y->dims[0]));
  if (x->channels != filterIn)
    return Status::error("the input channels do not match: the input has " +
                         std::to_string(x->channels) +
                         (grouped ? " per group" : "") + ", the filter " +
                         std::to_string(filterIn));
  if (y->channels != filterOut)
    return Status::error("the output channels do not match: the filter has " +
                         std::to_string(filterOut) +
                         (grouped ? " per group" : "") + ", the output " +
                         std::to_string(y->channels));

  const std::vector<int64_t> &s = call.scalars;
  int64_t stride[2] = {s[0], s[1]}, dilation[2] = {s[2], s[3]};
  int64_t padBefore[2] = {s[4], s[5]}, padAfter[2] = {s[6], s[7]};
  if (stride[0] < 1 || stride[1] < 1)
    return Status::error("strides must be positive, got " +
                         std::to_string(stride[0]) + "x" +
                         std::to_string(stride[1]));
  if (dilation[0] < 1 || dilation[1] < 1)
    return Status::error("dilations count from 1 (dense), got " +
                         std::to_string(dilation[0]) + "x" +
                         std::to_string(dilation[1]));
  if (*std::min_element(s.begin() + 4, s.begin() + 8) < 0)
    return Status::error(
        "pads must not be negative, got top " + std::to_string(s[4]) +
        ", left " + std::to_string(s[5]) + ", bottom " + std::to_string(s[6]) +
        ", right " + std::to_string(s[7]));
  const char *sides[2][2] = {{"top", "bottom"}, {"left", "right"}};
  for (int i = 0; i < 2; ++i)
    if (padBefore[i] != padAfter[i])
      return Status::error(std::string("cuDNN needs symmetric padding, got ") +
                           sides[i][0] + " " + std::to_string(padBefore[i]) +
                           " / " + sides[i][1] + " " +
                           std::to_string(padAfter[i]));

  ConvPlan plan;
  plan.bf16 = spec->input == DType::BF16;
  plan.accumulate = s[8] != 0;
  plan.dataType = plan.bf16 ? kCudnnDataBfloat16 : kCudnnDataFloat;
  plan.scratchOutput = plan.bf16;
  plan.mathType = plan.bf16 ? kCudnnTensorOpMath : kCudnnFmaMath;
  for (int64_t size : y->dims)
    if (size == 0)
      return plan; // Work::None: no element to write.

  if (!packedAsIs(filter))
    return Status::error(operandText("filter", filter) +
                         " is not packed: cuDNN reads the filter in its "
                         "identity layout");
  for (auto [tensor, name] :
       {std::pair{&input, "input"}, std::pair{&filter, "filter"}})
    for (int64_t size : tensor->sizes)
      if (size == 0)
        return Status::error(operandText(name, *tensor) +
                             " has an empty dim: cuDNN needs positive sizes");

  const char *names[2] = {"height", "width"};
  for (int i = 0; i < 2; ++i) {
    auto fitted = fitInput(names[i], x->dims[2 + i], y->dims[2 + i], kernel[i],
                           stride[i], dilation[i], padBefore[i]);
    if (!fitted.isOk())
      return fitted.status();
    x->dims[2 + i] = *fitted;
  }
  auto cx = toCudnn(*x, input, "input");
  if (!cx.isOk())
    return cx.status();
  auto cy = toCudnn(*y, output, "output");
  if (!cy.isOk())
    return cy.status();
  int64_t filterDims[4] = {filterGroups * filterOut, filterIn, kernel[0],
                           kernel[1]};
  for (int d = 0; d < 4; ++d) {
    if (filterDims[d] > INT_MAX)
      return Status::error(operandText("filter", filter) +
                           " has sizes beyond the 32-bit ones cuDNN takes");
    plan.filter[d] = static_cast<int>(filterDims[d]);
  }
  for (int i = 0; i < 2; ++i) {
    if (stride[i] > INT_MAX || dilation[i] > INT_MAX || padBefore[i] > INT_MAX)
      return Status::error("a stride, dilation or pad is beyond the 32-bit "
                           "ones cuDNN takes");
    plan.stride[i] = static_cast<int>(stride[i]);
    plan.dilation[i] = static_cast<int>(dilation[i]);
    plan.pad[i] = static_cast<int>(padBefore[i]);
  }
  plan.work = ConvPlan::Work::Convolution;
  plan.x = *cx;
  plan.y = *cy;
  plan.w = filter.data;
  plan.groups = static_cast<int>(filterGroups); // <= the channels' count
  return plan;
}

std::string describe(const ConvPlan &plan) {
  std::string text = "input " + dims(plan.x.dims) + ", filter " +
                     dims(plan.filter) + ", output " + dims(plan.y.dims) +
                     ", stride " + pair(plan.stride) + ", dilation " +
                     pair(plan.dilation) + ", pad " + pair(plan.pad);
  if (plan.groups != 1)
    text += ", groups " + std::to_string(plan.groups);
  return text;
}

} // namespace vitc::cuda
