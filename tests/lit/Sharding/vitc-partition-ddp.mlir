// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-partition-ddp="functions=train_step,eval_step" | FileCheck %s
// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-partition-ddp="functions=train_step,eval_step bucket-mb=0.00009" | FileCheck %s --check-prefix=BUCKETS

// Gradients, the updated running statistics and the loss are averaged over
// the data-parallel grid, the hit count summed; the logits and the params
// are left alone. The grid's size is the world's (dynamic). Each reduction
// comes right where its value is computed (a gradient's then overlaps the
// rest of the backward pass).
// CHECK:       shard.grid @dp(shape = ?)
// CHECK-LABEL: func.func @train_step(
// BUCKETS-LABEL: func.func @train_step(
//   CHECK-DAG:   %[[LOSS:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] reduction = average : tensor<f32> -> tensor<f32>
//   CHECK-DAG:   %[[HITS:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<i64> -> tensor<i64>
//   CHECK-DAG:   %[[COUNT:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] reduction = max : tensor<i64> -> tensor<i64>
//       CHECK:   %[[M:.*]] = vt.add
//  CHECK-NEXT:   %[[MEAN:.*]] = shard.all_reduce %[[M]] on @dp grid_axes = [0] reduction = average : tensor<3xf32> -> tensor<3xf32>
//       CHECK:   %[[G:.*]] = vt.mul
//  CHECK-NEXT:   %[[GW:.*]] = shard.all_reduce %[[G]] on @dp grid_axes = [0] reduction = average : tensor<4x3xf32> -> tensor<4x3xf32>
//   CHECK-NOT:   shard.all_reduce
//       CHECK:   return %[[LOSS]], %[[HITS]], %[[MEAN]], %{{.*}}, %[[GW]], %[[COUNT]] :
// CHECK-LABEL: func.func @eval_step(
//   CHECK-DAG:   %[[ELOSS:.*]] = shard.all_reduce %{{.*}} reduction = average : tensor<f32>
//   CHECK-DAG:   %[[EHITS:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<i64>
//       CHECK:   return %[[ELOSS]], %[[EHITS]] :
// CHECK-LABEL: func.func @helper(
//   CHECK-NOT:   shard.all_reduce
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
                      %rm: tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer"},
                      %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
                      %loss: tensor<f32>, %hits: tensor<i64>, %n: tensor<i64>)
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"},
        tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer", vt.updates = "bn.running_mean"},
        tensor<?x4xf32> {vt.name = "logits"},
        tensor<4x3xf32> {vt.name = "grad_w"},
        tensor<i64> {vt.name = "bn.num_batches_tracked", vt.role = "buffer", vt.updates = "bn.num_batches_tracked"}) {
  %m = vt.add %rm, %rm : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %g = vt.mul %w, %w : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %loss, %hits, %m, %x, %g, %n : tensor<f32>, tensor<i64>, tensor<3xf32>, tensor<?x4xf32>, tensor<4x3xf32>, tensor<i64>
}
func.func @eval_step(%loss: tensor<f32>, %hits: tensor<i64>)
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"}) {
  return %loss, %hits : tensor<f32>, tensor<i64>
}
func.func @helper(%g: tensor<2xf32>) -> (tensor<2xf32> {vt.name = "grad_x"}) {
  return %g : tensor<2xf32>
}

// -----

// Gradients are bucketed in the order they are computed: consecutive
// gradients of one element type, flattened and concatenated, share one
// all-reduce right after the last of them, and are sliced back. Buckets
// close once they hold bucket-mb (default 25: all three here; 0.00009 MB =
// 94 bytes: the first two, 2 x 48 bytes, then the third alone), and at a change of
// element type.
// CHECK-LABEL: func.func @train_step(
//       CHECK:   %[[G1:.*]] = vt.mul %arg1
//       CHECK:   %[[G2:.*]] = vt.mul %arg0
//       CHECK:   %[[G3:.*]] = vt.add %arg2
//       CHECK:   %[[F1:.*]] = tensor.collapse_shape %[[G1]]
//       CHECK:   %[[F2:.*]] = tensor.collapse_shape %[[G2]]
//       CHECK:   %[[F3:.*]] = tensor.collapse_shape %[[G3]]
//       CHECK:   %[[ALL:.*]] = tensor.concat dim(0) %[[F1]], %[[F2]], %[[F3]] : (tensor<12xf32>, tensor<12xf32>, tensor<12xf32>) -> tensor<36xf32>
//       CHECK:   %[[R:.*]] = shard.all_reduce %[[ALL]] on @dp grid_axes = [0] reduction = average : tensor<36xf32>
//       CHECK:   %[[S1:.*]] = tensor.extract_slice %[[R]][0] [12] [1]
//       CHECK:   %[[S2:.*]] = tensor.extract_slice %[[R]][12] [12] [1]
//       CHECK:   %[[S3:.*]] = tensor.extract_slice %[[R]][24] [12] [1]
//       CHECK:   %[[H:.*]] = vt.add %{{.*}}, %{{.*}} : tensor<4x3xf16>
//       CHECK:   shard.all_reduce %[[H]] on @dp grid_axes = [0] reduction = average : tensor<4x3xf16>
// BUCKETS-LABEL: func.func @train_step(
//       BUCKETS:   vt.mul %arg0
//       BUCKETS:   %[[B1:.*]] = tensor.concat dim(0) {{.*}} -> tensor<24xf32>
//  BUCKETS-NEXT:   shard.all_reduce %[[B1]] {{.*}} : tensor<24xf32>
//       BUCKETS:   %[[G3:.*]] = vt.add %arg2
//  BUCKETS-NEXT:   shard.all_reduce %[[G3]] {{.*}} : tensor<4x3xf32>
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
                      %v: tensor<4x3xf32> {vt.name = "v", vt.role = "param"},
                      %u: tensor<4x3xf32> {vt.name = "u", vt.role = "param"})
    -> (tensor<4x3xf32> {vt.name = "grad_w"}, tensor<4x3xf32> {vt.name = "grad_v"},
        tensor<4x3xf32> {vt.name = "grad_u"}, tensor<4x3xf16> {vt.name = "grad_h"}) {
  %gv = vt.mul %v, %v : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %gw = vt.mul %w, %w : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %gu = vt.add %u, %u : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %h = vt.cast %gu : tensor<4x3xf32> -> tensor<4x3xf16>
  %gh = vt.add %h, %h : tensor<4x3xf16>, tensor<4x3xf16> -> tensor<4x3xf16>
  return %gw, %gv, %gu, %gh : tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf16>
}
func.func @eval_step() {
  return
}

// -----

// expected-error @below {{vitc-partition-ddp: no function @train_step}}
module {
  func.func @eval_step(%loss: tensor<f32>) -> (tensor<f32> {vt.name = "loss"}) {
    return %loss : tensor<f32>
  }
}

// -----

module {
  // expected-error @below {{vitc-partition-ddp: @dp must be a one-dimensional shard.grid}}
  shard.grid @dp(shape = 2x2)
  func.func @train_step(%loss: tensor<f32>) -> (tensor<f32> {vt.name = "loss"}) {
    return %loss : tensor<f32>
  }
  func.func @eval_step(%loss: tensor<f32>) -> (tensor<f32> {vt.name = "loss"}) {
    return %loss : tensor<f32>
  }
}
