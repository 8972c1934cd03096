// The training pipeline with shard=ddp: the gradients are averaged over the
// data-parallel grid between vt-autodiff and vt-apply-optimizer, so the
// gradient norm (and clipping) and AdamW read the global gradients. With
// shard=fsdp each rank gets its block of each averaged gradient, the norm's
// partial sums are summed over the ranks, and AdamW updates the shards.
// RUN: rm -rf %t && mkdir -p %t
// RUN: vitc %s --mode train --emit=vt -o %t/steps.mlir
// RUN: vitc-opt %t/steps.mlir --vitc-training="shard=ddp clip-norm=1.0" | FileCheck %s
// RUN: vitc-opt %t/steps.mlir --vitc-training | FileCheck %s --check-prefix=NONE
// RUN: vitc-opt %t/steps.mlir --vitc-training="shard=fsdp clip-norm=1.0" | FileCheck %s --check-prefix=FSDP
// RUN: not vitc-opt %t/steps.mlir --vitc-training="shard=tp" 2>&1 | FileCheck %s --check-prefix=BAD

// CHECK:       shard.grid @dp(shape = ?)
// CHECK-LABEL: func.func @train_step(
// The loss and the hits, then the 4 gradients (43 values) in one bucket,
// all before the gradient norm.
//     CHECK-DAG: shard.all_reduce %{{.*}} reduction = average : tensor<f32>
//     CHECK-DAG: shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<i64>
//     CHECK:     %[[BUCKET:.*]] = tensor.concat dim(0)
//     CHECK:     shard.all_reduce %[[BUCKET]] on @dp grid_axes = [0] reduction = average : tensor<43xf32>
//     CHECK-NOT: shard.all_reduce
//     CHECK:     vt.sqrt %{{.*}} : tensor<f32>
//     CHECK:     return
// CHECK-LABEL: func.func @eval_step(
// CHECK-COUNT-2: shard.all_reduce
//     CHECK-NOT: shard.all_reduce

// NONE-NOT: shard.

// FSDP:       shard.grid @dp(shape = ?)
// FSDP-LABEL: func.func @train_step(
// FSDP-SAME:      tensor<?xf32> {vt.full_shape = array<i64: 4, 5>, vt.name = "fc1.weight", vt.role = "param"}
// FSDP-COUNT-4: shard.all_gather
// FSDP-COUNT-4: shard.reduce_scatter %{{.*}} reduction = average
// FSDP:         %[[PART:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// FSDP:         vt.sqrt %[[PART]] : tensor<f32>
// FSDP-LABEL: func.func @eval_step(

// BAD: for the --shard option: Cannot find option named 'tp'

func.func @main(%x: tensor<?x4xf32> {vt.name = "input"}) -> (tensor<?x3xf32> {vt.name = "logits"}) {
  %w1 = vt.constant {name = "fc1.weight"} dense<0.5> : tensor<4x5xf32>
  %b1 = vt.constant {name = "fc1.bias"} dense<0.1> : tensor<5xf32>
  %w2 = vt.constant {name = "fc2.weight"} dense<-0.25> : tensor<5x3xf32>
  %b2 = vt.constant {name = "fc2.bias"} dense<0.0> : tensor<3xf32>
  %h = vt.matmul %x, %w1 : tensor<?x4xf32>, tensor<4x5xf32> -> tensor<?x5xf32>
  %hb = vt.add %h, %b1 : tensor<?x5xf32>, tensor<5xf32> -> tensor<?x5xf32>
  %a = vt.relu %hb : tensor<?x5xf32>
  %o = vt.matmul %a, %w2 : tensor<?x5xf32>, tensor<5x3xf32> -> tensor<?x3xf32>
  %ob = vt.add %o, %b2 : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  return %ob : tensor<?x3xf32>
}
