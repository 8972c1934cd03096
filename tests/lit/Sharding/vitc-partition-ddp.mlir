// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-partition-ddp="functions=train_step,eval_step" | FileCheck %s

// Gradients, the updated running statistics and the loss are averaged over
// the data-parallel grid, the hit count summed; the logits and the params
// are left alone. The grid's size is the world's (dynamic). Each reduction
// comes right where its value is computed (a gradient's then overlaps the
// rest of the backward pass).
// CHECK:       shard.grid @dp(shape = ?)
// CHECK-LABEL: func.func @train_step(
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
