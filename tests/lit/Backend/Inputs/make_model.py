"""Writes a small vt model with weights, inputs and numpy reference outputs.

usage: make_model.py OUTDIR [--batch B] [--dynamic] [--linalg]

OUTDIR/model.mlir  @main(x: [B|?, 64] f32, s: [64] f32) -> (y, z) with
                   y = relu(x + w) * s   (w: a 64-float dense_resource weight)
                   z = x - b             (b: a 1x64 dense weight)
                   in the vt dialect, or with --linalg as linalg on tensors
                   (to test the backend without the vt lowering)
OUTDIR/x.npy, s.npy, y_ref.npy, z_ref.npy
"""
import argparse
import os

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("outdir")
parser.add_argument("--batch", type=int, default=3)
parser.add_argument("--dynamic", action="store_true")
parser.add_argument("--linalg", action="store_true")
parser.add_argument("--matmul", action="store_true",
                    help="vt only: y = relu(x @ m + w) * s, m a 64x64 weight "
                         "(runs through the runtime's oneDNN matmul kernel)")
args = parser.parse_args()

rng = np.random.default_rng(0)
# Weights first, so that models written for different batches share them.
w = rng.standard_normal(64).astype(np.float32)
b = rng.standard_normal((1, 64)).astype(np.float32)
m = (rng.standard_normal((64, 64)) / 8).astype(np.float32)
s = rng.uniform(0.5, 2.0, 64).astype(np.float32)
x = rng.standard_normal((args.batch, 64)).astype(np.float32)

batch = "?" if args.dynamic else str(args.batch)
t = f"tensor<{batch}x64xf32>"
# dense_resource blobs start with their alignment (4 bytes, little-endian).
w_blob = "0x04000000" + w.tobytes().hex().upper()
m_blob = "0x04000000" + m.tobytes().hex().upper()
b_values = ", ".join(f"{v:.9e}" for v in b.ravel())
matmul_lines = f"""  %m = vt.constant dense_resource<m> : tensor<64x64xf32>
  %xm = vt.matmul %x, %m : {t}, tensor<64x64xf32> -> {t}""" if args.matmul else ""
vt_body = f"""
  %w = vt.constant dense_resource<w> : tensor<64xf32>
  %b = vt.constant dense<[[{b_values}]]> : tensor<1x64xf32>
{matmul_lines}
  %0 = vt.add {"%xm" if args.matmul else "%x"}, %w : {t}, tensor<64xf32> -> {t}
  %1 = vt.relu %0 : {t}
  %y = vt.mul %1, %s : {t}, tensor<64xf32> -> {t}
  %z = vt.sub %x, %b : {t}, tensor<1x64xf32> -> {t}"""
linalg_body = f"""
  %w = arith.constant dense_resource<w> : tensor<64xf32>
  %b = arith.constant dense<[[{b_values}]]> : tensor<1x64xf32>
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : {t}
  %e = tensor.empty({"%n" if args.dynamic else ""}) : {t}
  %y = linalg.generic {{indexing_maps = [#id, #row, #row, #id],
                        iterator_types = ["parallel", "parallel"]}}
      ins(%x, %w, %s : {t}, tensor<64xf32>, tensor<64xf32>) outs(%e : {t}) {{
    ^bb0(%a: f32, %wv: f32, %sv: f32, %o: f32):
      %0 = arith.addf %a, %wv : f32
      %1 = arith.maximumf %0, %zero : f32
      %2 = arith.mulf %1, %sv : f32
      linalg.yield %2 : f32
  }} -> {t}
  %z = linalg.generic {{indexing_maps = [#id, #bcast, #id],
                        iterator_types = ["parallel", "parallel"]}}
      ins(%x, %b : {t}, tensor<1x64xf32>) outs(%e : {t}) {{
    ^bb0(%a: f32, %bv: f32, %o: f32):
      %0 = arith.subf %a, %bv : f32
      linalg.yield %0 : f32
  }} -> {t}"""
maps = """#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
#bcast = affine_map<(d0, d1) -> (0, d1)>
""" if args.linalg else ""
module = maps + f"""func.func @main(%x: {t} {{vt.name = "x"}}, %s: tensor<64xf32> {{vt.name = "s"}})
    -> ({t} {{vt.name = "y"}}, {t} {{vt.name = "z/out:0"}}) {{{linalg_body if args.linalg else vt_body}
  return %y, %z : {t}, {t}
}}
{{-#
  dialect_resources: {{
    builtin: {{
      w: "{w_blob}",
      m: "{m_blob}"
    }}
  }}
#-}}
"""
os.makedirs(args.outdir, exist_ok=True)
with open(os.path.join(args.outdir, "model.mlir"), "w") as f:
    f.write(module)
np.save(os.path.join(args.outdir, "x.npy"), x)
np.save(os.path.join(args.outdir, "s.npy"), s)
xm = x @ m if args.matmul else x
np.save(os.path.join(args.outdir, "y_ref.npy"), np.maximum(xm + w, 0) * s)
np.save(os.path.join(args.outdir, "z_ref.npy"), x - b)
