// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer | FileCheck %s

// FSDP (vitc-partition-fsdp): a gradient that is this rank's block of a
// reduce-scattered one adds a partial sum of squares, which is all-reduced
// (summed) before the norm; a replicated gradient adds its whole sum. The
// optimizer state of a sharded param is sharded alike: it takes the param's
// flat shard type and whole shape, as do the updated param and state.
// CHECK-LABEL: func.func @train_step(
//  CHECK-SAME:     tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "adamw_m.w", vt.role = "opt_state"}
//  CHECK-SAME:     tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "adamw_v.w", vt.role = "opt_state"}
//  CHECK-SAME:     tensor<3xf32> {vt.name = "adamw_m.b", vt.role = "opt_state"}
//  CHECK-SAME:     -> ({{.*}}tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "w", vt.role = "param", vt.updates = "w"}
//  CHECK-SAME:     tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "adamw_m.w", vt.role = "opt_state", vt.updates = "adamw_m.w"}
//       CHECK:   %[[GW:.*]] = shard.reduce_scatter
//       CHECK:   %[[SW:.*]] = vt.reduce_sum
//       CHECK:   %[[SB:.*]] = vt.reduce_sum
//       CHECK:   %[[TOTAL:.*]] = shard.all_reduce %[[SW]] on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
//       CHECK:   %[[SQ:.*]] = vt.add %[[SB]], %[[TOTAL]]
//       CHECK:   vt.sqrt %[[SQ]]
//       CHECK:   return
shard.grid @dp(shape = ?)
func.func @train_step(%w: tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "w", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "b", vt.role = "param"},
                      %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
                      %y: tensor<?xi64> {vt.name = "label", vt.role = "label"},
                      %loss: tensor<f32>, %hits: tensor<i64>, %gfull: tensor<?xf32>, %gb: tensor<3xf32>)
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"},
        tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "grad_w"},
        tensor<3xf32> {vt.name = "grad_b"}) {
  %gw = shard.reduce_scatter %gfull on @dp grid_axes = [0] reduction = average scatter_axis = 0 : tensor<?xf32> -> tensor<?xf32>
  return %loss, %hits, %gw, %gb : tensor<f32>, tensor<i64>, tensor<?xf32>, tensor<3xf32>
}
