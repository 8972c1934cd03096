// RUN: vitc-opt %s -split-input-file -vt-infer-shapes | FileCheck %s

// torch `x.view(x.size(0), -1)` with a dynamic batch: Shape -> Gather ->
// Unsqueeze -> Concat -> Reshape. The batch entry is "dim 0 of x", so the -1
// is the static rest (8 * 14 * 14 = 1568) and the function result follows.
// CHECK-LABEL: func.func @flatten_dynamic_batch
// CHECK: vt.reshape %{{.*}}, %{{.*}} : tensor<?x8x14x14xf32>, tensor<2xi64> -> tensor<?x1568xf32>
// CHECK: vt.matmul {{.*}} : tensor<?x1568xf32>, tensor<1568x10xf32> -> tensor<?x10xf32>
// CHECK: return {{.*}} : tensor<?x10xf32>
func.func @flatten_dynamic_batch(%x: tensor<?x8x14x14xf32>, %w: tensor<1568x10xf32>) -> tensor<?x10xf32> {
  %s = vt.shape_of %x : tensor<?x8x14x14xf32> -> tensor<4xi64>
  %i0 = vt.constant dense<0> : tensor<i64>
  %g = vt.gather %s, %i0 {axis = 0} : tensor<4xi64>, tensor<i64> -> tensor<i64>
  %one = vt.constant dense<1> : tensor<1xi64>
  %u = vt.reshape %g, %one : tensor<i64>, tensor<1xi64> -> tensor<1xi64>
  %m1 = vt.constant dense<-1> : tensor<1xi64>
  %shape = vt.concat %u, %m1 {axis = 0} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = vt.reshape %x, %shape : tensor<?x8x14x14xf32>, tensor<2xi64> -> tensor<?x?xf32>
  %y = vt.matmul %r, %w : tensor<?x?xf32>, tensor<1568x10xf32> -> tensor<?x10xf32>
  return %y : tensor<?x10xf32>
}

// -----

// The same chain with a static batch folds away entirely: the gather of a
// static dim from shape_of becomes a constant, the concat folds, and the
// reshape gets a static type and a constant shape.
// CHECK-LABEL: func.func @flatten_static_batch
// CHECK-SAME: -> tensor<2x1568xf32>
// CHECK-NOT: vt.shape_of
// CHECK-NOT: vt.gather
// CHECK-NOT: vt.concat
// CHECK: %[[SHAPE:.*]] = vt.constant dense<[2, 1568]> : tensor<2xi64>
// CHECK: vt.reshape %{{.*}}, %[[SHAPE]] : tensor<2x8x14x14xf32>, tensor<2xi64> -> tensor<2x1568xf32>
func.func @flatten_static_batch(%x: tensor<2x8x14x14xf32>) -> tensor<?x?xf32> {
  %s = vt.shape_of %x : tensor<2x8x14x14xf32> -> tensor<4xi64>
  %i0 = vt.constant dense<0> : tensor<i64>
  %g = vt.gather %s, %i0 {axis = 0} : tensor<4xi64>, tensor<i64> -> tensor<i64>
  %one = vt.constant dense<1> : tensor<1xi64>
  %u = vt.reshape %g, %one : tensor<i64>, tensor<1xi64> -> tensor<1xi64>
  %m1 = vt.constant dense<-1> : tensor<1xi64>
  %shape = vt.concat %u, %m1 {axis = 0} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %r = vt.reshape %x, %shape : tensor<2x8x14x14xf32>, tensor<2xi64> -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// ViT head split: [B, T, 768] -> [B, T, 12, 64] with shape
// Concat(Shape(x)[0:2], [12, 64]); the batch and token dims stay "dim of x".
// CHECK-LABEL: func.func @split_heads
// CHECK: vt.reshape {{.*}} -> tensor<?x197x12x64xf32>
// CHECK: vt.transpose {{.*}} -> tensor<?x12x197x64xf32>
// CHECK: return {{.*}} : tensor<?x12x197x64xf32>
func.func @split_heads(%x: tensor<?x197x768xf32>) -> tensor<?x?x?x?xf32> {
  %s = vt.shape_of %x : tensor<?x197x768xf32> -> tensor<3xi64>
  %bt = vt.slice %s {starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1>} : tensor<3xi64> -> tensor<2xi64>
  %hd = vt.constant dense<[12, 64]> : tensor<2xi64>
  %shape = vt.concat %bt, %hd {axis = 0} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = vt.reshape %x, %shape : tensor<?x197x768xf32>, tensor<4xi64> -> tensor<?x?x?x?xf32>
  %t = vt.transpose %r {perm = array<i64: 0, 2, 1, 3>} : tensor<?x?x?x?xf32> -> tensor<?x?x?x?xf32>
  return %t : tensor<?x?x?x?xf32>
}

// -----

// ONNX 0 copies the input dim; elementwise users and reductions re-infer.
// CHECK-LABEL: func.func @zero_copies_dim
// CHECK-SAME: -> tensor<?x1x64xf32>
// CHECK: vt.reshape {{.*}} -> tensor<?x64x196xf32>
// CHECK: vt.transpose {{.*}} -> tensor<?x196x64xf32>
// CHECK: vt.relu {{.*}} : tensor<?x196x64xf32>
// CHECK: vt.reduce_mean {{.*}} -> tensor<?x1x64xf32>
func.func @zero_copies_dim(%x: tensor<?x64x14x14xf32>) -> tensor<?x1x?xf32> {
  %shape = vt.constant dense<[0, 64, -1]> : tensor<3xi64>
  %r = vt.reshape %x, %shape : tensor<?x64x14x14xf32>, tensor<3xi64> -> tensor<?x?x?xf32>
  %t = vt.transpose %r {perm = array<i64: 0, 2, 1>} : tensor<?x?x?xf32> -> tensor<?x?x?xf32>
  %a = vt.relu %t : tensor<?x?x?xf32>
  %m = vt.reduce_mean %a {axes = array<i64: 1>} : tensor<?x?x?xf32> -> tensor<?x1x?xf32>
  return %m : tensor<?x1x?xf32>
}

// -----

// expand broadcasts bidirectionally; range with constant operands has a
// static length (and then folds).
// CHECK-LABEL: func.func @expand_and_range
// CHECK-DAG: vt.constant dense<[1, 3, 5, 7, 9]> : tensor<5xi64>
// CHECK-DAG: vt.expand {{.*}} -> tensor<4x3x5xf32>
func.func @expand_and_range(%x: tensor<3x1xf32>) -> (tensor<?x?x?xf32>, tensor<?xi64>) {
  %shape = vt.constant dense<[4, 1, 5]> : tensor<3xi64>
  %e = vt.expand %x, %shape : tensor<3x1xf32>, tensor<3xi64> -> tensor<?x?x?xf32>
  %s = vt.constant dense<1> : tensor<i64>
  %l = vt.constant dense<10> : tensor<i64>
  %d = vt.constant dense<2> : tensor<i64>
  %r = vt.range %s, %l, %d : tensor<i64> -> tensor<?xi64>
  return %e, %r : tensor<?x?x?xf32>, tensor<?xi64>
}

// -----

// Refinement flows through fusion regions: body arguments take the inputs'
// types and the fusion's results the yielded ones.
// CHECK-LABEL: func.func @through_fusion
// CHECK: vt.fusion(%{{.*}}){{.*}}: (tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: ^bb0(%{{.*}}: tensor<2x4xf32>):
// CHECK: vt.exp %{{.*}} : tensor<2x4xf32>
func.func @through_fusion(%x: tensor<2x4xf32>) -> tensor<?x4xf32> {
  %c = vt.cast %x : tensor<2x4xf32> -> tensor<?x4xf32>
  %f = vt.fusion(%c) : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%a: tensor<?x4xf32>):
    %e = vt.exp %a : tensor<?x4xf32>
    vt.yield %e : tensor<?x4xf32>
  }
  return %f : tensor<?x4xf32>
}

// -----

// ViT's class token, cls.expand(B, -1, -1), as exporters write it: Expand
// with shape Where(Equal(shape, -1), 1, shape), shape = Concat(Shape(x)[0],
// [-1, -1]). A dim is never -1 and the constants compare as they are, so
// the shape is [dim 0 of x, 1, 1]: the token is [?, 1, 64], and the concat
// with the patches [?, 197, 64].
// CHECK-LABEL: func.func @expand_class_token
// CHECK-SAME: -> tensor<?x197x64xf32>
// CHECK: vt.expand %{{.*}}, %{{.*}} : tensor<1x1x64xf32>, tensor<3xi64> -> tensor<?x1x64xf32>
// CHECK: vt.concat {{.*}} -> tensor<?x197x64xf32>
func.func @expand_class_token(%x: tensor<?x196x64xf32>) -> tensor<?x?x64xf32> {
  %cls = vt.constant dense<0.5> : tensor<1x1x64xf32>
  %s = vt.shape_of %x : tensor<?x196x64xf32> -> tensor<3xi64>
  %i0 = vt.constant dense<0> : tensor<1xi64>
  %n = vt.gather %s, %i0 {axis = 0} : tensor<3xi64>, tensor<1xi64> -> tensor<1xi64>
  %m1 = vt.constant dense<[-1, -1]> : tensor<2xi64>
  %shape = vt.concat %n, %m1 {axis = 0} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %neg = vt.constant dense<-1> : tensor<3xi64>
  %eq = vt.equal %shape, %neg : tensor<3xi64>, tensor<3xi64> -> tensor<3xi1>
  %one = vt.constant dense<1> : tensor<3xi64>
  %sel = vt.select %eq, %one, %shape : tensor<3xi1>, tensor<3xi64>, tensor<3xi64> -> tensor<3xi64>
  %e = vt.expand %cls, %sel : tensor<1x1x64xf32>, tensor<3xi64> -> tensor<?x?x?xf32>
  %c = vt.concat %e, %x {axis = 1} : (tensor<?x?x?xf32>, tensor<?x196x64xf32>) -> tensor<?x?x64xf32>
  return %c : tensor<?x?x64xf32>
}

// -----

// The same with scalar operands (broadcast to every entry), the -1 first.
// CHECK-LABEL: func.func @expand_scalar_operands
// CHECK-SAME: -> tensor<?x1x64xf32>
// CHECK: vt.expand {{.*}} -> tensor<?x1x64xf32>
func.func @expand_scalar_operands(%x: tensor<?x196x64xf32>) -> tensor<?x?x?xf32> {
  %cls = vt.constant dense<0.5> : tensor<1x1x64xf32>
  %s = vt.shape_of %x : tensor<?x196x64xf32> -> tensor<3xi64>
  %i0 = vt.constant dense<0> : tensor<1xi64>
  %n = vt.gather %s, %i0 {axis = 0} : tensor<3xi64>, tensor<1xi64> -> tensor<1xi64>
  %m1 = vt.constant dense<[-1, -1]> : tensor<2xi64>
  %shape = vt.concat %n, %m1 {axis = 0} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %neg = vt.constant dense<-1> : tensor<i64>
  %eq = vt.equal %neg, %shape : tensor<i64>, tensor<3xi64> -> tensor<3xi1>
  %one = vt.constant dense<1> : tensor<i64>
  %sel = vt.select %eq, %one, %shape : tensor<3xi1>, tensor<i64>, tensor<3xi64> -> tensor<3xi64>
  %e = vt.expand %cls, %sel : tensor<1x1x64xf32>, tensor<3xi64> -> tensor<?x?x?xf32>
  return %e : tensor<?x?x?xf32>
}
