//===- VtToLinalgElementwise.cpp - elementwise vt ops -> linalg.generic ----===//
//
// Every elementwise vt op becomes one linalg.generic over the broadcast of
// its operands, with a scalar body in arith/math. Linalg elementwise fusion
// later merges the generics of a fused region into one loop nest.
//
//===----------------------------------------------------------------------===//
#include "compiler/Lowering/VtToLinalg.h"

#include "vitc/Dialect/Vt/VtOps.h"
#include "vitc/Dialect/Vt/VtRandom.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"

#include <cmath>

using namespace mlir;

namespace vitc {

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

Value scalarConstant(OpBuilder &b, Location loc, Type type, double v) {
  if (isa<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(type, v));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, (int64_t)v);
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, (int64_t)v));
}

Value dimValue(OpBuilder &b, Location loc, Value v, int64_t dim) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!type.isDynamicDim(dim))
    return arith::ConstantIndexOp::create(b, loc, type.getDimSize(dim));
  return tensor::DimOp::create(b, loc, v, dim);
}

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType, ValueRange dynSizes) {
  return tensor::EmptyOp::create(b, loc, shape, elementType, dynSizes);
}

Value filledLike(OpBuilder &b, Location loc, RankedTensorType type,
                 ValueRange dynSizes, Value fillValue) {
  Value empty =
      emptyTensor(b, loc, type.getShape(), type.getElementType(), dynSizes);
  if (!fillValue)
    return empty;
  return linalg::FillOp::create(b, loc, fillValue, empty).getResult(0);
}

Value castTo(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return tensor::CastOp::create(b, loc, type, v);
}

Value padTensor(OpBuilder &b, Location loc, Value source,
                ArrayRef<OpFoldResult> low, ArrayRef<OpFoldResult> high,
                Value value) {
  auto isZero = [](OpFoldResult r) { return isConstantIntValue(r, 0); };
  if (llvm::all_of(low, isZero) && llvm::all_of(high, isZero))
    return source;
  return tensor::PadOp::create(b, loc, Type(), source, low, high, value);
}

/// Result shape of numpy broadcasting, with the operand providing each
/// dynamic dim (right-aligned dim index into that operand).
struct BroadcastShape {
  SmallVector<int64_t> shape;
  SmallVector<Value> dynSizes;
};

static BroadcastShape broadcastShape(OpBuilder &b, Location loc,
                                     ValueRange operands) {
  int64_t rank = 0;
  for (Value v : operands)
    rank = std::max(rank, cast<RankedTensorType>(v.getType()).getRank());
  BroadcastShape result;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t size = 1;
    Value dynFrom;
    int64_t dynDim = -1;
    for (Value v : operands) {
      auto type = cast<RankedTensorType>(v.getType());
      int64_t vd = d - (rank - type.getRank());
      if (vd < 0)
        continue;
      int64_t s = type.getDimSize(vd);
      if (s == ShapedType::kDynamic) {
        if (!dynFrom) {
          dynFrom = v;
          dynDim = vd;
        }
      } else if (s != 1) {
        size = s;
      }
    }
    // A static extent other than 1 wins; a dynamic one is assumed to match.
    if (size == 1 && dynFrom) {
      result.shape.push_back(ShapedType::kDynamic);
      result.dynSizes.push_back(tensor::DimOp::create(b, loc, dynFrom, dynDim));
    } else {
      result.shape.push_back(size);
    }
  }
  return result;
}

/// Indexing map reading an operand of `type` inside a loop nest over a
/// result of `resultShape`: static unit dims that broadcast read index 0.
static AffineMap broadcastMap(MLIRContext *ctx, RankedTensorType type,
                              ArrayRef<int64_t> resultShape) {
  int64_t rank = resultShape.size();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t rd = d + rank - type.getRank();
    if (type.getDimSize(d) == 1 && resultShape[rd] != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(rd, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

static Value buildGenericOver(
    OpBuilder &b, Location loc, ValueRange operands, Type elementType,
    const BroadcastShape &out,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = out.shape.size();
  SmallVector<AffineMap> maps;
  for (Value v : operands)
    maps.push_back(
        broadcastMap(ctx, cast<RankedTensorType>(v.getType()), out.shape));
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, ctx));
  Value init = emptyTensor(b, loc, out.shape, elementType, out.dynSizes);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), operands, init, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value v = body(nb, nloc, args.drop_back());
        linalg::YieldOp::create(nb, nloc, v);
      });
  return generic.getResult(0);
}

Value buildElementwise(
    OpBuilder &b, Location loc, ValueRange operands, Type elementType,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return buildGenericOver(b, loc, operands, elementType,
                          broadcastShape(b, loc, operands), body);
}

Value buildBroadcast(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> resultShape, ValueRange dynSizes) {
  BroadcastShape out{llvm::to_vector(resultShape), llvm::to_vector(dynSizes)};
  return buildGenericOver(
      b, loc, input, cast<RankedTensorType>(input.getType()).getElementType(),
      out, [](OpBuilder &, Location, ValueRange args) { return args[0]; });
}

//===----------------------------------------------------------------------===//
// Scalar bodies
//===----------------------------------------------------------------------===//

namespace {

/// Scalar semantics of one elementwise op: returns the result scalar, or
/// null when the element type is not supported (the pattern then reports
/// an error at the op).
template <typename OpTy>
struct Scalar;

#define VT_FLOAT_UNARY(VT, MATH)                                               \
  template <>                                                                  \
  struct Scalar<vt::VT> {                                                      \
    static Value build(vt::VT, OpBuilder &b, Location loc, ValueRange a,       \
                       Type) {                                                 \
      if (!isa<FloatType>(a[0].getType()))                                     \
        return {};                                                             \
      return MATH::create(b, loc, a[0]);                                       \
    }                                                                          \
  };
VT_FLOAT_UNARY(ExpOp, math::ExpOp)
VT_FLOAT_UNARY(LogOp, math::LogOp)
VT_FLOAT_UNARY(SqrtOp, math::SqrtOp)
VT_FLOAT_UNARY(RsqrtOp, math::RsqrtOp)
VT_FLOAT_UNARY(ErfOp, math::ErfOp)
VT_FLOAT_UNARY(TanhOp, math::TanhOp)
VT_FLOAT_UNARY(SinOp, math::SinOp)
VT_FLOAT_UNARY(CosOp, math::CosOp)
VT_FLOAT_UNARY(FloorOp, math::FloorOp)
#undef VT_FLOAT_UNARY

static bool isFloat(Value v) { return isa<FloatType>(v.getType()); }
static bool isInt(Value v) { return isa<IntegerType>(v.getType()); }

template <>
struct Scalar<vt::NegOp> {
  static Value build(vt::NegOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (isFloat(a[0]))
      return arith::NegFOp::create(b, loc, a[0]);
    Value zero = scalarConstant(b, loc, a[0].getType(), 0);
    return arith::SubIOp::create(b, loc, zero, a[0]);
  }
};

template <>
struct Scalar<vt::AbsOp> {
  static Value build(vt::AbsOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (isFloat(a[0]))
      return math::AbsFOp::create(b, loc, a[0]);
    return math::AbsIOp::create(b, loc, a[0]);
  }
};

template <>
struct Scalar<vt::ReluOp> {
  static Value build(vt::ReluOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    Value zero = scalarConstant(b, loc, a[0].getType(), 0);
    if (isFloat(a[0]))
      return arith::MaximumFOp::create(b, loc, a[0], zero);
    return arith::MaxSIOp::create(b, loc, a[0], zero);
  }
};

template <>
struct Scalar<vt::SigmoidOp> {
  static Value build(vt::SigmoidOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (!isFloat(a[0]))
      return {};
    Type t = a[0].getType();
    Value one = scalarConstant(b, loc, t, 1.0);
    Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, a[0]));
    return arith::DivFOp::create(b, loc, one,
                                 arith::AddFOp::create(b, loc, one, e));
  }
};

template <>
struct Scalar<vt::ReciprocalOp> {
  static Value build(vt::ReciprocalOp, OpBuilder &b, Location loc,
                     ValueRange a, Type) {
    if (!isFloat(a[0]))
      return {};
    return arith::DivFOp::create(
        b, loc, scalarConstant(b, loc, a[0].getType(), 1.0), a[0]);
  }
};

template <>
struct Scalar<vt::NotOp> {
  static Value build(vt::NotOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (!a[0].getType().isInteger(1))
      return {};
    Value t = arith::ConstantOp::create(b, loc, b.getBoolAttr(true));
    return arith::XOrIOp::create(b, loc, a[0], t);
  }
};

/// gelu(x) = x/2 (1 + erf(x / sqrt 2)), or with `tanh`,
/// x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
static Value geluScalar(OpBuilder &b, Location loc, Value x, bool tanhForm) {
  Type t = x.getType();
  Value half = arith::MulFOp::create(b, loc, x, scalarConstant(b, loc, t, 0.5));
  Value one = scalarConstant(b, loc, t, 1.0);
  Value inner;
  if (tanhForm) {
    Value x3 = arith::MulFOp::create(b, loc, arith::MulFOp::create(b, loc, x, x),
                                     x);
    Value poly = arith::AddFOp::create(
        b, loc, x,
        arith::MulFOp::create(b, loc, x3, scalarConstant(b, loc, t, 0.044715)));
    inner = math::TanhOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, poly,
                              scalarConstant(b, loc, t, std::sqrt(2.0 / M_PI))));
  } else {
    inner = math::ErfOp::create(
        b, loc,
        arith::MulFOp::create(b, loc, x, scalarConstant(b, loc, t, M_SQRT1_2)));
  }
  return arith::MulFOp::create(b, loc, half,
                               arith::AddFOp::create(b, loc, one, inner));
}

template <>
struct Scalar<vt::GeluOp> {
  static Value build(vt::GeluOp op, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (!isFloat(a[0]))
      return {};
    return geluScalar(b, loc, a[0], op.getApproximateTanh());
  }
};

template <>
struct Scalar<vt::LeakyReluOp> {
  static Value build(vt::LeakyReluOp op, OpBuilder &b, Location loc,
                     ValueRange a, Type) {
    if (!isFloat(a[0]))
      return {};
    Type t = a[0].getType();
    Value zero = scalarConstant(b, loc, t, 0);
    Value scaled = arith::MulFOp::create(
        b, loc, a[0], scalarConstant(b, loc, t, op.getAlpha().convertToDouble()));
    Value neg =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0], zero);
    return arith::SelectOp::create(b, loc, neg, scaled, a[0]);
  }
};

/// An f64 attribute bound as a constant of integer type `t`, saturated to
/// the type's range (clip bounds are often +-inf or +-FLT_MAX).
static Value saturatedIntConstant(OpBuilder &b, Location loc,
                                  IntegerType t, double v) {
  unsigned w = t.getWidth();
  double lo = w >= 64 ? -9.2e18 : -std::ldexp(1.0, w - 1);
  double hi = w >= 64 ? 9.2e18 : std::ldexp(1.0, w - 1) - 1;
  return scalarConstant(b, loc, t, std::clamp(v, lo, hi));
}

template <>
struct Scalar<vt::ClampOp> {
  static Value build(vt::ClampOp op, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    double lo = op.getMin().convertToDouble(), hi = op.getMax().convertToDouble();
    Type t = a[0].getType();
    if (isFloat(a[0])) {
      Value v = arith::MaximumFOp::create(b, loc, a[0],
                                          scalarConstant(b, loc, t, lo));
      return arith::MinimumFOp::create(b, loc, v, scalarConstant(b, loc, t, hi));
    }
    auto it = dyn_cast<IntegerType>(t);
    if (!it || it.getWidth() == 1)
      return {};
    Value v = arith::MaxSIOp::create(b, loc, a[0],
                                     saturatedIntConstant(b, loc, it, lo));
    return arith::MinSIOp::create(b, loc, v,
                                  saturatedIntConstant(b, loc, it, hi));
  }
};

/// max(0, min(1, alpha x + beta)).
static Value hardSigmoidScalar(OpBuilder &b, Location loc, Value x,
                               double alpha, double beta) {
  Type t = x.getType();
  Value v = arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, x, scalarConstant(b, loc, t, alpha)),
      scalarConstant(b, loc, t, beta));
  v = arith::MinimumFOp::create(b, loc, v, scalarConstant(b, loc, t, 1.0));
  return arith::MaximumFOp::create(b, loc, v, scalarConstant(b, loc, t, 0.0));
}

template <>
struct Scalar<vt::HardSigmoidOp> {
  static Value build(vt::HardSigmoidOp op, OpBuilder &b, Location loc,
                     ValueRange a, Type) {
    if (!isFloat(a[0]))
      return {};
    return hardSigmoidScalar(b, loc, a[0], op.getAlpha().convertToDouble(),
                             op.getBeta().convertToDouble());
  }
};

template <>
struct Scalar<vt::HardSwishOp> {
  static Value build(vt::HardSwishOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    if (!isFloat(a[0]))
      return {};
    return arith::MulFOp::create(b, loc, a[0],
                                 hardSigmoidScalar(b, loc, a[0], 1.0 / 6, 0.5));
  }
};

/// ONNX Cast: float -> int truncates toward zero, anything -> bool tests
/// for nonzero, bool -> anything gives 0 or 1.
template <>
struct Scalar<vt::CastOp> {
  static Value build(vt::CastOp, OpBuilder &b, Location loc, ValueRange a,
                     Type to) {
    Value x = a[0];
    Type from = x.getType();
    if (from == to)
      return x;
    auto fromF = dyn_cast<FloatType>(from), toF = dyn_cast<FloatType>(to);
    auto fromI = dyn_cast<IntegerType>(from), toI = dyn_cast<IntegerType>(to);
    if (toI && toI.getWidth() == 1) {
      Value zero = scalarConstant(b, loc, from, 0);
      if (fromF)
        return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, x, zero);
      if (fromI)
        return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, x, zero);
      return {};
    }
    if (fromF && toF)
      return fromF.getWidth() < toF.getWidth()
                 ? (Value)arith::ExtFOp::create(b, loc, to, x)
                 : (Value)arith::TruncFOp::create(b, loc, to, x);
    if (fromI && toF)
      return fromI.getWidth() == 1
                 ? (Value)arith::UIToFPOp::create(b, loc, to, x)
                 : (Value)arith::SIToFPOp::create(b, loc, to, x);
    if (fromF && toI)
      return arith::FPToSIOp::create(b, loc, to, x);
    if (fromI && toI) {
      if (fromI.getWidth() == 1)
        return arith::ExtUIOp::create(b, loc, to, x);
      if (fromI.getWidth() < toI.getWidth())
        return arith::ExtSIOp::create(b, loc, to, x);
      return arith::TruncIOp::create(b, loc, to, x);
    }
    return {};
  }
};

/// Binary ops: a float builder and an integer builder (null: unsupported).
template <typename FOp, typename IOp>
static Value floatOrInt(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0])) {
    if constexpr (std::is_same_v<FOp, void>)
      return {};
    else
      return FOp::create(b, loc, a[0], a[1]);
  }
  if (isInt(a[0])) {
    if constexpr (std::is_same_v<IOp, void>)
      return {};
    else
      return IOp::create(b, loc, a[0], a[1]);
  }
  return {};
}

#define VT_BINARY(VT, FOP, IOP)                                                \
  template <>                                                                  \
  struct Scalar<vt::VT> {                                                      \
    static Value build(vt::VT, OpBuilder &b, Location loc, ValueRange a,       \
                       Type) {                                                 \
      return floatOrInt<FOP, IOP>(b, loc, a);                                  \
    }                                                                          \
  };
VT_BINARY(AddOp, arith::AddFOp, arith::AddIOp)
VT_BINARY(SubOp, arith::SubFOp, arith::SubIOp)
VT_BINARY(MulOp, arith::MulFOp, arith::MulIOp)
// Integer division truncates toward zero (ONNX Div, C semantics).
VT_BINARY(DivOp, arith::DivFOp, arith::DivSIOp)
VT_BINARY(PowOp, math::PowFOp, math::IPowIOp)
VT_BINARY(MaxOp, arith::MaximumFOp, arith::MaxSIOp)
VT_BINARY(MinOp, arith::MinimumFOp, arith::MinSIOp)
VT_BINARY(AndOp, void, arith::AndIOp)
#undef VT_BINARY

template <arith::CmpFPredicate FP, arith::CmpIPredicate IP>
static Value compare(OpBuilder &b, Location loc, ValueRange a) {
  if (isFloat(a[0]))
    return arith::CmpFOp::create(b, loc, FP, a[0], a[1]);
  if (isInt(a[0]))
    return arith::CmpIOp::create(b, loc, IP, a[0], a[1]);
  return {};
}

#define VT_COMPARE(VT, FP, IP)                                                 \
  template <>                                                                  \
  struct Scalar<vt::VT> {                                                      \
    static Value build(vt::VT, OpBuilder &b, Location loc, ValueRange a,       \
                       Type) {                                                 \
      return compare<arith::CmpFPredicate::FP, arith::CmpIPredicate::IP>(      \
          b, loc, a);                                                          \
    }                                                                          \
  };
VT_COMPARE(EqualOp, OEQ, eq)
VT_COMPARE(LessOp, OLT, slt)
VT_COMPARE(GreaterOp, OGT, sgt)
#undef VT_COMPARE

template <>
struct Scalar<vt::SelectOp> {
  static Value build(vt::SelectOp, OpBuilder &b, Location loc, ValueRange a,
                     Type) {
    return arith::SelectOp::create(b, loc, a[0], a[1], a[2]);
  }
};

/// One linalg.generic per elementwise op, its body given by Scalar<OpTy>.
template <typename OpTy>
struct ElementwiseToGeneric : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type elt = resultType.getElementType();
    bool supported = true;
    Value result = buildElementwise(
        rewriter, op.getLoc(), adaptor.getOperands(), elt,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value v = Scalar<OpTy>::build(op, b, loc, args, elt);
          if (v)
            return v;
          // The conversion fails below and rolls this generic back.
          supported = false;
          return args.front();
        });
    if (!supported)
      return op.emitOpError("cannot lower to linalg: unsupported element type ")
             << getElementTypeOrSelf(op->getOperand(0).getType());
    rewriter.replaceOp(op, castTo(rewriter, op.getLoc(), result, resultType));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// vt.random_uniform
//===----------------------------------------------------------------------===//

static Value i64Constant(OpBuilder &b, Location loc, uint64_t v) {
  return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr((int64_t)v));
}

/// VtRandom.h's mix64 on an i64 value.
static Value mix64(OpBuilder &b, Location loc, Value z) {
  namespace r = vt::random;
  auto xorShift = [&](Value v, unsigned shift) -> Value {
    Value shifted =
        arith::ShRUIOp::create(b, loc, v, i64Constant(b, loc, shift));
    return arith::XOrIOp::create(b, loc, v, shifted);
  };
  z = arith::MulIOp::create(b, loc, xorShift(z, r::kShift1),
                            i64Constant(b, loc, r::kMul1));
  z = arith::MulIOp::create(b, loc, xorShift(z, r::kShift2),
                            i64Constant(b, loc, r::kMul2));
  return xorShift(z, r::kShift3);
}

/// One all-parallel linalg.generic computing VtRandom.h's uniform(key,
/// first + i) from its own loop indices, i the row-major linear index (i64
/// arithmetic on
/// every target, so the CPU and GPU kernels agree bit for bit). On the CPU
/// the stream key is computed once from the seed before the loop and
/// captured by the body: read inside it, the seed is a load that LLVM cannot
/// hoist past the output's stores (they might alias), which recomputed the
/// key per element and kept the loop scalar. A GPU kernel cannot capture a
/// value read on the host from a device buffer: with `keyPerElement` the
/// seed (and `first`) are the generic's rank-0 inputs and every element
/// computes the key.
struct RandomUniformLowering : OpConversionPattern<vt::RandomUniformOp> {
  RandomUniformLowering(MLIRContext *ctx, bool keyPerElement)
      : OpConversionPattern(ctx), keyPerElement(keyPerElement) {}
  bool keyPerElement;

  LogicalResult
  matchAndRewrite(vt::RandomUniformOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    namespace r = vt::random;
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    // Dynamic dims come from the shape operand; the linear index needs every
    // dim but the first as an i64 (captured by the body where dynamic).
    SmallVector<Value> dynSizes, dimsI64(rank);
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      Value pos = arith::ConstantIndexOp::create(rewriter, loc, d);
      Value dim = tensor::ExtractOp::create(rewriter, loc, adaptor.getShape(),
                                            ValueRange{pos});
      dimsI64[d] = dim;
      dynSizes.push_back(arith::IndexCastOp::create(
          rewriter, loc, rewriter.getIndexType(), dim));
    }
    Value init = emptyTensor(rewriter, loc, type.getShape(),
                             type.getElementType(), dynSizes);
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    int64_t stream = op.getStream();
    auto streamKey = [&](OpBuilder &b, Location l, Value seed) {
      return mix64(b, l,
                   arith::XOrIOp::create(b, l, mix64(b, l, seed),
                                         i64Constant(b, l, (uint64_t)stream)));
    };
    SmallVector<Value> inputs;
    Value hoistedKey, hoistedFirst;
    Value first = adaptor.getFirst();
    if (keyPerElement) {
      inputs.push_back(adaptor.getSeed());
      if (first)
        inputs.push_back(first);
      maps.insert(maps.begin(), inputs.size(),
                  AffineMap::get(rank, 0, {}, ctx));
    } else {
      hoistedKey = streamKey(
          rewriter, loc,
          tensor::ExtractOp::create(rewriter, loc, adaptor.getSeed(),
                                    ValueRange{}));
      if (first)
        hoistedFirst =
            tensor::ExtractOp::create(rewriter, loc, first, ValueRange{});
    }
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, inputs, init, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value key = keyPerElement ? streamKey(b, l, args[0]) : hoistedKey;
          Value firstIndex =
              !first ? Value() : keyPerElement ? args[1] : hoistedFirst;
          // Horner: ((i0 * d1 + i1) * d2 + i2) ...; 0 for a scalar.
          Value linear;
          for (int64_t d = 0; d < rank; ++d) {
            Value idx = arith::IndexCastOp::create(
                b, l, b.getI64Type(), linalg::IndexOp::create(b, l, d));
            if (!linear) {
              linear = idx;
              continue;
            }
            Value size = dimsI64[d] ? dimsI64[d]
                                    : i64Constant(b, l, type.getDimSize(d));
            linear = arith::AddIOp::create(
                b, l, arith::MulIOp::create(b, l, linear, size), idx);
          }
          if (!linear)
            linear = i64Constant(b, l, 0);
          if (firstIndex)
            linear = arith::AddIOp::create(b, l, linear, firstIndex);
          Value counter = arith::MulIOp::create(
              b, l, arith::AddIOp::create(b, l, linear, i64Constant(b, l, 1)),
              i64Constant(b, l, r::kGamma));
          Value bits = mix64(b, l, arith::AddIOp::create(b, l, key, counter));
          Value top = arith::ShRUIOp::create(
              b, l, bits, i64Constant(b, l, 64 - r::kMantissaBits));
          Value f = arith::UIToFPOp::create(b, l, b.getF32Type(), top);
          Value scale = scalarConstant(b, l, b.getF32Type(),
                                       std::ldexp(1.0, -(int)r::kMantissaBits));
          Value u = arith::MulFOp::create(b, l, f, scale);
          linalg::YieldOp::create(b, l, u);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

} // namespace

void populateVtElementwiseToLinalgPatterns(RewritePatternSet &patterns,
                                           bool keyPerElement) {
  patterns.add<
      ElementwiseToGeneric<vt::NegOp>, ElementwiseToGeneric<vt::ExpOp>,
      ElementwiseToGeneric<vt::LogOp>, ElementwiseToGeneric<vt::SqrtOp>,
      ElementwiseToGeneric<vt::RsqrtOp>, ElementwiseToGeneric<vt::ErfOp>,
      ElementwiseToGeneric<vt::TanhOp>, ElementwiseToGeneric<vt::SigmoidOp>,
      ElementwiseToGeneric<vt::SinOp>, ElementwiseToGeneric<vt::CosOp>,
      ElementwiseToGeneric<vt::ReluOp>, ElementwiseToGeneric<vt::AbsOp>,
      ElementwiseToGeneric<vt::ReciprocalOp>, ElementwiseToGeneric<vt::FloorOp>,
      ElementwiseToGeneric<vt::NotOp>, ElementwiseToGeneric<vt::GeluOp>,
      ElementwiseToGeneric<vt::LeakyReluOp>, ElementwiseToGeneric<vt::ClampOp>,
      ElementwiseToGeneric<vt::HardSigmoidOp>,
      ElementwiseToGeneric<vt::HardSwishOp>, ElementwiseToGeneric<vt::CastOp>,
      ElementwiseToGeneric<vt::AddOp>, ElementwiseToGeneric<vt::SubOp>,
      ElementwiseToGeneric<vt::MulOp>, ElementwiseToGeneric<vt::DivOp>,
      ElementwiseToGeneric<vt::PowOp>, ElementwiseToGeneric<vt::MaxOp>,
      ElementwiseToGeneric<vt::MinOp>, ElementwiseToGeneric<vt::EqualOp>,
      ElementwiseToGeneric<vt::LessOp>, ElementwiseToGeneric<vt::GreaterOp>,
      ElementwiseToGeneric<vt::AndOp>, ElementwiseToGeneric<vt::SelectOp>>(
      patterns.getContext());
  patterns.add<RandomUniformLowering>(patterns.getContext(), keyPerElement);
}

} // namespace vitc
