"""Executes vt ops lowered by convert-vt-to-linalg and compares with numpy.

Each case is a vt function with dynamic dims (the batch) in its signature; a
generated @main feeds it numpy inputs as dense constants cast to those
dynamic types, so the lowering's run-time shape code is what runs. The module
is lowered with convert-vt-to-linalg (+ vt-decompose) and upstream passes to
LLVM, run with mlir-runner, and the printed results are compared with a numpy
reference written independently of the lowering.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

RNG = np.random.default_rng(7)
I64_MAX = 9223372036854775807


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def mlir_type(shape, dtype="f32"):
    dims = "x".join("?" if d is None else str(d) for d in shape)
    return f"tensor<{dims}x{dtype}>" if dims else f"tensor<{dtype}>"


def dense(a):
    if a.dtype == np.int64:
        body = np.array2string(a, separator=", ", threshold=1 << 30)
        return f"dense<{body}> : {mlir_type(a.shape, 'i64')}"
    body = np.array2string(a, separator=", ", threshold=1 << 30,
                           floatmode="unique")
    return f"dense<{body}> : {mlir_type(a.shape)}"


# --- numpy references -------------------------------------------------------

def conv2d(x, w, b, strides, pads, dilations, group):
    n, c, h, wd = x.shape
    f, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) // strides[1] + 1
    out = np.zeros((n, f, oh, ow), np.float64)
    fg = f // group
    for o in range(f):
        g = o // fg
        for i in range(oh):
            for j in range(ow):
                hs, ws = i * strides[0], j * strides[1]
                patch = xp[:, g * cg:(g + 1) * cg,
                           hs:hs + dilations[0] * (kh - 1) + 1:dilations[0],
                           ws:ws + dilations[1] * (kw - 1) + 1:dilations[1]]
                out[:, o, i, j] = np.sum(patch * w[o], axis=(1, 2, 3))
    if b is not None:
        out += b[None, :, None, None]
    return out


def pool_out(size, k, s, lo, hi, ceil, d=1):
    span = size + lo + hi - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + lo:
        out -= 1
    return out


def max_pool(x, k, s, p, ceil, d=(1, 1)):
    n, c, h, w = x.shape
    oh = pool_out(h, k[0], s[0], p[0], p[2], ceil, d[0])
    ow = pool_out(w, k[1], s[1], p[1], p[3], ceil, d[1])
    out = np.full((n, c, oh, ow), -np.inf)
    for i in range(oh):
        for j in range(ow):
            for a in range(k[0]):
                for b in range(k[1]):
                    y, z = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= y < h and 0 <= z < w:
                        out[:, :, i, j] = np.maximum(out[:, :, i, j], x[:, :, y, z])
    return out


def avg_pool(x, k, s, p, ceil, include_pad):
    # PyTorch / onnxruntime: windows are clipped to the padded input; with
    # count_include_pad they count padding, never what lies beyond it.
    n, c, h, w = x.shape
    oh = pool_out(h, k[0], s[0], p[0], p[2], ceil)
    ow = pool_out(w, k[1], s[1], p[1], p[3], ceil)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * s[0] - p[0], j * s[1] - p[1]
            he, we = min(hs + k[0], h + p[2]), min(ws + k[1], w + p[3])
            if include_pad:
                count = (he - hs) * (we - ws)
            else:
                count = (min(he, h) - max(hs, 0)) * (min(we, w) - max(ws, 0))
            window = x[:, :, max(hs, 0):min(he, h), max(ws, 0):min(we, w)]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / count
    return out


def erf(v):
    import math
    return np.vectorize(math.erf)(v)


def softmax(v, axis):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- cases --------------------------------------------------------------------
# (name, [(array, dynamic dims)], result type, body, reference). The body
# names its arguments %a0, %a1, ... and returns %r.

def cases():
    x = rand(2, 3, 4)
    y = rand(4)
    yield ("broadcast_select", [(x, [0]), (y, [])], (None, 3, 4), """
  %g = vt.greater %a0, %a1 : tensor<?x3x4xf32>, tensor<4xf32> -> tensor<?x3x4xi1>
  %two = vt.constant dense<2.0> : tensor<f32>
  %y2 = vt.mul %a1, %two : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %r = vt.select %g, %a0, %y2 : tensor<?x3x4xi1>, tensor<?x3x4xf32>, tensor<4xf32> -> tensor<?x3x4xf32>
""", lambda: np.where(x > y, x, 2 * y))

    x = rand(3, 5) * 50
    yield ("softmax_large_logits", [(x, [0])], (None, 5), """
  %r = vt.softmax %a0 {axis = 1} : tensor<?x5xf32>
""", lambda: softmax(x.astype(np.float64), 1))

    x = rand(2, 3, 5)
    yield ("log_softmax_dynamic_axis", [(x, [0, 1])], (None, None, 5), """
  %r = vt.softmax %a0 {axis = 1, log = true} : tensor<?x?x5xf32>
""", lambda: np.log(softmax(x.astype(np.float64), 1)))

    x, g, b = rand(2, 3, 8), rand(8), rand(8)
    def ln():
        m = x.mean(axis=2, keepdims=True)
        v = ((x - m) ** 2).mean(axis=2, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * g + b
    yield ("layer_norm", [(x, [0]), (g, []), (b, [])], (None, 3, 8), """
  %r = vt.layer_norm %a0 scale %a1 : tensor<8xf32> bias %a2 : tensor<8xf32> {axis = 2 : i64, epsilon = 1.0e-5 : f64} : tensor<?x3x8xf32> -> tensor<?x3x8xf32>
""", ln)

    x, s, b, m, v = rand(2, 3, 4, 4), rand(3), rand(3), rand(3), np.abs(rand(3))
    yield ("batch_norm", [(x, [0]), (s, []), (b, []), (m, []), (v, [])],
           (None, 3, 4, 4), """
  %r = vt.batch_norm %a0, %a1, %a2, %a3, %a4 {epsilon = 1.0e-3 : f64} : (tensor<?x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<?x3x4x4xf32>
""", lambda: (x - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3) *
           s[:, None, None] + b[:, None, None])

    x, w, b = rand(2, 3, 8), rand(6, 8), rand(6)
    yield ("linear_transposed_weight", [(x, [0]), (w, []), (b, [])], (None, 3, 6), """
  %t = vt.transpose %a1 {perm = array<i64: 1, 0>} : tensor<6x8xf32> -> tensor<8x6xf32>
  %m = vt.matmul %a0, %t : tensor<?x3x8xf32>, tensor<8x6xf32> -> tensor<?x3x6xf32>
  %r = vt.add %m, %a2 : tensor<?x3x6xf32>, tensor<6xf32> -> tensor<?x3x6xf32>
""", lambda: x @ w.T + b)

    q, k = rand(2, 2, 3, 4), rand(2, 2, 5, 4)
    yield ("attention_scores", [(q, [0]), (k, [0])], (None, 2, 3, 5), """
  %kt = vt.transpose %a1 {perm = array<i64: 0, 1, 3, 2>} : tensor<?x2x5x4xf32> -> tensor<?x2x4x5xf32>
  %r = vt.matmul %a0, %kt : tensor<?x2x3x4xf32>, tensor<?x2x4x5xf32> -> tensor<?x2x3x5xf32>
""", lambda: q @ np.swapaxes(k, 2, 3))

    q, k = rand(2, 2, 3, 4), rand(2, 2, 5, 4)
    yield ("attention_scores_transpose_in_fusion", [(q, [0]), (k, [0])],
           (None, 2, 3, 5), """
  %kt = vt.fusion(%a1) : (tensor<?x2x5x4xf32>) -> tensor<?x2x4x5xf32> {
  ^bb0(%k: tensor<?x2x5x4xf32>):
    %t = vt.transpose %k {perm = array<i64: 0, 1, 3, 2>} : tensor<?x2x5x4xf32> -> tensor<?x2x4x5xf32>
    vt.yield %t : tensor<?x2x4x5xf32>
  }
  %r = vt.matmul %a0, %kt : tensor<?x2x3x4xf32>, tensor<?x2x4x5xf32> -> tensor<?x2x3x5xf32>
""", lambda: q @ np.swapaxes(k, 2, 3))

    a, b = rand(3, 4), rand(2, 4, 5)
    yield ("matmul_broadcast_batch", [(a, []), (b, [0])], (None, 3, 5), """
  %r = vt.matmul %a0, %a1 : tensor<3x4xf32>, tensor<?x4x5xf32> -> tensor<?x3x5xf32>
""", lambda: a @ b)

    v, m = rand(4), rand(2, 4, 3)
    yield ("matmul_vector_lhs", [(v, []), (m, [0])], (None, 3), """
  %r = vt.matmul %a0, %a1 : tensor<4xf32>, tensor<?x4x3xf32> -> tensor<?x3xf32>
""", lambda: v @ m)

    m, v = rand(3, 4), rand(4)
    yield ("matmul_vector_rhs", [(m, [0]), (v, [])], (None,), """
  %r = vt.matmul %a0, %a1 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?xf32>
""", lambda: m @ v)

    x, w, b = rand(2, 4, 7, 7), rand(6, 2, 3, 3), rand(6)
    yield ("conv_grouped_strided_padded", [(x, [0]), (w, []), (b, [])],
           (None, 6, 4, 4), """
  %r = vt.conv2d %a0, %a1 bias %a2 : tensor<6xf32> {strides = array<i64: 2, 2>, pads = array<i64: 1, 0, 1, 2>, dilations = array<i64: 1, 1>, group = 2 : i64} : tensor<?x4x7x7xf32>, tensor<6x2x3x3xf32> -> tensor<?x6x4x4xf32>
""", lambda: conv2d(x, w, b, (2, 2), (1, 0, 1, 2), (1, 1), 2))

    x, w = rand(2, 3, 8, 8), rand(4, 3, 3, 3)
    yield ("conv_dilated_dynamic_hw", [(x, [0, 2, 3]), (w, [])],
           (None, 4, None, None), """
  %r = vt.conv2d %a0, %a1 {strides = array<i64: 1, 2>, pads = array<i64: 0, 1, 2, 1>, dilations = array<i64: 2, 1>} : tensor<?x3x?x?xf32>, tensor<4x3x3x3xf32> -> tensor<?x4x?x?xf32>
""", lambda: conv2d(x, w, None, (1, 2), (0, 1, 2, 1), (2, 1), 1))

    x = rand(2, 2, 7, 7)
    yield ("max_pool_ceil_padded", [(x, [0])], (None, 2, 4, 4), """
  %r = vt.max_pool2d %a0 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : tensor<?x2x7x7xf32> -> tensor<?x2x4x4xf32>
""", lambda: max_pool(x, (3, 3), (2, 2), (1, 1, 0, 0), True))

    x = rand(2, 2, 6, 6)
    yield ("max_pool_dynamic_hw_ceil", [(x, [0, 2, 3])], (None, 2, None, None), """
  %r = vt.max_pool2d %a0 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 1>, ceil_mode = true} : tensor<?x2x?x?xf32> -> tensor<?x2x?x?xf32>
""", lambda: max_pool(x, (2, 2), (2, 2), (0, 0, 0, 0), True, (2, 1)))

    x = rand(2, 2, 7, 7)
    yield ("avg_pool_exclude_pad_ceil", [(x, [0])], (None, 2, 4, 4), """
  %r = vt.avg_pool2d %a0 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode = true} : tensor<?x2x7x7xf32> -> tensor<?x2x4x4xf32>
""", lambda: avg_pool(x, (3, 3), (2, 2), (1, 1, 1, 1), True, False))

    x = rand(2, 2, 6, 6)
    yield ("avg_pool_include_pad_ceil", [(x, [0, 2, 3])], (None, 2, None, None), """
  %r = vt.avg_pool2d %a0 {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, count_include_pad = true, ceil_mode = true} : tensor<?x2x?x?xf32> -> tensor<?x2x?x?xf32>
""", lambda: avg_pool(x, (3, 3), (2, 2), (1, 1, 1, 1), True, True))

    x = rand(2, 2, 4, 4)
    yield ("avg_pool_plain", [(x, [0])], (None, 2, 2, 2), """
  %r = vt.avg_pool2d %a0 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<?x2x4x4xf32> -> tensor<?x2x2x2xf32>
""", lambda: avg_pool(x, (2, 2), (2, 2), (0, 0, 0, 0), False, True))

    x = rand(2, 6)
    yield ("reshape_runtime_minus_one", [(x, [0])], (None, 3), """
  %s = vt.constant dense<[-1, 3]> : tensor<2xi64>
  %r = vt.reshape %a0, %s : tensor<?x6xf32>, tensor<2xi64> -> tensor<?x3xf32>
""", lambda: x.reshape(-1, 3))

    x = rand(2, 4, 6)
    yield ("reshape_zero_and_split", [(x, [0])], (None, 4, 2, 3), """
  %s = vt.constant dense<[0, 4, 2, 3]> : tensor<4xi64>
  %r = vt.reshape %a0, %s : tensor<?x4x6xf32>, tensor<4xi64> -> tensor<?x4x2x3xf32>
""", lambda: x.reshape(2, 4, 2, 3))

    x = rand(2, 4, 6)
    yield ("reshape_fully_dynamic", [(x, [0, 1, 2])], (None, None), """
  %s = vt.constant dense<[0, -1]> : tensor<2xi64>
  %r = vt.reshape %a0, %s : tensor<?x?x?xf32>, tensor<2xi64> -> tensor<?x?xf32>
""", lambda: x.reshape(2, -1))

    x = rand(3, 5)
    yield ("slice_negative_steps", [(x, [0, 1])], (None, None), f"""
  %r = vt.slice %a0 {{starts = array<i64: -1, 4>, ends = array<i64: -{I64_MAX}, 0>, steps = array<i64: -1, -2>}} : tensor<?x?xf32> -> tensor<?x?xf32>
""", lambda: x[::-1, 4:0:-2])

    x = rand(3, 17, 4)
    yield ("slice_class_token_clamped", [(x, [0])], (None, 1, 3), f"""
  %r = vt.slice %a0 {{starts = array<i64: 0, 0, -3>, ends = array<i64: {I64_MAX}, 1, 100>, steps = array<i64: 1, 1, 1>}} : tensor<?x17x4xf32> -> tensor<?x1x3xf32>
""", lambda: x[:, 0:1, -3:])

    x = rand(2, 5)
    idx = np.array([[-1, 0], [2, -2]], np.int64)
    yield ("gather_negative_indices", [(x, [0])], (None, 2, 2), f"""
  %i = vt.constant {dense(idx)}
  %r = vt.gather %a0, %i {{axis = 1}} : tensor<?x5xf32>, tensor<2x2xi64> -> tensor<?x2x2xf32>
""", lambda: x[:, idx])

    x = rand(2, 3, 4)
    yield ("gather_scalar_index", [(x, [0])], (None, 4), """
  %i = vt.constant dense<0> : tensor<i64>
  %r = vt.gather %a0, %i {axis = 1} : tensor<?x3x4xf32>, tensor<i64> -> tensor<?x4xf32>
""", lambda: x[:, 0])

    a, b = rand(2, 1, 4), rand(2, 3, 4)
    yield ("concat_dynamic", [(a, [0]), (b, [0, 1])], (None, None, 4), """
  %r = vt.concat %a0, %a1 {axis = 1} : (tensor<?x1x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
""", lambda: np.concatenate([a, b], axis=1))

    x = rand(2, 5)
    yield ("pad_negative", [(x, [0])], (None, 6), """
  %r = vt.pad %a0 {pads = array<i64: 0, -1, 0, 2>, value = 1.5 : f64} : tensor<?x5xf32> -> tensor<?x6xf32>
""", lambda: np.pad(x[:, 1:], ((0, 0), (0, 2)), constant_values=1.5))

    x = rand(2, 3)
    yield ("tile", [(x, [0])], (None, 6), """
  %r = vt.tile %a0 {repeats = array<i64: 2, 2>} : tensor<?x3xf32> -> tensor<?x6xf32>
""", lambda: np.tile(x, (2, 2)))

    x = rand(1, 1, 4)
    shape = np.array([3, 1, 1], np.int64)
    yield ("expand_bidirectional", [(x, [])], (3, 1, 4), f"""
  %s = vt.constant {dense(shape)}
  %r = vt.expand %a0, %s : tensor<1x1x4xf32>, tensor<3xi64> -> tensor<3x1x4xf32>
""", lambda: x * np.ones((3, 1, 1), np.float32))

    x = rand(2, 3, 4)
    yield ("reductions", [(x, [0])], (None, 1, 4), """
  %mx = vt.reduce_max %a0 {axes = array<i64: 1>} : tensor<?x3x4xf32> -> tensor<?x1x4xf32>
  %mn = vt.reduce_min %a0 {axes = array<i64: 1>} : tensor<?x3x4xf32> -> tensor<?x1x4xf32>
  %me = vt.reduce_mean %a0 {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3x4xf32> -> tensor<4xf32>
  %su = vt.reduce_sum %a0 {axes = array<i64: 1>} : tensor<?x3x4xf32> -> tensor<?x1x4xf32>
  %t0 = vt.add %mx, %mn : tensor<?x1x4xf32>, tensor<?x1x4xf32> -> tensor<?x1x4xf32>
  %t1 = vt.mul %t0, %me : tensor<?x1x4xf32>, tensor<4xf32> -> tensor<?x1x4xf32>
  %r = vt.sub %t1, %su : tensor<?x1x4xf32>, tensor<?x1x4xf32> -> tensor<?x1x4xf32>
""", lambda: (x.max(1, keepdims=True) + x.min(1, keepdims=True)) * x.mean((0, 1))
           - x.sum(1, keepdims=True))

    x = rand(3, 5)
    x[1, 3] = x[1, 1] = 9.0  # a tie: the first index wins
    yield ("argmax_first_on_ties", [(x, [0])], (None,), """
  %i = vt.argmax %a0 {axis = 1, keepdims = false} : tensor<?x5xf32> -> tensor<?xi64>
  %r = vt.cast %i : tensor<?xi64> -> tensor<?xf32>
""", lambda: np.argmax(x, axis=1).astype(np.float32))

    x = rand(2, 6) * 3
    yield ("activations", [(x, [0])], (None, 6), """
  %g = vt.gelu %a0 : tensor<?x6xf32>
  %gt = vt.gelu %a0 {approximate_tanh = true} : tensor<?x6xf32>
  %hs = vt.hard_swish %a0 : tensor<?x6xf32>
  %lr = vt.leaky_relu %a0 {alpha = 0.1 : f64} : tensor<?x6xf32>
  %cl = vt.clamp %a0 {min = -1.0 : f64, max = 0.5 : f64} : tensor<?x6xf32>
  %sg = vt.sigmoid %a0 : tensor<?x6xf32>
  %i = vt.cast %a0 : tensor<?x6xf32> -> tensor<?x6xi32>
  %f = vt.cast %i : tensor<?x6xi32> -> tensor<?x6xf32>
  %s0 = vt.add %g, %gt : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
  %s1 = vt.mul %s0, %hs : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
  %s2 = vt.sub %s1, %lr : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
  %s3 = vt.div %s2, %sg : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
  %s4 = vt.max %s3, %cl : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
  %r = vt.add %s4, %f : tensor<?x6xf32>, tensor<?x6xf32> -> tensor<?x6xf32>
""", lambda: activations_ref(x))

    x = np.abs(rand(2, 4)) + 0.5
    yield ("pow_floor_int_div", [(x, [0])], (None, 4), """
  %e = vt.constant dense<1.5> : tensor<f32>
  %p = vt.pow %a0, %e : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %ten = vt.constant dense<-10.0> : tensor<f32>
  %xs = vt.mul %a0, %ten : tensor<?x4xf32>, tensor<f32> -> tensor<?x4xf32>
  %fl = vt.floor %xs : tensor<?x4xf32>
  %xi = vt.cast %fl : tensor<?x4xf32> -> tensor<?x4xi64>
  %three = vt.constant dense<3> : tensor<i64>
  %q = vt.div %xi, %three : tensor<?x4xi64>, tensor<i64> -> tensor<?x4xi64>
  %qf = vt.cast %q : tensor<?x4xi64> -> tensor<?x4xf32>
  %r = vt.add %p, %qf : tensor<?x4xf32>, tensor<?x4xf32> -> tensor<?x4xf32>
""", lambda: x ** 1.5 + np.trunc(np.floor(x * -10) / 3))

    yield ("range_float", [], (None,), """
  %s = vt.constant dense<1.0> : tensor<f32>
  %l = vt.constant dense<3.2> : tensor<f32>
  %d = vt.constant dense<0.5> : tensor<f32>
  %r0 = vt.range %s, %l, %d : tensor<f32> -> tensor<?xf32>
  %r = vt.relu %r0 : tensor<?xf32>
""", lambda: np.arange(1.0, 3.2, 0.5))


def activations_ref(x):
    x = x.astype(np.float64)
    g = 0.5 * x * (1 + erf(x / np.sqrt(2)))
    gt = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    hs = x * np.clip(x / 6 + 0.5, 0, 1)
    lr = np.where(x < 0, 0.1 * x, x)
    cl = np.clip(x, -1, 0.5)
    sg = 1 / (1 + np.exp(-x))
    f = np.trunc(x.astype(np.float32)).astype(np.float64)
    return np.maximum(((g + gt) * hs - lr) / sg, cl) + f


def element_type(a):
    return "i64" if a.dtype == np.int64 else "f32"


def build_module(name, inputs, result_shape, body, result_dtype="f32"):
    """Inputs are f32 or i64 arrays; the result (f32 or i64) is printed."""
    args = []
    for i, (a, dyn) in enumerate(inputs):
        shape = [None if d in dyn else s for d, s in enumerate(a.shape)]
        args.append(f"%a{i}: {mlir_type(shape, element_type(a))}")
    rtype = mlir_type(result_shape, result_dtype)
    printer = "printMemref" + result_dtype.upper()
    lines = [f"func.func @{name}({', '.join(args)}) -> {rtype} {{", body.strip("\n"),
             f"  return %r : {rtype}", "}", "",
             f"func.func private @{printer}(tensor<*x{result_dtype}>)", "",
             "func.func @main() {"]
    call_args = []
    for i, (a, dyn) in enumerate(inputs):
        shape = [None if d in dyn else s for d, s in enumerate(a.shape)]
        lines.append(f"  %c{i} = arith.constant {dense(a)}")
        lines.append(f"  %d{i} = tensor.cast %c{i} : {mlir_type(a.shape, element_type(a))}"
                     f" to {mlir_type(shape, element_type(a))}")
        call_args.append((f"%d{i}", mlir_type(shape, element_type(a))))
    lines.append(f"  %r = call @{name}({', '.join(v for v, _ in call_args)}) : "
                 f"({', '.join(t for _, t in call_args)}) -> {rtype}")
    lines.append(f"  %u = tensor.cast %r : {rtype} to tensor<*x{result_dtype}>")
    lines.append(f"  call @{printer}(%u) : (tensor<*x{result_dtype}>) -> ()")
    lines.append("  return")
    lines.append("}")
    return "\n".join(lines) + "\n"


LOWER = [
    "--convert-vt-to-linalg", "--linalg-fuse-elementwise-ops", "--canonicalize",
    "--one-shot-bufferize=bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map",
    "--convert-linalg-to-loops", "--expand-strided-metadata", "--lower-affine",
    "--convert-scf-to-cf", "--convert-math-to-llvm", "--convert-math-to-libm",
    "--convert-arith-to-llvm", "--finalize-memref-to-llvm", "--convert-func-to-llvm",
    "--convert-cf-to-llvm", "--reconcile-unrealized-casts",
]


def lower_and_run(args, source, path):
    """Writes `source` (a module with @main) to `path`, lowers and runs it;
    returns the printed memref as a float64 array, or an error string."""
    with open(path, "w") as f:
        f.write(source)
    lowered = subprocess.run([args.vitc_opt, path] + LOWER, capture_output=True,
                             text=True)
    if lowered.returncode != 0:
        return f"lowering failed:\n{lowered.stderr}"
    libdir = args.runner_libs
    run = subprocess.run(
        [args.runner, "-e", "main", "-entry-point-result=void",
         f"-shared-libs={libdir}/libmlir_runner_utils.so",
         f"-shared-libs={libdir}/libmlir_c_runner_utils.so"],
        input=lowered.stdout, capture_output=True, text=True)
    if run.returncode != 0:
        return f"mlir-runner failed:\n{run.stderr}"
    m = re.search(r"sizes = \[([^\]]*)\].*?data =(.*)", run.stdout, re.S)
    if not m:
        return f"no memref printed:\n{run.stdout}"
    sizes = [int(s) for s in m.group(1).split(",") if s.strip()]
    values = [float(v) for v in re.findall(r"-?(?:inf|nan|[0-9.]+(?:e[-+]?[0-9]+)?)",
                                           m.group(2))]
    return np.array(values).reshape(sizes)


def add_runner_args(p):
    p.add_argument("--vitc-opt", required=True)
    p.add_argument("--runner", required=True)
    p.add_argument("--runner-libs", default="",
                   help="directory of libmlir_runner_utils.so; default: "
                   "the lib/ next to the runner's bin/")
    p.add_argument("--filter", default="")


def resolve_runner_libs(args):
    if not args.runner_libs:
        import shutil
        runner = os.path.realpath(shutil.which(args.runner) or args.runner)
        args.runner_libs = os.path.join(os.path.dirname(os.path.dirname(runner)),
                                        "lib")


def run_case(args, name, inputs, result_shape, body, ref, tmp):
    got = lower_and_run(args, build_module(name, inputs, result_shape, body),
                        os.path.join(tmp, name + ".mlir"))
    if isinstance(got, str):
        return got
    want = np.asarray(ref(), np.float64)
    if got.shape != want.shape:
        return f"shape {got.shape} != reference {want.shape}"
    if not np.allclose(got, want, rtol=1e-4, atol=1e-4):
        err = np.max(np.abs(got - want))
        return f"max abs error {err}\ngot:\n{got}\nwant:\n{want}"
    return None


def run_named_checks(checks, name_filter):
    """Runs each (name, check(tmp_dir) -> error or None) whose name contains
    `name_filter` in one temporary directory; prints "PASS name" or "FAIL
    name" and the error, then "N failed". Returns the exit status."""
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, check in checks:
            if name_filter not in name:
                continue
            err = check(tmp)
            print(("PASS " if err is None else "FAIL ") + name)
            if err:
                print(err)
                failures += 1
    print(f"{failures} failed")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser()
    add_runner_args(p)
    args = p.parse_args()
    resolve_runner_libs(args)
    return run_named_checks(
        ((case[0], lambda tmp, case=case: run_case(args, *case, tmp)) for case in cases()),
        args.filter)


if __name__ == "__main__":
    sys.exit(main())
