// RUN: vitc-opt %s -split-input-file --vitc-graph --vitc-lower --vitc-cpu-codegen | FileCheck %s
//
// The whole CPU pipeline on vt functions with a dynamic batch reaches the
// LLVM dialect: nothing but llvm.* ops (and the module) is left.

// An MNIST-like CNN: conv + bias, relu, max pool, the exporter's dynamic
// flatten (Shape -> Gather -> Unsqueeze -> Concat -> Reshape), linear,
// softmax.
// CHECK-LABEL: llvm.func @main
// CHECK-NOT: {{^ *(%[^ ]+ = )?"?(vt|linalg|tensor|memref|bufferization|arith|math|scf|cf|affine|func)\.}}
func.func @main(%x: tensor<?x1x28x28xf32> {vt.name = "input"}) -> (tensor<?x10xf32> {vt.name = "logits"}) {
  %w1 = vt.constant {name = "conv1.weight"} dense<0.1> : tensor<8x1x3x3xf32>
  %b1 = vt.constant {name = "conv1.bias"} dense<0.01> : tensor<8xf32>
  %fw = vt.constant {name = "fc.weight"} dense<0.02> : tensor<10x1568xf32>
  %fb = vt.constant {name = "fc.bias"} dense<0.5> : tensor<10xf32>
  %0 = vt.conv2d %x, %w1 bias %b1 : tensor<8xf32> {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<?x1x28x28xf32>, tensor<8x1x3x3xf32> -> tensor<?x8x28x28xf32>
  %1 = vt.relu %0 : tensor<?x8x28x28xf32>
  %2 = vt.max_pool2d %1 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x8x28x28xf32> -> tensor<?x8x14x14xf32>
  %s = vt.shape_of %2 : tensor<?x8x14x14xf32> -> tensor<4xi64>
  %i0 = vt.constant dense<0> : tensor<i64>
  %g = vt.gather %s, %i0 {axis = 0} : tensor<4xi64>, tensor<i64> -> tensor<i64>
  %u1 = vt.constant dense<1> : tensor<1xi64>
  %u = vt.reshape %g, %u1 : tensor<i64>, tensor<1xi64> -> tensor<1xi64>
  %m1 = vt.constant dense<-1> : tensor<1xi64>
  %shape = vt.concat %u, %m1 {axis = 0} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %3 = vt.reshape %2, %shape : tensor<?x8x14x14xf32>, tensor<2xi64> -> tensor<?x?xf32>
  %t = vt.transpose %fw {perm = array<i64: 1, 0>} : tensor<10x1568xf32> -> tensor<1568x10xf32>
  %4 = vt.matmul %3, %t : tensor<?x?xf32>, tensor<1568x10xf32> -> tensor<?x10xf32>
  %5 = vt.add %4, %fb : tensor<?x10xf32>, tensor<10xf32> -> tensor<?x10xf32>
  %6 = vt.softmax %5 {axis = 1} : tensor<?x10xf32>
  return %6 : tensor<?x10xf32>
}

// -----

// A ViT block: patch embedding conv, class token expand + concat, position
// add, layer_norm, qkv projection, split heads, q k^T, softmax, attention
// context, residual, MLP with gelu, class-token slice, head.
// CHECK-LABEL: llvm.func @main
// CHECK-NOT: {{^ *(%[^ ]+ = )?"?(vt|linalg|tensor|memref|bufferization|arith|math|scf|cf|affine|func)\.}}
func.func @main(%x: tensor<?x3x32x32xf32> {vt.name = "input"}) -> (tensor<?x10xf32> {vt.name = "logits"}) {
  %pw = vt.constant {name = "patch.weight"} dense<0.01> : tensor<64x3x8x8xf32>
  %pb = vt.constant {name = "patch.bias"} dense<0.0> : tensor<64xf32>
  %cls = vt.constant {name = "cls"} dense<0.5> : tensor<1x1x64xf32>
  %pos = vt.constant {name = "pos"} dense<0.1> : tensor<1x17x64xf32>
  %g = vt.constant {name = "ln.weight"} dense<1.0> : tensor<64xf32>
  %b = vt.constant {name = "ln.bias"} dense<0.0> : tensor<64xf32>
  %wqkv = vt.constant {name = "qkv.weight"} dense<0.02> : tensor<192x64xf32>
  %w1 = vt.constant {name = "fc1.weight"} dense<0.03> : tensor<128x64xf32>
  %b1 = vt.constant {name = "fc1.bias"} dense<0.0> : tensor<128xf32>
  %hw = vt.constant {name = "head.weight"} dense<0.04> : tensor<10x128xf32>
  %p = vt.conv2d %x, %pw bias %pb : tensor<64xf32> {strides = array<i64: 8, 8>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<?x3x32x32xf32>, tensor<64x3x8x8xf32> -> tensor<?x64x4x4xf32>
  %shape = vt.constant dense<[0, 64, 16]> : tensor<3xi64>
  %f = vt.reshape %p, %shape : tensor<?x64x4x4xf32>, tensor<3xi64> -> tensor<?x64x16xf32>
  %t = vt.transpose %f {perm = array<i64: 0, 2, 1>} : tensor<?x64x16xf32> -> tensor<?x16x64xf32>
  %s = vt.shape_of %x : tensor<?x3x32x32xf32> -> tensor<4xi64>
  %i0 = vt.constant dense<[0]> : tensor<1xi64>
  %bsz = vt.gather %s, %i0 {axis = 0} : tensor<4xi64>, tensor<1xi64> -> tensor<1xi64>
  %rest = vt.constant dense<[1, 1]> : tensor<2xi64>
  %eshape = vt.concat %bsz, %rest {axis = 0} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %clsb = vt.expand %cls, %eshape : tensor<1x1x64xf32>, tensor<3xi64> -> tensor<?x?x?xf32>
  %tok = vt.concat %clsb, %t {axis = 1} : (tensor<?x?x?xf32>, tensor<?x16x64xf32>) -> tensor<?x?x64xf32>
  %tp = vt.add %tok, %pos : tensor<?x?x64xf32>, tensor<1x17x64xf32> -> tensor<?x17x64xf32>
  %ln = vt.layer_norm %tp scale %g : tensor<64xf32> bias %b : tensor<64xf32> {axis = 2 : i64, epsilon = 1.0e-6 : f64} : tensor<?x17x64xf32> -> tensor<?x17x64xf32>
  %wt = vt.transpose %wqkv {perm = array<i64: 1, 0>} : tensor<192x64xf32> -> tensor<64x192xf32>
  %qkv = vt.matmul %ln, %wt : tensor<?x17x64xf32>, tensor<64x192xf32> -> tensor<?x17x192xf32>
  %hs = vt.constant dense<[0, 17, 3, 4, 16]> : tensor<5xi64>
  %q5 = vt.reshape %qkv, %hs : tensor<?x17x192xf32>, tensor<5xi64> -> tensor<?x17x3x4x16xf32>
  %q5t = vt.transpose %q5 {perm = array<i64: 2, 0, 3, 1, 4>} : tensor<?x17x3x4x16xf32> -> tensor<3x?x4x17x16xf32>
  %qi = vt.constant dense<0> : tensor<i64>
  %ki = vt.constant dense<1> : tensor<i64>
  %q = vt.gather %q5t, %qi {axis = 0} : tensor<3x?x4x17x16xf32>, tensor<i64> -> tensor<?x4x17x16xf32>
  %k = vt.gather %q5t, %ki {axis = 0} : tensor<3x?x4x17x16xf32>, tensor<i64> -> tensor<?x4x17x16xf32>
  %kt = vt.transpose %k {perm = array<i64: 0, 1, 3, 2>} : tensor<?x4x17x16xf32> -> tensor<?x4x16x17xf32>
  %att = vt.matmul %q, %kt : tensor<?x4x17x16xf32>, tensor<?x4x16x17xf32> -> tensor<?x4x17x17xf32>
  %sc = vt.constant dense<0.25> : tensor<f32>
  %atts = vt.mul %att, %sc : tensor<?x4x17x17xf32>, tensor<f32> -> tensor<?x4x17x17xf32>
  %sm = vt.softmax %atts {axis = 3} : tensor<?x4x17x17xf32>
  %ctx = vt.matmul %sm, %q : tensor<?x4x17x17xf32>, tensor<?x4x17x16xf32> -> tensor<?x4x17x16xf32>
  %ct = vt.transpose %ctx {perm = array<i64: 0, 2, 1, 3>} : tensor<?x4x17x16xf32> -> tensor<?x17x4x16xf32>
  %cs = vt.constant dense<[0, 0, 64]> : tensor<3xi64>
  %c3 = vt.reshape %ct, %cs : tensor<?x17x4x16xf32>, tensor<3xi64> -> tensor<?x17x64xf32>
  %res = vt.add %c3, %tp : tensor<?x17x64xf32>, tensor<?x17x64xf32> -> tensor<?x17x64xf32>
  %w1t = vt.transpose %w1 {perm = array<i64: 1, 0>} : tensor<128x64xf32> -> tensor<64x128xf32>
  %h = vt.matmul %res, %w1t : tensor<?x17x64xf32>, tensor<64x128xf32> -> tensor<?x17x128xf32>
  %hb = vt.add %h, %b1 : tensor<?x17x128xf32>, tensor<128xf32> -> tensor<?x17x128xf32>
  %ge = vt.gelu %hb : tensor<?x17x128xf32>
  %clst = vt.slice %ge {starts = array<i64: 0, 0, 0>, ends = array<i64: 9223372036854775807, 1, 128>, steps = array<i64: 1, 1, 1>} : tensor<?x17x128xf32> -> tensor<?x1x128xf32>
  %c0 = vt.constant dense<[0, 128]> : tensor<2xi64>
  %cl = vt.reshape %clst, %c0 : tensor<?x1x128xf32>, tensor<2xi64> -> tensor<?x128xf32>
  %hwt = vt.transpose %hw {perm = array<i64: 1, 0>} : tensor<10x128xf32> -> tensor<128x10xf32>
  %lo = vt.matmul %cl, %hwt : tensor<?x128xf32>, tensor<128x10xf32> -> tensor<?x10xf32>
  return %lo : tensor<?x10xf32>
}
