// RUN: vitc-opt %s -split-input-file -vitc-fuse-elementwise -canonicalize | FileCheck %s

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>

// Bias + exact GELU where upstream's fusion stops (taken from vitc's own
// lowering): h = x + b is read twice, and tensor.dim queries on h and on
// h * 0.5 count as uses. h is cheap, so it is recomputed in its consumer;
// canonicalisation then reads the dims off the inits, and the region is one
// loop nest.
// CHECK-LABEL: func @bias_gelu
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
func.func @bias_gelu(%x: tensor<?x8xf32>, %b: tensor<8xf32>) -> tensor<?x8xf32> {
  %one = arith.constant 1.000000e+00 : f32
  %half = arith.constant 5.000000e-01 : f32
  %c = arith.constant 0.707106769 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x8xf32>
  %e0 = tensor.empty(%n) : tensor<?x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<?x8xf32>, tensor<8xf32>) outs(%e0 : tensor<?x8xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %r = arith.addf %i, %j : f32
    linalg.yield %r : f32
  } -> tensor<?x8xf32>
  %n1 = tensor.dim %h, %c0 : tensor<?x8xf32>
  %e1 = tensor.empty(%n1) : tensor<?x8xf32>
  %hh = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<?x8xf32>) outs(%e1 : tensor<?x8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %r = arith.mulf %i, %half : f32
    linalg.yield %r : f32
  } -> tensor<?x8xf32>
  %n2 = tensor.dim %hh, %c0 : tensor<?x8xf32>
  %e2 = tensor.empty(%n2) : tensor<?x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%hh, %h : tensor<?x8xf32>, tensor<?x8xf32>) outs(%e2 : tensor<?x8xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.mulf %j, %c : f32
    %t = math.erf %s : f32
    %u = arith.addf %t, %one : f32
    %v = arith.mulf %i, %u : f32
    linalg.yield %v : f32
  } -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// An expensive producer (exp) with two uses stays one loop of its own: it is
// stored once rather than computed twice.
// CHECK-LABEL: func @expensive_multi_use
// CHECK: math.exp
// CHECK-NOT: math.exp
// CHECK: return
func.func @expensive_multi_use(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %p = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %q = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %p, %q : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1) -> (d0)>

// A reduction consumer takes single-use producers only: the cheap producer
// read by both the reduction and another op is not recomputed inside it.
// CHECK-LABEL: func @no_multi_use_into_reduction
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: arith.subf
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK-NOT: arith.subf
// CHECK: arith.addf
// CHECK-NOT: arith.subf
// CHECK: return
func.func @no_multi_use_into_reduction(%x: tensor<4x8xf32>, %init: tensor<4xf32>) -> (tensor<4xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.subf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
      ins(%h : tensor<4x8xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %s, %h : tensor<4xf32>, tensor<4x8xf32>
}

// -----

// A contraction stays a contraction (a library call after bufferization):
// the single-use rounding of its weight to bf16 is not fused into it, while
// the transpose of the activation, which only moves data, becomes its
// indexing map.
// CHECK-LABEL: func @no_compute_into_contraction
//       CHECK:   %[[W:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<8x16xf32>) outs(%{{.*}} : tensor<8x16xbf16>)
//       CHECK:     arith.truncf
//       CHECK:   linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[W]] : tensor<8x4xbf16>, tensor<8x16xbf16>)
//   CHECK-NOT:     arith.truncf
//       CHECK:     arith.extf
#mk = affine_map<(m, n, k) -> (m, k)>
#km = affine_map<(m, n, k) -> (k, m)>
#kn = affine_map<(m, n, k) -> (k, n)>
#mn = affine_map<(m, n, k) -> (m, n)>
#t = affine_map<(d0, d1) -> (d1, d0)>
#i = affine_map<(d0, d1) -> (d0, d1)>
func.func @no_compute_into_contraction(%x: tensor<8x4xbf16>, %w: tensor<8x16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %ew = tensor.empty() : tensor<8x16xbf16>
  %wb = linalg.generic {indexing_maps = [#i, #i], iterator_types = ["parallel", "parallel"]}
      ins(%w : tensor<8x16xf32>) outs(%ew : tensor<8x16xbf16>) {
  ^bb0(%a: f32, %o: bf16):
    %r = arith.truncf %a : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<8x16xbf16>
  %et = tensor.empty() : tensor<4x8xbf16>
  %xt = linalg.generic {indexing_maps = [#t, #i], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x4xbf16>) outs(%et : tensor<4x8xbf16>) {
  ^bb0(%a: bf16, %o: bf16):
    linalg.yield %a : bf16
  } -> tensor<4x8xbf16>
  %e = tensor.empty() : tensor<4x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<4x16xf32>) -> tensor<4x16xf32>
  %y = linalg.generic {indexing_maps = [#mk, #kn, #mn], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%xt, %wb : tensor<4x8xbf16>, tensor<8x16xbf16>) outs(%acc : tensor<4x16xf32>) {
  ^bb0(%a: bf16, %b: bf16, %o: f32):
    %wa = arith.extf %a : bf16 to f32
    %wb2 = arith.extf %b : bf16 to f32
    %p = arith.mulf %wa, %wb2 : f32
    %s = arith.addf %o, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// A producer with three inputs, read by its consumer through a broadcasting
// map (each element used twice), stays a loop nest of its own: fused, it
// would be recomputed for every element it is broadcast to. A one-input
// producer still fuses into the same consumer.
// CHECK-LABEL: func @no_recompute_per_broadcast
// CHECK:         %[[FIRST:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK:           arith.select
// CHECK:         linalg.generic {{.*}} ins(%[[FIRST]], %{{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK:           math.exp
// CHECK-NOT:     linalg.generic
func.func @no_recompute_per_broadcast(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4x2xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %first = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a, %b, %c : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32, %o: f32):
    %eq = arith.cmpf oeq, %x, %y : f32
    %s = arith.select %eq, %z, %x : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %ex = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %r = math.exp %x : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %e2 = tensor.empty() : tensor<4x2xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%first, %ex : tensor<4xf32>, tensor<4xf32>) outs(%e2 : tensor<4x2xf32>) {
  ^bb0(%f: f32, %x: f32, %o: f32):
    %s = arith.addf %f, %x : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
