//===- OpsRandom.cpp - import rules for ONNX's random-number ops ------------===//
//
// RandomUniform(Like), RandomNormal(Like) and Bernoulli, as training-mode
// exports use them (stochastic depth in EfficientNet, ConvNeXt, Swin and
// MaxViT draws a keep mask per sample). Every draw comes from
// vt.random_uniform keyed by the model's seed, like Dropout's masks: the
// values are a pure function of (seed, node, element), the same on every
// target and thread count, and the trainer gives each step its own seed.
// A node's `seed` attribute is not used in training: a fixed seed would draw
// the same mask at every step. An evaluation or inference import (a model
// exported in training mode, evaluated) keys its draws by the node's seed
// attribute instead, and vt-random-expectation turns keep masks into their
// expectations.
//
//===----------------------------------------------------------------------===//
#include "OpHelpers.h"

#include <cmath>

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

Value vitc::onnx_import::uniformDraw(NodeImporter &n, RankedTensorType type,
                                     Value like, int64_t draw) {
  OpBuilder &b = n.builder();
  Value shape;
  if (!type.hasStaticShape())
    shape = vt::ShapeOfOp::create(
        b, n.loc(), RankedTensorType::get({type.getRank()}, b.getI64Type()),
        like);
  // Streams of further draws sit far above every node index.
  int64_t stream = (int64_t)n.index() + (draw << 32);
  // A training import keys draws by the step's seed; an evaluation or
  // inference import by the node's `seed` attribute (0 without one), so
  // that it has no seed input: stochastic-depth masks become their
  // expectation there (vt-random-expectation), any other draw is the same
  // on every call.
  // ONNX's seed is a float: any finite value is reduced into the range
  // integers convert from exactly (a NaN or infinity counts as 0).
  double attrSeed = n.attrFloat("seed", 0.0);
  attrSeed = std::isfinite(attrSeed) ? std::trunc(std::fmod(attrSeed, 0x1p53))
                                     : 0.0;
  Value seed = n.training() ? n.seed() : n.scalar(b.getI64Type(), attrSeed);
  return vt::RandomUniformOp::create(b, n.loc(), type.clone(b.getF32Type()),
                                     seed, shape, /*first=*/Value(), stream);
}

/// The element type of the result: attribute `dtype` if present, else
/// `dflt`; an error unless `floatOnly` allows it.
static FailureOr<Type> resultElementType(NodeImporter &n, Type dflt,
                                         bool floatOnly) {
  Type elt = dflt;
  if (n.hasAttr("dtype")) {
    int64_t dtype = n.attrInt("dtype", 0);
    elt = convertElementType(n.context(), dtype);
    if (!elt)
      return n.error() << "unsupported dtype " << dataTypeName(dtype);
  }
  if (floatOnly && !isa<FloatType>(elt))
    return n.error() << "draws floating-point values, not " << elt;
  return elt;
}

/// The shape of a Random* node without a `Like`: attribute `shape`.
static FailureOr<RankedTensorType> attributeShape(NodeImporter &n) {
  std::optional<SmallVector<int64_t>> shape = n.attrInts("shape");
  if (!shape)
    return n.error() << "missing attribute 'shape'";
  for (int64_t d : *shape)
    if (d < 0)
      return n.error() << "attribute 'shape' has a negative dim " << d;
  return RankedTensorType::get(*shape, n.builder().getF32Type());
}

/// low + (high - low) * u, in `elt`.
static LogicalResult buildUniform(NodeImporter &n, RankedTensorType type,
                                  Value like, Type elt) {
  double low = n.attrFloat("low", 0.0), high = n.attrFloat("high", 1.0);
  if (!(low <= high))
    return n.error() << "low " << low << " is above high " << high;
  Value u = uniformDraw(n, type, like);
  if (low == 0.0 && high == 1.0) { // the draw itself, as masks compare it
    n.setResult(0, n.castTo(u, elt));
    return success();
  }
  Type f32 = n.builder().getF32Type();
  auto scaled = n.build<vt::MulOp>(u, n.scalar(f32, high - low));
  if (failed(scaled))
    return failure();
  auto shifted = n.build<vt::AddOp>(*scaled, n.scalar(f32, low));
  if (failed(shifted))
    return failure();
  n.setResult(0, n.castTo(*shifted, elt));
  return success();
}

/// mean + scale * z, z standard normal by Box-Muller from two draws:
/// z = sqrt(-2 ln(1 - u1)) cos(2 pi u2), 1 - u1 in (0, 1].
static LogicalResult buildNormal(NodeImporter &n, RankedTensorType type,
                                 Value like, Type elt) {
  double mean = n.attrFloat("mean", 0.0), scale = n.attrFloat("scale", 1.0);
  Type f32 = n.builder().getF32Type();
  Value u1 = uniformDraw(n, type, like, /*draw=*/0);
  Value u2 = uniformDraw(n, type, like, /*draw=*/1);
  FailureOr<Value> open = n.build<vt::SubOp>(n.scalar(f32, 1.0), u1);
  if (failed(open))
    return failure();
  Value logU = vt::LogOp::create(n.builder(), n.loc(), open->getType(), *open);
  FailureOr<Value> radius2 = n.build<vt::MulOp>(logU, n.scalar(f32, -2.0));
  if (failed(radius2))
    return failure();
  Value radius =
      vt::SqrtOp::create(n.builder(), n.loc(), radius2->getType(), *radius2);
  FailureOr<Value> angle = n.build<vt::MulOp>(u2, n.scalar(f32, 2.0 * M_PI));
  if (failed(angle))
    return failure();
  Value cosine =
      vt::CosOp::create(n.builder(), n.loc(), angle->getType(), *angle);
  FailureOr<Value> z = n.build<vt::MulOp>(radius, cosine);
  if (failed(z))
    return failure();
  FailureOr<Value> scaled = n.build<vt::MulOp>(*z, n.scalar(f32, scale));
  if (failed(scaled))
    return failure();
  FailureOr<Value> shifted = n.build<vt::AddOp>(*scaled, n.scalar(f32, mean));
  if (failed(shifted))
    return failure();
  n.setResult(0, n.castTo(*shifted, elt));
  return success();
}

using DrawBuilder = LogicalResult (*)(NodeImporter &, RankedTensorType,
                                      Value, Type);

/// Random{Uniform,Normal}: the shape from attribute `shape`, f32 unless
/// `dtype` says otherwise.
template <DrawBuilder build>
static LogicalResult importDrawOfShape(NodeImporter &n) {
  FailureOr<RankedTensorType> type = attributeShape(n);
  FailureOr<Type> elt =
      resultElementType(n, n.builder().getF32Type(), /*floatOnly=*/true);
  if (failed(type) || failed(elt))
    return failure();
  return build(n, *type, Value(), *elt);
}

/// Random{Uniform,Normal}Like: the input's shape and, unless `dtype` says
/// otherwise, its element type.
template <DrawBuilder build>
static LogicalResult importDrawLike(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value like = n.input(0);
  FailureOr<Type> elt = resultElementType(
      n, tensorType(like).getElementType(), /*floatOnly=*/true);
  if (failed(elt))
    return failure();
  return build(n, tensorType(like), like, *elt);
}

LogicalResult vitc::onnx_import::importRandomUniform(NodeImporter &n) {
  return importDrawOfShape<buildUniform>(n);
}
LogicalResult vitc::onnx_import::importRandomUniformLike(NodeImporter &n) {
  return importDrawLike<buildUniform>(n);
}
LogicalResult vitc::onnx_import::importRandomNormal(NodeImporter &n) {
  return importDrawOfShape<buildNormal>(n);
}
LogicalResult vitc::onnx_import::importRandomNormalLike(NodeImporter &n) {
  return importDrawLike<buildNormal>(n);
}

/// Bernoulli(p): 1 where a draw u < p, else 0 (p outside [0, 1] clamps).
LogicalResult vitc::onnx_import::importBernoulli(NodeImporter &n) {
  if (failed(n.expectInputs(1)))
    return failure();
  Value p = n.input(0);
  auto type = tensorType(p);
  if (!isa<FloatType>(type.getElementType()))
    return n.error() << "expects float probabilities, got " << p.getType();
  FailureOr<Type> elt =
      resultElementType(n, type.getElementType(), /*floatOnly=*/false);
  if (failed(elt))
    return failure();
  Value u = uniformDraw(n, type, p);
  FailureOr<Value> hit =
      n.build<vt::LessOp>(u, n.castTo(p, n.builder().getF32Type()));
  if (failed(hit))
    return failure();
  n.setResult(0, n.castTo(*hit, *elt));
  return success();
}
