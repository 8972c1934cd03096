//===- VtOps.td - vt op definitions ------------------------*- tablegen -*-===//
#ifndef VITC_VT_OPS
#define VITC_VT_OPS

include "vitc/Dialect/Vt/VtDialect.td"
include "vitc/Dialect/Vt/VtInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Fusion kinds, returned through FusionKindOpInterface.
class Vt_KindTrait<string name> : NativeOpTrait<name> {
  let cppNamespace = "::vitc::vt::OpTrait";
}
// Each op names its kind by one of these traits; FusionKindOpInterface's
// default method reads it.
class Vt_FusionKind<string kind>
    : TraitList<[Vt_KindTrait<kind # "Kind">, Vt_FusionKindOpInterface]>;

// Ops with a gradient rule (dialects/vt/lib/gradients/) for vt-autodiff.
defvar Vt_Differentiable = DeclareOpInterfaceMethods<Vt_GradientOpInterface>;

def Vt_Tensor : RankedTensorOf<[AnyType]>;
def Vt_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Vt_IndexTensor : RankedTensorOf<[AnySignlessInteger]>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Vt_ConstantOp : Vt_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>,
     Vt_Differentiable]> {
  let summary = "A constant tensor; weights carry their ONNX initializer name";
  let description = [{
    Weights are `dense_resource` blobs so that a 330 MB model never inflates
    the IR; small constants (shape vectors, scalars) are plain dense attrs.
    `name` keeps the ONNX initializer name: training makes named float
    constants trainable parameters, export writes them back by that name.
  }];
  let arguments = (ins TypedAttrInterface:$value, OptionalAttr<StrAttr>:$name);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

class Vt_UnaryOp<string mnemonic, list<Trait> traits = []>
    : Vt_Op<mnemonic, !listconcat([Pure, Elementwise, SameOperandsAndResultType,
                                   Vt_FusionKind<"Elementwise">], traits)> {
  let arguments = (ins Vt_Tensor:$input);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Vt_NegOp : Vt_UnaryOp<"neg", [Vt_Differentiable]> { let summary = "-x"; }
def Vt_ExpOp : Vt_UnaryOp<"exp", [Vt_Differentiable]> { let summary = "e^x"; }
def Vt_LogOp : Vt_UnaryOp<"log", [Vt_Differentiable]> { let summary = "ln x"; }
def Vt_SqrtOp : Vt_UnaryOp<"sqrt", [Vt_Differentiable]> { let summary = "sqrt x"; }
def Vt_RsqrtOp : Vt_UnaryOp<"rsqrt", [Vt_Differentiable]> { let summary = "1 / sqrt x"; }
def Vt_ErfOp : Vt_UnaryOp<"erf", [Vt_Differentiable]> { let summary = "error function"; }
def Vt_TanhOp : Vt_UnaryOp<"tanh", [Vt_Differentiable]> { let summary = "tanh x"; }
def Vt_SinOp : Vt_UnaryOp<"sin", [Vt_Differentiable]> { let summary = "sin x"; }
def Vt_CosOp : Vt_UnaryOp<"cos", [Vt_Differentiable]> { let summary = "cos x"; }
def Vt_SigmoidOp : Vt_UnaryOp<"sigmoid", [Vt_Differentiable]> { let summary = "1 / (1 + e^-x)"; }
def Vt_ReluOp : Vt_UnaryOp<"relu", [Vt_Differentiable]> { let summary = "max(x, 0)"; }
def Vt_AbsOp : Vt_UnaryOp<"abs", [Vt_Differentiable]> { let summary = "|x|"; }
def Vt_ReciprocalOp : Vt_UnaryOp<"reciprocal", [Vt_Differentiable]> { let summary = "1 / x"; }
def Vt_FloorOp : Vt_UnaryOp<"floor", [Vt_Differentiable]> { let summary = "floor x"; }
def Vt_NotOp : Vt_UnaryOp<"not"> { let summary = "logical not of i1"; }

def Vt_GeluOp : Vt_UnaryOp<"gelu", [Vt_Differentiable]> {
  let summary = "GELU, exact (erf) or tanh approximation";
  let arguments = (ins Vt_Tensor:$input,
                   DefaultValuedAttr<BoolAttr, "false">:$approximate_tanh);
}
def Vt_LeakyReluOp : Vt_UnaryOp<"leaky_relu", [Vt_Differentiable]> {
  let summary = "x >= 0 ? x : alpha * x";
  let arguments = (ins Vt_Tensor:$input, F64Attr:$alpha);
}
def Vt_ClampOp : Vt_UnaryOp<"clamp", [Vt_Differentiable]> {
  let summary = "min(max(x, min), max)";
  let arguments = (ins Vt_Tensor:$input, F64Attr:$min, F64Attr:$max);
}
def Vt_HardSigmoidOp : Vt_UnaryOp<"hard_sigmoid"> {
  let summary = "max(0, min(1, alpha * x + beta))";
  let arguments = (ins Vt_Tensor:$input, F64Attr:$alpha, F64Attr:$beta);
}
def Vt_HardSwishOp : Vt_UnaryOp<"hard_swish"> {
  let summary = "x * max(0, min(1, x / 6 + 1 / 2))";
}

def Vt_CastOp : Vt_Op<"cast", [Pure, Elementwise, SameOperandsAndResultShape,
                               Vt_FusionKind<"Elementwise">, Vt_Differentiable]> {
  let summary = "element type conversion (float<->float, float<->int, i1)";
  let arguments = (ins Vt_Tensor:$input);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

class Vt_BinaryOp<string mnemonic, list<Trait> traits = []>
    : Vt_Op<mnemonic, !listconcat([Pure, ResultsBroadcastableShape,
        InferTypeOpAdaptor,
        Vt_FusionKind<"Elementwise">], traits)> {
  let description = [{ Numpy-style broadcasting of the two operands. }];
  let arguments = (ins Vt_Tensor:$lhs, Vt_Tensor:$rhs);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasFolder = 1;
}

def Vt_AddOp : Vt_BinaryOp<"add", [Commutative, Vt_Differentiable]> {
  let summary = "a + b";
  let hasCanonicalizer = 1;
}
def Vt_SubOp : Vt_BinaryOp<"sub", [Vt_Differentiable]> { let summary = "a - b"; }
def Vt_MulOp : Vt_BinaryOp<"mul", [Commutative, Vt_Differentiable]> { let summary = "a * b"; }
def Vt_DivOp : Vt_BinaryOp<"div", [Vt_Differentiable]> { let summary = "a / b (integers truncate)"; }
def Vt_PowOp : Vt_BinaryOp<"pow", [Vt_Differentiable]> { let summary = "a ^ b"; }
def Vt_MaxOp : Vt_BinaryOp<"max", [Commutative, Vt_Differentiable]> { let summary = "max(a, b)"; }
def Vt_MinOp : Vt_BinaryOp<"min", [Commutative, Vt_Differentiable]> { let summary = "min(a, b)"; }
def Vt_EqualOp : Vt_BinaryOp<"equal", [Commutative]> { let summary = "a == b (i1)"; }
def Vt_LessOp : Vt_BinaryOp<"less"> { let summary = "a < b (i1)"; }
def Vt_GreaterOp : Vt_BinaryOp<"greater"> { let summary = "a > b (i1)"; }
def Vt_AndOp : Vt_BinaryOp<"and", [Commutative]> { let summary = "a && b (i1)"; }

def Vt_SelectOp : Vt_Op<"select", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Elementwise">]> {
  let summary = "cond ? lhs : rhs, with three-way broadcasting";
  let arguments = (ins RankedTensorOf<[I1]>:$cond, Vt_Tensor:$lhs,
                   Vt_Tensor:$rhs);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $cond `,` $lhs `,` $rhs attr-dict `:` type($cond) `,` type($lhs) `,`
    type($rhs) `->` type($result)
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Random numbers
//===----------------------------------------------------------------------===//

def Vt_RandomUniformOp : Vt_Op<"random_uniform", [Pure,
    AttrSizedOperandSegments, Vt_FusionKind<"Elementwise">]> {
  let summary = "uniform f32 values in [0, 1), a pure function of the seed";
  let description = [{
    Element `i` (row-major linear index) is a counter-based hash of
    (`seed`, `stream`, first + i): SplitMix64 keyed by the seed and the
    stream, 24 random bits scaled to [0, 1) (vitc/Dialect/Vt/VtRandom.h has
    the exact definition). The values do not depend on loop order or
    threads, are the same on every target, and the same op with the same
    seed gives the same tensor: a dropout mask is computed once and reused
    by the backward pass. Distinct `stream`s (one per dropout node) give
    independent tensors.

    `shape` (1-D i64) gives the dims of a result with dynamic dims; a result
    of static shape needs none. `first` (i64 scalar, default 0) is the index
    in the stream of element 0: a data-parallel rank whose slice of the
    batch starts at sample s passes s times the elements per sample, so that
    every sample's mask is the one it gets in one process
    (vitc-key-random-by-sample). The op has no float operand, so it is never
    differentiated.

    ```mlir
    %u = vt.random_uniform %seed, %shape {stream = 3 : i64}
        : (tensor<i64>, tensor<2xi64>) -> tensor<?x128xf32>
    %v = vt.random_uniform %seed, %shape first %f {stream = 3 : i64}
        : (tensor<i64>, tensor<2xi64>, tensor<i64>) -> tensor<?x128xf32>
    ```
  }];
  let arguments = (ins 0DTensorOf<[I64]>:$seed,
                   Optional<1DTensorOf<[I64]>>:$shape,
                   Optional<0DTensorOf<[I64]>>:$first, I64Attr:$stream);
  let results = (outs RankedTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $seed (`,` $shape^)? (`first` $first^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

class Vt_ReduceOp<string mnemonic, list<Trait> traits = []>
    : Vt_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptor,
                       Vt_FusionKind<"Reduction">], traits)> {
  let description = [{
    Reduces `axes` (non-negative, sorted, unique); `keepdims` keeps them as
    size-1 dimensions. Empty `axes` reduces nothing (identity).
  }];
  let arguments = (ins Vt_Tensor:$input, DenseI64ArrayAttr:$axes,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vt_ReduceSumOp : Vt_ReduceOp<"reduce_sum", [Vt_Differentiable]> { let summary = "sum"; }
def Vt_ReduceMaxOp : Vt_ReduceOp<"reduce_max", [Vt_Differentiable]> { let summary = "max"; }
def Vt_ReduceMinOp : Vt_ReduceOp<"reduce_min", [Vt_Differentiable]> { let summary = "min"; }
def Vt_ReduceMeanOp : Vt_ReduceOp<"reduce_mean", [Vt_Differentiable]> { let summary = "mean"; }

def Vt_ArgMaxOp : Vt_Op<"argmax", [Pure, Vt_FusionKind<"Reduction">]> {
  let summary = "index of the maximum along `axis` (first on ties), i64";
  let arguments = (ins Vt_Tensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Vt_SoftmaxOp : Vt_Op<"softmax", [Pure, SameOperandsAndResultType,
                                     Vt_FusionKind<"Reduction">,
                                     Vt_Differentiable]> {
  let summary = "softmax along `axis` (non-negative)";
  let arguments = (ins Vt_FloatTensor:$input, I64Attr:$axis,
                   DefaultValuedAttr<BoolAttr, "false">:$log);
  let description = [{ With `log`, log-softmax. }];
  let results = (outs Vt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Vt_LayerNormOp : Vt_Op<"layer_norm", [Pure, AttrSizedOperandSegments,
                                          Vt_FusionKind<"Reduction">]> {
  let summary = "layer normalisation over the dims from `axis` to the last";
  let arguments = (ins Vt_FloatTensor:$input, Optional<Vt_FloatTensor>:$scale,
                   Optional<Vt_FloatTensor>:$bias, I64Attr:$axis,
                   F64Attr:$epsilon);
  let results = (outs Vt_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`scale` $scale^ `:` type($scale))? (`bias` $bias^ `:` type($bias))?
    attr-dict `:` type($input) `->` type($result)
  }];
}

def Vt_BatchNormOp : Vt_Op<"batch_norm", [Pure, Vt_FusionKind<"Elementwise">]> {
  let summary = "inference batch normalisation over channel dim 1";
  let arguments = (ins Vt_FloatTensor:$input, Vt_FloatTensor:$scale,
                   Vt_FloatTensor:$bias, Vt_FloatTensor:$mean,
                   Vt_FloatTensor:$variance, F64Attr:$epsilon);
  let results = (outs Vt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Anchors: matmul, convolution, pooling
//===----------------------------------------------------------------------===//

// Anchors that multiply and add (matmul, conv2d) may produce a wider float
// than their operands: bf16 x bf16 -> f32 accumulates and returns in f32, as
// oneDNN and cuBLASLt do (mixed precision, vt-autocast-bf16). Builders that
// infer the result give it the operands' element type.
class Vt_AccumulatingAnchor<string mnemonic, list<Trait> traits = []>
    : Vt_Op<mnemonic, !listconcat([Pure, InferTypeOpAdaptorWithIsCompatible,
                                   Vt_FusionKind<"Anchor">, Vt_Differentiable],
                                  traits)>;

def Vt_MatmulOp : Vt_AccumulatingAnchor<"matmul"> {
  let summary = "numpy matmul: batch dims broadcast, 1-D operands promoted";
  let description = [{
    The result has the operands' element type, or a wider float type in
    which the products accumulate (bf16 operands, f32 result).
  }];
  let arguments = (ins Vt_Tensor:$lhs, Vt_Tensor:$rhs);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vt_Conv2dOp : Vt_AccumulatingAnchor<"conv2d"> {
  let summary = "2-D convolution, NCHW input, OIHW filter, optional bias";
  let description = [{
    `pads` is [top, left, bottom, right] as in ONNX; `group` splits channels.
    The result has the input's element type, or a wider float type in which
    the products accumulate (bf16 input and filter, f32 result); the bias
    has the result's element type.
  }];
  let arguments = (ins Vt_FloatTensor:$input, Vt_FloatTensor:$filter,
                   Optional<Vt_FloatTensor>:$bias,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Vt_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $filter (`bias` $bias^ `:` type($bias))? attr-dict `:`
    type($input) `,` type($filter) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

class Vt_PoolOp<string mnemonic> : Vt_Op<mnemonic, [Pure,
    InferTypeOpAdaptor, Vt_FusionKind<"Anchor">, Vt_Differentiable]> {
  let results = (outs Vt_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Vt_MaxPool2dOp : Vt_PoolOp<"max_pool2d"> {
  let summary = "2-D max pooling, NCHW; pads [top, left, bottom, right]";
  let arguments = (ins Vt_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

def Vt_AvgPool2dOp : Vt_PoolOp<"avg_pool2d"> {
  let summary = "2-D average pooling, NCHW; pads [top, left, bottom, right]";
  let arguments = (ins Vt_FloatTensor:$input, DenseI64ArrayAttr:$kernel,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<BoolAttr, "false">:$count_include_pad,
                   DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

//===----------------------------------------------------------------------===//
// Data movement and shapes
//===----------------------------------------------------------------------===//

def Vt_ReshapeOp : Vt_Op<"reshape", [Pure, Vt_FusionKind<"Movement">,
                                     Vt_Differentiable]> {
  let summary = "reshape to the dims held in a 1-D i64 `shape` tensor";
  let description = [{
    ONNX semantics (allowzero = 0): a 0 copies the input's dim at that
    position, one -1 is inferred from the element count. The result type
    carries what is known statically; canonicalisation refines it once
    `shape` folds to a constant.
  }];
  let arguments = (ins Vt_Tensor:$input, RankedTensorOf<[I64]>:$shape);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $shape attr-dict `:` type($input) `,` type($shape) `->`
    type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Vt_ExpandOp : Vt_Op<"expand", [Pure, Vt_FusionKind<"Movement">,
                                   Vt_Differentiable]> {
  let summary = "bidirectional broadcast of `input` with the dims in `shape`";
  let arguments = (ins Vt_Tensor:$input, RankedTensorOf<[I64]>:$shape);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $shape attr-dict `:` type($input) `,` type($shape) `->`
    type($result)
  }];
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Vt_TransposeOp : Vt_Op<"transpose", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "permute dims: result dim i is input dim perm[i]";
  let arguments = (ins Vt_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Vt_ConcatOp : Vt_Op<"concat", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "concatenate along `axis` (non-negative)";
  let arguments = (ins Variadic<Vt_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Vt_SliceOp : Vt_Op<"slice", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "strided slice with one start/end/step per dim";
  let description = [{
    ONNX semantics per dim: negative starts/ends count from the end, both are
    clamped to the dim (to [0, d] for positive steps, [-1, d-1] for negative
    ones). Where the dim is static the importer writes normalised values.
  }];
  let arguments = (ins Vt_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Vt_GatherOp : Vt_Op<"gather", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "ONNX Gather: take `indices` (negative wrap) along `axis`";
  let arguments = (ins Vt_Tensor:$input, Vt_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $input `,` $indices attr-dict `:` type($input) `,` type($indices) `->`
    type($result)
  }];
  let hasFolder = 1;
}

// No fusion kind: opaque, never fused (it runs as its own sequential loop).
def Vt_ScatterOp : Vt_Op<"scatter", [Pure, InferTypeOpAdaptor,
                                     Vt_Differentiable]> {
  let summary = "the inverse of vt.gather: write `updates` into rows of `data`";
  let description = [{
    `data` is [P..., R, S...] with R its dim `axis`; `indices` is [Q...]
    (any rank); `updates` is [P..., Q..., S...], the shape vt.gather of
    `data` by `indices` along `axis` would have. The result starts as a
    copy of `data`; then, for each position (p, q, s) of `updates` in
    row-major order, with i = indices[q] (negative values count from the
    end, i + R):

      result[p, i, s] = combine(result[p, i, s], updates[p, q, s])

    where `reduction` gives combine: "none" (replace), "add", "mul", "max",
    "min". Updates aimed at one position apply in index order, as ONNX's
    ScatterND / ScatterElements reference does: with "none" the last one
    wins. An index outside [-R, R) writes nothing: its update is dropped
    (as XLA's scatter does; ONNX calls it an error, and code generated
    here has no way to raise one, but it must never write out of bounds).

    ScatterND is this op along axis 0 once its indexed dims are merged and
    its index tuples linearised to row numbers; ScatterElements is it on the
    flattened data with element numbers. A scatter-add into zeros is
    vt.gather's adjoint (gather's gradient rule stays a one-hot matmul,
    which the CUDA target compiles; it refuses this op).
  }];
  let arguments = (ins Vt_Tensor:$data, Vt_IndexTensor:$indices,
                   Vt_Tensor:$updates, I64Attr:$axis,
                   DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $data `,` $indices `,` $updates attr-dict `:` type($data) `,`
    type($indices) `,` type($updates) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Vt_PadOp : Vt_Op<"pad", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "constant padding: `pads` = [begin_0.., end_0..], may be < 0";
  let arguments = (ins Vt_Tensor:$input, DenseI64ArrayAttr:$pads,
                   DefaultValuedAttr<F64Attr, "0.0">:$value);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Vt_TileOp : Vt_Op<"tile", [Pure,
    InferTypeOpAdaptor, Vt_Differentiable,
    Vt_FusionKind<"Movement">]> {
  let summary = "repeat the tensor `repeats[i]` times along dim i";
  let arguments = (ins Vt_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Vt_ShapeOfOp : Vt_Op<"shape_of", [Pure,
    InferTypeOpAdaptor,
    Vt_FusionKind<"Movement">]> {
  let summary = "the input's dims as a 1-D i64 tensor";
  let arguments = (ins Vt_Tensor:$input);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

def Vt_RangeOp : Vt_Op<"range", [Pure, AllTypesMatch<["start", "limit", "delta"]>,
                                 Vt_FusionKind<"Movement">]> {
  let summary = "start, start + delta, ... below limit (scalar operands)";
  let arguments = (ins Vt_Tensor:$start, Vt_Tensor:$limit, Vt_Tensor:$delta);
  let results = (outs Vt_Tensor:$result);
  let assemblyFormat = [{
    $start `,` $limit `,` $delta attr-dict `:` type($start) `->` type($result)
  }];
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Fused regions (kernels)
//===----------------------------------------------------------------------===//

def Vt_FusionOp : Vt_Op<"fusion", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "a fused kernel: the region computes its results from `inputs`";
  let description = [{
    Formed by `vt-fuse`. The body is one block whose arguments are the
    inputs; it holds vt ops and ends in `vt.yield`. Each fusion becomes one
    generated kernel (CPU loop nest, GPU launch) after lowering.
  }];
  let arguments = (ins Variadic<Vt_Tensor>:$inputs,
                   DefaultValuedAttr<StrAttr, "\"elementwise\"">:$kind);
  let results = (outs Variadic<Vt_Tensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict-with-keyword `:` functional-type($inputs, $results)
    $body
  }];
  let hasVerifier = 1;
}

def Vt_YieldOp : Vt_Op<"yield", [Pure, Terminator, HasParent<"FusionOp">]> {
  let summary = "returns a fusion's results";
  let arguments = (ins Variadic<Vt_Tensor>:$values);
  let builders = [OpBuilder<(ins), [{ build($_builder, $_state, ::mlir::ValueRange{}); }]>];
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // VITC_VT_OPS
