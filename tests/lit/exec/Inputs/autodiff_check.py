"""Checks vt-autodiff's gradients against central finite differences.

For each case, a vt function @main(args) -> loss is written, where
loss = sum(f(args) * r) with r a random argument (so that the gradient
flowing into f is not all ones, and r's own gradient is checked too).
vitc-opt -vt-autodiff turns it into @main(args) -> (loss, grad_<arg>...);
both the forward and the gradient module are compiled by vitc and run by
vitc-run. For random directions v per argument, the directional derivative
<grad, v> must match (L(x + eps v) - L(x - eps v)) / (2 eps) of the forward
artifact, and the gradient artifact's loss must match the forward one.

Mixed precision: for the matmul, convolution and MLP cases in BF16_CASES,
vt-autocast-bf16 runs before vt-autodiff too (bf16 products, f32
accumulation, f32 master values), and that gradient must match the f32
gradient within bf16's precision: |g_bf16 - g_f32| <= 3e-2 |g_f32| (L2,
per argument), and differ from it (or nothing ran in bf16). Printed as
"PASS name_bf16".

usage: autodiff_check.py --opt VITC-OPT --compiler VITC --runner VITC-RUN
                         --workdir DIR [-k SUBSTRING]
Prints "PASS name" / "FAIL name: why" per case and "N passed, M failed".
"""
import argparse
import os
import sys

import numpy as np

import vitc_check
from vitc_check import run

parser = argparse.ArgumentParser()
parser.add_argument("--opt", required=True, help="vitc-opt")
parser.add_argument("--compiler", required=True, help="vitc")
parser.add_argument("--runner", required=True, help="vitc-run")
parser.add_argument("--workdir", required=True)
parser.add_argument("-k", default="", help="only cases whose name contains this")
parser.add_argument("--directions", type=int, default=2)
args = parser.parse_args()

DT = "f32"
NP = np.float32
EPS = 1e-2
RTOL, ATOL = 2e-2, 2e-3
BF16_RTOL = 3e-2
BF16_CASES = ["matmul_2d", "matmul_weight_2d_dyn", "matmul_bcast_batch",
              "conv2d_mnist2", "conv2d_s2p1", "conv2d_group", "conv2d_patch", "mlp"]


def T(shape, dt=DT):
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{dt}>" if shape else f"tensor<{dt}>"


def normal(shape):
    return lambda rng, s: rng.standard_normal(s)


def positive(lo=0.5, hi=2.0):
    return lambda rng, s: rng.uniform(lo, hi, s)


def away_from_zero(rng, s):
    # Keeps kinks (relu, abs, clamp at +-0.5) outside the finite-difference step.
    v = rng.uniform(0.1, 2.0, s) * rng.choice([-1.0, 1.0], s)
    return np.where(np.abs(np.abs(v) - 0.5) < 0.05, v + 0.2, v)


def distinct(rng, s):
    # Values at least 0.05 apart, so that no max moves to another element
    # within the finite-difference step (a random normal sample may hold two
    # values closer than the step in the same window).
    n = int(np.prod(s))
    return ((rng.permutation(n) - n / 2) * 0.05).reshape(s)


CASES = {}


def case(name, inputs, out_shape, body, batch=None):
    """inputs: [(name, shape, sampler)], None dims take `batch` at run time;
    body: vt lines computing %y of type T(out_shape) from %<name> args."""
    CASES[name] = (inputs, out_shape, body, batch)


def unary(op, sampler=normal, attrs=""):
    case(op + (attrs and "_" + attrs.split()[0].strip("{=")),
         [("x", [3, 4], sampler)], [3, 4],
         f"%y = vt.{op} %x {attrs} : {T([3, 4])}")


for op in ["neg", "exp", "tanh", "sigmoid", "erf", "gelu", "sin", "cos"]:
    unary(op, normal(None))
for op in ["log", "sqrt", "rsqrt", "reciprocal"]:
    unary(op, positive())
for op in ["relu", "abs"]:
    unary(op, away_from_zero)
unary("gelu", normal(None), "{approximate_tanh = true}")
unary("leaky_relu", away_from_zero, "{alpha = 0.1 : f64}")
unary("clamp", away_from_zero, "{min = -0.5 : f64, max = 0.5 : f64}")


def binary(op, lhs, rhs, out, ls=normal(None), rs=normal(None), tag="",
           batch=None):
    case(f"{op}{tag}", [("a", lhs, ls), ("b", rhs, rs)], out,
         f"%y = vt.{op} %a, %b : {T(lhs)}, {T(rhs)} -> {T(out)}", batch)


binary("add", [3, 4], [4], [3, 4])
binary("add", [2, 3, 4], [3, 1], [2, 3, 4], tag="_bcast_mid")
binary("sub", [3, 4], [1, 4], [3, 4])
binary("mul", [3, 4], [3, 1], [3, 4])
binary("div", [3, 4], [4], [3, 4], rs=positive())
binary("pow", [3, 4], [4], [3, 4], ls=positive(), rs=positive(0.5, 2.5))
binary("max", [3, 4], [3, 4], [3, 4])
binary("min", [3, 4], [4], [3, 4])
binary("add", [None, 4], [1, 4], [None, 4], tag="_dynamic", batch=3)

def reduce(op, shape, axes, keep, batch=None):
    out = [1 if i in axes else d for i, d in enumerate(shape)] if keep else \
          [d for i, d in enumerate(shape) if i not in axes]
    ax = ", ".join(map(str, axes))
    tag = f"_{''.join(map(str, axes))}{'_keep' if keep else ''}" + ("_dyn" if batch else "")
    case(f"{op}{tag}", [("x", shape, normal(None))], out,
         f"%y = vt.{op} %x {{axes = array<i64: {ax}>, keepdims = {str(keep).lower()}}}"
         f" : {T(shape)} -> {T(out)}", batch)


reduce("reduce_sum", [3, 4, 5], [1], False)
reduce("reduce_sum", [3, 4, 5], [0, 2], True)
reduce("reduce_mean", [3, 4, 5], [0, 2], False)
reduce("reduce_mean", [None, 4, 5], [0, 2], False, batch=3)
reduce("reduce_sum", [None, 4, 5], [1], False, batch=3)
reduce("reduce_max", [3, 4, 5], [1], False)
reduce("reduce_min", [3, 4, 5], [0, 2], True)

case("softmax", [("x", [3, 5], normal(None))], [3, 5],
     f"%y = vt.softmax %x {{axis = 1}} : {T([3, 5])}")
case("log_softmax", [("x", [3, 5], normal(None))], [3, 5],
     f"%y = vt.softmax %x {{axis = 1, log = true}} : {T([3, 5])}")
case("log_softmax_dyn", [("x", [None, 5], normal(None))], [None, 5],
     f"%y = vt.softmax %x {{axis = 1, log = true}} : {T([None, 5])}", batch=2)


def matmul(tag, lhs, rhs, out, batch=None):
    case(f"matmul_{tag}", [("a", lhs, normal(None)), ("w", rhs, normal(None))], out,
         f"%y = vt.matmul %a, %w : {T(lhs)}, {T(rhs)} -> {T(out)}", batch)


matmul("2d", [3, 4], [4, 5], [3, 5])
matmul("batched", [2, 3, 4], [2, 4, 5], [2, 3, 5])
matmul("weight_2d", [2, 3, 4], [4, 5], [2, 3, 5])
matmul("weight_2d_dyn", [None, 3, 4], [4, 5], [None, 3, 5], batch=2)
matmul("bcast_batch", [2, 1, 3, 4], [3, 4, 5], [2, 3, 3, 5])
# 1-D operands (numpy promotion): vector x matrix, batched matrix x vector
# with a dynamic batch, vector x vector.
matmul("vec_lhs", [4], [4, 5], [5])
matmul("vec_rhs_dyn", [None, 3, 4], [4], [None, 3], batch=2)
matmul("vec_vec", [4], [4], [])

case("transpose", [("x", [2, 3, 4], normal(None))], [4, 2, 3],
     f"%y = vt.transpose %x {{perm = array<i64: 2, 0, 1>}} : {T([2, 3, 4])} -> {T([4, 2, 3])}")
case("reshape", [("x", [2, 3, 4], normal(None))], [6, 4],
     f"""%s = vt.constant dense<[6, 4]> : tensor<2xi64>
  %y = vt.reshape %x, %s : {T([2, 3, 4])}, tensor<2xi64> -> {T([6, 4])}""")
case("expand", [("x", [3, 1], normal(None))], [2, 3, 4],
     f"""%s = vt.constant dense<[2, 3, 4]> : tensor<3xi64>
  %y = vt.expand %x, %s : {T([3, 1])}, tensor<3xi64> -> {T([2, 3, 4])}""")
case("cast_f64", [("x", [3, 4], normal(None))], [3, 4],
     f"""%0 = vt.cast %x : {T([3, 4])} -> {T([3, 4], "f64")}
  %1 = vt.exp %0 : {T([3, 4], "f64")}
  %y = vt.cast %1 : {T([3, 4], "f64")} -> {T([3, 4])}""")
case("select", [("x", [3, 4], normal(None)), ("z", [4], normal(None))], [3, 4],
     f"""%zero = vt.constant dense<0.0> : tensor<{DT}>
  %c = vt.greater %x, %zero : {T([3, 4])}, tensor<{DT}> -> {T([3, 4], "i1")}
  %y = vt.select %c, %x, %z : {T([3, 4], "i1")}, {T([3, 4])}, {T([4])} -> {T([3, 4])}""")
# Reuse: x feeds three ops, so its gradient is accumulated.
case("reuse", [("x", [3, 4], normal(None))], [3, 4],
     f"""%0 = vt.mul %x, %x : {T([3, 4])}, {T([3, 4])} -> {T([3, 4])}
  %1 = vt.tanh %x : {T([3, 4])}
  %y = vt.sub %0, %1 : {T([3, 4])}, {T([3, 4])} -> {T([3, 4])}""")

def conv2d(tag, x, w, out, strides=(1, 1), pads=(0, 0, 0, 0), dilations=(1, 1),
           group=1, bias=False, batch=None):
    # Weights at their usual initial scale, 1 / sqrt(fan-in): with unit
    # weights the loss of the wide layers grows so large that f32 rounding
    # swamps the finite differences.
    fan_in = w[1] * w[2] * w[3]
    inputs = [("x", x, normal(None)),
              ("w", w, lambda rng, s: rng.standard_normal(s) / np.sqrt(fan_in))]
    b = ""
    if bias:
        inputs.append(("b", [w[0]], normal(None)))
        b = f" bias %b : {T([w[0]])}"
    arr = lambda v: "array<i64: " + ", ".join(map(str, v)) + ">"
    case(f"conv2d_{tag}", inputs, out,
         f"%y = vt.conv2d %x, %w{b} {{strides = {arr(strides)}, pads = {arr(pads)}, "
         f"dilations = {arr(dilations)}, group = {group}}} : {T(x)}, {T(w)} -> {T(out)}",
         batch)


# MNIST's two convolutions (channel counts as in the model, smaller images),
# a strided padded one, dilation with asymmetric pads and an unread tail,
# groups, ViT's patch embedding (kernel = stride), a dynamic batch.
conv2d("mnist1", [1, 1, 6, 6], [32, 1, 3, 3], [1, 32, 4, 4], bias=True)
conv2d("mnist2", [1, 32, 6, 6], [64, 32, 3, 3], [1, 64, 4, 4], bias=True)
conv2d("s2p1", [1, 3, 8, 8], [4, 3, 3, 3], [1, 4, 4, 4], strides=(2, 2),
       pads=(1, 1, 1, 1), bias=True)
conv2d("dilated", [1, 2, 11, 10], [3, 2, 3, 3], [1, 3, 4, 9], strides=(2, 1),
       pads=(0, 1, 1, 0), dilations=(2, 1))
conv2d("group", [1, 4, 6, 6], [6, 2, 3, 3], [1, 6, 6, 6], pads=(1, 1, 1, 1),
       group=2, bias=True)
conv2d("patch", [1, 3, 14, 14], [8, 3, 7, 7], [1, 8, 2, 2], strides=(7, 7),
       bias=True)
conv2d("dyn", [None, 1, 6, 6], [4, 1, 3, 3], [None, 4, 3, 3], strides=(2, 2),
       pads=(1, 1, 0, 0), batch=2)
# Grouped and depthwise (MobileNet's) on a dynamic batch: the filter
# gradient's convolution then has the batch as its channels.
conv2d("group_dyn", [None, 4, 6, 6], [6, 2, 3, 3], [None, 6, 6, 6],
       pads=(1, 1, 1, 1), group=2, bias=True, batch=2)
conv2d("depthwise_dyn", [None, 3, 7, 7], [3, 1, 3, 3], [None, 3, 4, 4],
       strides=(2, 2), pads=(1, 1, 1, 1), group=3, batch=2)
# Inception v3's stride-2 3x3 convolutions on odd sizes, and unequal pads at
# stride 1 (on a dynamic batch): 16 channels in and out, so that on AVX-512
# machines the CPU runtime runs their d input as oneDNN's winograd
# backward-data convolution, which computed wrong values when its pads were
# unequal (the gradient rule now makes them equal).
conv2d("s2_odd16", [1, 16, 9, 9], [16, 16, 3, 3], [1, 16, 4, 4], strides=(2, 2))
conv2d("asym16_dyn", [None, 16, 8, 8], [16, 16, 3, 3], [None, 16, 7, 7],
       pads=(0, 1, 1, 0), batch=2)


def pool(op, tag, x, out, attrs, batch=None):
    case(f"{op}_{tag}", [("x", x, distinct if op == "max_pool2d" else normal(None))], out,
         f"%y = vt.{op} %x {{{attrs}}} : {T(x)} -> {T(out)}", batch)


K2S2 = "kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>"
K3S2P1 = "kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>"
DIL1 = ", dilations = array<i64: 1, 1>"
# k2s2 (also k2s2_tail, with an unread last row and column, and dyn) takes
# the non-overlapping windows form of the gradient; the others the general.
pool("max_pool2d", "k2s2", [2, 3, 6, 6], [2, 3, 3, 3], K2S2 + DIL1)
pool("max_pool2d", "k2s2_tail", [1, 2, 7, 7], [1, 2, 3, 3], K2S2 + DIL1)
pool("max_pool2d", "k3s2p1", [1, 2, 7, 7], [1, 2, 4, 4], K3S2P1 + DIL1)
pool("max_pool2d", "ceil", [1, 2, 7, 7], [1, 2, 4, 4], K2S2 + DIL1 + ", ceil_mode = true")
pool("max_pool2d", "dyn", [None, 2, 6, 6], [None, 2, 3, 3], K2S2 + DIL1, batch=2)
pool("avg_pool2d", "k2s2", [2, 3, 6, 6], [2, 3, 3, 3], K2S2)
pool("avg_pool2d", "k3s2p1", [1, 2, 7, 7], [1, 2, 4, 4], K3S2P1)
pool("avg_pool2d", "k3s2p1_incl", [1, 2, 7, 7], [1, 2, 4, 4],
     K3S2P1 + ", count_include_pad = true")
pool("avg_pool2d", "ceil", [1, 2, 7, 7], [1, 2, 4, 4], K2S2 + ", ceil_mode = true")

END = 9223372036854775807
case("slice", [("x", [5, 6], normal(None))], [2, 3],
     f"%y = vt.slice %x {{starts = array<i64: 1, 5>, ends = array<i64: 4, 0>, "
     f"steps = array<i64: 2, -2>}} : {T([5, 6])} -> {T([2, 3])}")
# ViT's class token: x[:, 0] of a dynamic batch.
case("slice_dyn", [("x", [None, 5, 3], normal(None))], [None, 1, 3],
     f"%y = vt.slice %x {{starts = array<i64: 0, 0, 0>, ends = array<i64: {END}, 1, {END}>, "
     f"steps = array<i64: 1, 1, 1>}} : {T([None, 5, 3])} -> {T([None, 1, 3])}", batch=2)
case("concat", [("a", [2, 3], normal(None)), ("b", [2, 4], normal(None))], [2, 7],
     f"%y = vt.concat %a, %b {{axis = 1}} : ({T([2, 3])}, {T([2, 4])}) -> {T([2, 7])}")
case("concat_dyn", [("a", [None, 1, 3], normal(None)), ("b", [None, 4, 3], normal(None))],
     [None, 5, 3],
     f"%y = vt.concat %a, %b {{axis = 1}} : ({T([None, 1, 3])}, {T([None, 4, 3])}) -> {T([None, 5, 3])}",
     batch=2)
case("pad", [("x", [3, 4], normal(None))], [6, 3],
     f"%y = vt.pad %x {{pads = array<i64: 1, 0, 2, -1>, value = 1.5 : f64}} : {T([3, 4])} -> {T([6, 3])}")
# Repeated and negative indices: their gradients add up.
case("gather", [("x", [5, 4], normal(None))], [2, 2, 4],
     f"""%i = vt.constant dense<[[0, 3], [3, -1]]> : tensor<2x2xi64>
  %y = vt.gather %x, %i {{axis = 0}} : {T([5, 4])}, tensor<2x2xi64> -> {T([2, 2, 4])}""")
case("gather_axis1_dyn", [("x", [None, 5, 3], normal(None))], [None, 3],
     f"""%i = vt.constant dense<0> : tensor<i32>
  %y = vt.gather %x, %i {{axis = 1}} : {T([None, 5, 3])}, tensor<i32> -> {T([None, 3])}""",
     batch=2)
# One constant index with a dynamic dim after the axis (ViT's qkv[0] of
# [3, B, ...], x[:, -1:]): the gradient is a pad, not the one-hot matmul,
# which needs the dims after the axis static.
case("gather_one_axis0_dyn", [("x", [3, None, 4], normal(None))], [None, 4],
     f"""%i = vt.constant dense<0> : tensor<i64>
  %y = vt.gather %x, %i {{axis = 0}} : {T([3, None, 4])}, tensor<i64> -> {T([None, 4])}""",
     batch=2)
case("gather_one_last_dyn", [("x", [None, 5, 3], normal(None))], [None, 1, 3],
     f"""%i = vt.constant dense<[-1]> : tensor<1xi64>
  %y = vt.gather %x, %i {{axis = 1}} : {T([None, 5, 3])}, tensor<1xi64> -> {T([None, 1, 3])}""",
     batch=3)
# Rows of [rows, N, ...] with N dynamic (dynamo's GatherND on an activation
# map): the one-hot matmul infers the dims after the axis.
case("gather_rows_dyn_after", [("x", [4, None, 3], normal(None))], [3, None, 3],
     f"""%i = vt.constant dense<[3, 0, 3]> : tensor<3xi64>
  %y = vt.gather %x, %i {{axis = 0}} : {T([4, None, 3])}, tensor<3xi64> -> {T([3, None, 3])}""",
     batch=2)
case("tile", [("x", [2, 3], normal(None))], [4, 9],
     f"%y = vt.tile %x {{repeats = array<i64: 2, 3>}} : {T([2, 3])} -> {T([4, 9])}")
case("tile_dyn", [("x", [None, 3], normal(None))], [None, 6],
     f"%y = vt.tile %x {{repeats = array<i64: 1, 2>}} : {T([None, 3])} -> {T([None, 6])}",
     batch=3)


# A small MLP on a dynamic batch: matmul + bias + relu + matmul + bias,
# log-softmax, the picked class's log-probability (one-hot), mean over the batch.
B = None
case("mlp", [("x", [B, 8], normal(None)), ("w1", [8, 16], normal(None)),
             ("b1", [16], normal(None)), ("w2", [16, 10], normal(None)),
             ("b2", [10], normal(None)),
             ("onehot", [B, 10], lambda rng, s: np.eye(10)[rng.integers(0, 10, s[0])])],
     [],
     f"""%h = vt.matmul %x, %w1 : {T([B, 8])}, {T([8, 16])} -> {T([B, 16])}
  %hb = vt.add %h, %b1 : {T([B, 16])}, {T([16])} -> {T([B, 16])}
  %a = vt.relu %hb : {T([B, 16])}
  %o = vt.matmul %a, %w2 : {T([B, 16])}, {T([16, 10])} -> {T([B, 10])}
  %ob = vt.add %o, %b2 : {T([B, 10])}, {T([10])} -> {T([B, 10])}
  %lp = vt.softmax %ob {{axis = 1, log = true}} : {T([B, 10])}
  %picked = vt.mul %lp, %onehot : {T([B, 10])}, {T([B, 10])} -> {T([B, 10])}
  %s = vt.reduce_sum %picked {{axes = array<i64: 1>, keepdims = false}} : {T([B, 10])} -> {T([B])}
  %m = vt.reduce_mean %s {{axes = array<i64: 0>, keepdims = false}} : {T([B])} -> {T([])}
  %y = vt.neg %m : {T([])}""", batch=4)


def module(inputs, out_shape, body):
    params = ", ".join(f'%{n}: {T(s)} {{vt.name = "{n}"}}' for n, s, _ in inputs)
    params += f', %r: {T(out_shape)} {{vt.name = "r"}}'
    axes = ", ".join(str(i) for i in range(len(out_shape)))
    total = (f"%loss = vt.reduce_sum %yr {{axes = array<i64: {axes}>, keepdims = false}}"
             f" : {T(out_shape)} -> {T([])}") if out_shape else \
        f"%loss = vt.neg %yr : {T([])}"
    return f"""func.func @main({params}) -> ({T([])} {{vt.name = "loss"}}) {{
  {body}
  %yr = vt.mul %y, %r : {T(out_shape)}, {T(out_shape)} -> {T(out_shape)}
  {total}
  return %loss : {T([])}
}}
"""


def evaluate(artifact, values, outdir):
    return vitc_check.evaluate(args.runner, artifact, values, outdir)


def check(name, inputs, out_shape, body, batch, rng):
    d = os.path.join(args.workdir, name)
    os.makedirs(d, exist_ok=True)
    fwd_mlir, grad_mlir = os.path.join(d, "fwd.mlir"), os.path.join(d, "grad.mlir")
    with open(fwd_mlir, "w") as f:
        f.write(module(inputs, out_shape, body))
    run([args.opt, fwd_mlir, "-vt-autodiff=function=main replace=true",
         "-o", grad_mlir])
    fwd, grad = os.path.join(d, "fwd.vtc"), os.path.join(d, "grad.vtc")
    run([args.compiler, fwd_mlir, "-o", fwd])
    run([args.compiler, grad_mlir, "-o", grad])
    checks = []

    concrete = lambda s: tuple(batch if x is None else x for x in s)
    values = {n: smp(rng, concrete(s)).astype(NP) for n, s, smp in inputs}
    values["r"] = rng.standard_normal(concrete(out_shape)).astype(NP)
    out = evaluate(grad, values, os.path.join(d, "grad_out"))
    loss = float(out("loss"))
    ref_loss = float(evaluate(fwd, values, os.path.join(d, "fwd_out"))("loss"))
    if not np.isclose(loss, ref_loss, rtol=1e-5, atol=1e-6):
        return f"loss {loss} != forward loss {ref_loss}"
    for n in values:
        g = out(f"grad_{n}").astype(np.float64)
        if g.shape != values[n].shape:
            return f"grad_{n} has shape {g.shape}, expected {values[n].shape}"
        if n == "onehot":
            continue  # a label, not perturbed (its gradient is still returned)
        for k in range(args.directions):
            v = rng.standard_normal(values[n].shape)
            v /= np.linalg.norm(v)
            lp, lm = [float(evaluate(fwd, {**values, n: (values[n] + s * EPS * v).astype(NP)},
                                     os.path.join(d, f"fd_{n}_{k}_{s}"))("loss"))
                      for s in (1, -1)]
            fd = (lp - lm) / (2 * EPS)
            ad = float(np.sum(g * v))
            if not np.isclose(ad, fd, rtol=RTOL, atol=ATOL):
                return f"d loss/d {n} along a random direction: autodiff {ad:.6g}, finite differences {fd:.6g}"
    if name in BF16_CASES:
        checks.append((f"{name}_bf16", lambda: check_bf16(d, fwd_mlir, values, out, loss)))
    return checks


def check_bf16(d, fwd_mlir, values, out32, loss32):
    """The gradient of the autocast graph against the (checked) f32 one."""
    grad_mlir, grad = os.path.join(d, "grad_bf16.mlir"), os.path.join(d, "grad_bf16.vtc")
    run([args.opt, fwd_mlir, "-vt-autocast-bf16", "-vt-autodiff=function=main replace=true",
         "-o", grad_mlir])
    run([args.compiler, grad_mlir, "-o", grad])
    out = evaluate(grad, values, os.path.join(d, "grad_bf16_out"))
    # The loss sums y * r: its error scales with sum |y r| (grad_r is y).
    scale = float(np.sum(np.abs(out32("grad_r") * values["r"])))
    loss = float(out("loss"))
    if abs(loss - loss32) > BF16_RTOL * scale:
        return f"bf16 loss {loss} vs f32 {loss32} (sum |y r| = {scale:.4g})"
    largest = 0.0
    for n in values:
        g, g32 = out(f"grad_{n}").astype(np.float64), out32(f"grad_{n}").astype(np.float64)
        if g.shape != g32.shape:
            return f"bf16 grad_{n} has shape {g.shape}, f32 {g32.shape}"
        rel = np.linalg.norm(g - g32) / max(np.linalg.norm(g32), 1e-30)
        if not rel <= BF16_RTOL:
            return f"bf16 grad_{n} is {rel:.3g} (L2, relative) from the f32 gradient"
        largest = max(largest, rel)
    if largest < 1e-5:
        return f"bf16 gradients equal the f32 ones ({largest:.3g}): was anything in bf16?"
    return None


rng = np.random.default_rng(0)
tally = vitc_check.Tally()
report = tally.report


for name, (inputs, out_shape, body, batch) in CASES.items():
    if args.k not in name:
        continue
    try:
        result = check(name, inputs, out_shape, body, batch, rng)
    except RuntimeError as e:
        result = str(e)
    if isinstance(result, str):
        report(name, result)
        continue
    report(name, None)
    for derived, run_check in result:
        try:
            report(derived, run_check())
        except RuntimeError as e:
            report(derived, str(e))
sys.exit(tally.finish())
