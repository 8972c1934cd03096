// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-partition-fsdp="functions=train_step,eval_step" | FileCheck %s
// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-partition-fsdp="functions=train_step,eval_step reduce-dtype=bf16" | FileCheck %s --check-prefix=BF16

// Params become flat shards (tensor<?xf32> with their whole shape). Each is
// all-gathered for its first use and again for its first backward use
// (after the loss): the forward copy is not used after the loss. The params
// of a unit (a layer: fc.weight and fc.bias) are gathered together, before
// the first use of either; the next unit's while the current one computes.
// Each gradient, right where it is computed, is flattened, zero-padded to
// size x ceil(numel / size) and reduce-scattered (averaged); the loss is
// averaged and the hit count summed, as under DDP.
// CHECK:       shard.grid @dp(shape = ?)
// CHECK-LABEL: func.func @train_step(
//  CHECK-SAME:     %[[W:[a-z0-9]+]]: tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "fc.weight", vt.role = "param"}
//  CHECK-SAME:     %[[B:[a-z0-9]+]]: tensor<?xf32> {vt.full_shape = array<i64: 3>, vt.name = "fc.bias", vt.role = "param"}
//  CHECK-SAME:     -> (tensor<f32> {{.*}}, tensor<i64> {{.*}}, tensor<?xf32> {vt.full_shape = array<i64: 4, 3>, vt.name = "grad_fc.weight"}, tensor<?xf32> {vt.full_shape = array<i64: 3>, vt.name = "grad_fc.bias"})
//       CHECK:   %[[H:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<i64>
//       CHECK:   %[[N:.*]] = shard.grid_shape @dp axes = [0] : index
//       CHECK:   %[[GB:.*]] = shard.all_gather %[[B]]
//  CHECK-NEXT:   %[[GW:.*]] = shard.all_gather %[[W]] on @dp grid_axes = [0] gather_axis = 0 : tensor<?xf32> -> tensor<?xf32>
//       CHECK:   %[[SW:.*]] = tensor.extract_slice %[[GW]][0] [12] [1] : tensor<?xf32> to tensor<12xf32>
//       CHECK:   %[[FW:.*]] = tensor.expand_shape %[[SW]] {{\[\[}}0, 1]] output_shape [4, 3] : tensor<12xf32> into tensor<4x3xf32>
//  CHECK-NEXT:   vt.matmul %{{.*}}, %[[FW]]
//       CHECK:   %[[FB:.*]] = tensor.extract_slice %[[GB]][0] [3] [1]
//       CHECK:   vt.add %{{.*}}, %[[FB]]
//       CHECK:   %[[LOSS:.*]] = vt.reduce_sum
//  CHECK-NEXT:   %[[L:.*]] = shard.all_reduce %[[LOSS]] on @dp grid_axes = [0] reduction = average
//   CHECK-NOT:   %[[FW]]
//       CHECK:   shard.all_gather %[[B]] {{.*}}{vitc.regather}
//       CHECK:   %[[GW2:.*]] = shard.all_gather %[[W]] {{.*}}{vitc.regather}
//       CHECK:   %[[SW2:.*]] = tensor.extract_slice %[[GW2]][0] [12] [1]
//       CHECK:   %[[FW2:.*]] = tensor.expand_shape %[[SW2]]
//       CHECK:   %[[DW:.*]] = vt.mul %[[FW2]], %[[FW2]]
//   CHECK-NOT:   %[[FB]]
//       CHECK:   %[[C12:.*]] = arith.constant 12 : index
//       CHECK:   %[[BLOCK:.*]] = arith.ceildivui %[[C12]], %[[N]] : index
//       CHECK:   %[[LEN:.*]] = arith.muli %[[BLOCK]], %[[N]] : index
//       CHECK:   %[[HIGH:.*]] = arith.subi %[[LEN]], %[[C12]] : index
//       CHECK:   %[[FLAT:.*]] = tensor.collapse_shape %[[DW]] {{\[\[}}0, 1]] : tensor<4x3xf32> into tensor<12xf32>
//       CHECK:   %[[PAD:.*]] = tensor.pad %[[FLAT]] low[0] high[%[[HIGH]]]
//       CHECK:   } : tensor<12xf32> to tensor<?xf32>
//       CHECK:   %[[RW:.*]] = shard.reduce_scatter %[[PAD]] on @dp grid_axes = [0] reduction = average scatter_axis = 0 : tensor<?xf32> -> tensor<?xf32>
//       CHECK:   %[[RB:.*]] = shard.reduce_scatter %{{.*}} reduction = average
//       CHECK:   return %[[L]], %[[H]], %[[RW]], %[[RB]]
// The evaluation step has no backward pass: one gather per param.
// CHECK-LABEL: func.func @eval_step(
//  CHECK-SAME:     tensor<?xf32> {vt.full_shape = array<i64: 4, 3>
//       CHECK:   shard.all_gather
//   CHECK-NOT:   shard.all_gather
//       CHECK:   return
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"},
                      %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
                      %hits: tensor<i64>)
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"},
        tensor<4x3xf32> {vt.name = "grad_fc.weight"},
        tensor<3xf32> {vt.name = "grad_fc.bias"}) {
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %z = vt.add %y, %b : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  %loss = vt.reduce_sum %z {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
  %gw = vt.mul %w, %w : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %gb = vt.add %b, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %loss, %hits, %gw, %gb : tensor<f32>, tensor<i64>, tensor<4x3xf32>, tensor<3xf32>
}
func.func @eval_step(%w: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
                     %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}) {
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %loss = vt.reduce_sum %y {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// What the forward pass derives from a param alone (a transpose) and the
// backward pass reads is recomputed from the second gather (marked so that
// CSE keeps the two apart): the forward's transpose is not read after the
// loss.
// CHECK-LABEL: func.func @train_step(
//       CHECK:   %[[G1:.*]] = shard.all_gather %{{.*}} on @dp grid_axes = [0] gather_axis = 0 : tensor<?xf32> -> tensor<?xf32>
//       CHECK:   %[[T1:.*]] = vt.transpose
//       CHECK:   vt.matmul %{{.*}}, %[[T1]]
//       CHECK:   vt.reduce_sum
//   CHECK-NOT:   %[[T1]]
//       CHECK:   shard.all_gather %{{.*}} on @dp grid_axes = [0] gather_axis = 0 {vitc.regather}
//       CHECK:   %[[T2:.*]] = vt.transpose
//       CHECK:   vt.mul %[[T2]], %[[T2]]
func.func @train_step(%w: tensor<3x4xf32> {vt.name = "fc.weight", vt.role = "param"},
                      %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<4x3xf32> {vt.name = "grad_fc.weight"}) {
  %t = vt.transpose %w {perm = array<i64: 1, 0>} : tensor<3x4xf32> -> tensor<4x3xf32>
  %y = vt.matmul %x, %t : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %loss = vt.reduce_sum %y {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
  %g = vt.mul %t, %t : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  return %loss, %g : tensor<f32>, tensor<4x3xf32>
}
func.func @eval_step() {
  return
}

// -----

// Mixed precision: a param read only through casts to bf16 is gathered in
// bf16 from its f32 shard cast on each rank; one also read in f32 is
// gathered in f32. With reduce-dtype=bf16 the gradients are reduce-scattered
// in bf16 and cast back to f32.
// CHECK-LABEL: func.func @train_step(
//       CHECK:   %[[C:.*]] = vt.cast %[[W:.*]] : tensor<?xf32> -> tensor<?xbf16>
//       CHECK:   %[[G:.*]] = shard.all_gather %[[C]] {{.*}} : tensor<?xbf16> -> tensor<?xbf16>
//       CHECK:   %[[S:.*]] = tensor.extract_slice %[[G]][0] [12] [1] : tensor<?xbf16> to tensor<12xbf16>
//       CHECK:   %[[E:.*]] = tensor.expand_shape %[[S]] {{.*}} : tensor<12xbf16> into tensor<4x3xbf16>
//       CHECK:   vt.matmul %{{.*}}, %[[E]]
//       CHECK:   shard.all_gather %{{.*}} : tensor<?xf32> -> tensor<?xf32>
//       CHECK:   shard.reduce_scatter %{{.*}} : tensor<?xf32> -> tensor<?xf32>
// BF16-LABEL: func.func @train_step(
// BF16-LABEL: func.func @train_step(
// BF16-LABEL: func.func @train_step(
//       BF16:   %[[N:.*]] = vt.cast %{{padded.*}} : tensor<?xf32> -> tensor<?xbf16>
//  BF16-NEXT:   %[[R:.*]] = shard.reduce_scatter %[[N]] {{.*}} : tensor<?xbf16> -> tensor<?xbf16>
//  BF16-NEXT:   vt.cast %[[R]] : tensor<?xbf16> -> tensor<?xf32>
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"},
                      %x: tensor<?x4xbf16> {vt.name = "input", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<3xf32> {vt.name = "grad_fc.bias"}) {
  %wb = vt.cast %w : tensor<4x3xf32> -> tensor<4x3xbf16>
  %y = vt.matmul %x, %wb : tensor<?x4xbf16>, tensor<4x3xbf16> -> tensor<?x3xbf16>
  %bb = vt.cast %b : tensor<3xf32> -> tensor<3xbf16>
  %z = vt.add %y, %bb : tensor<?x3xbf16>, tensor<3xbf16> -> tensor<?x3xbf16>
  %zf = vt.cast %z : tensor<?x3xbf16> -> tensor<?x3xf32>
  %loss = vt.reduce_sum %zf {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
  %gb = vt.add %b, %b : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %loss, %gb : tensor<f32>, tensor<3xf32>
}
func.func @eval_step() {
  return
}

// -----

// Prefetch: the next unit's gather (fc2) is issued right before the current
// unit (fc1) is first used, so it runs while fc1 computes.
// CHECK-LABEL: func.func @train_step(
//       CHECK:   %[[G1:.*]] = shard.all_gather %arg0
//       CHECK:   %[[S1:.*]] = tensor.extract_slice %[[G1]]
//       CHECK:   %[[F1:.*]] = tensor.expand_shape %[[S1]]
//  CHECK-NEXT:   %[[G2:.*]] = shard.all_gather %arg1
//  CHECK-NEXT:   vt.matmul %{{.*}}, %[[F1]]
//       CHECK:   tensor.extract_slice %[[G2]]
func.func @train_step(%w1: tensor<4x4xf32> {vt.name = "fc1.weight", vt.role = "param"},
                      %w2: tensor<4x3xf32> {vt.name = "fc2.weight", vt.role = "param"},
                      %x: tensor<?x4xf32> {vt.name = "input", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}) {
  %h = vt.matmul %x, %w1 : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32>
  %a = vt.relu %h : tensor<?x4xf32>
  %y = vt.matmul %a, %w2 : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %loss = vt.reduce_sum %y {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
  return %loss : tensor<f32>
}
func.func @eval_step() {
  return
}

// -----

// A param must have a static shape: its shards' layout is fixed at compile
// time.
// expected-error @+1 {{vitc-partition-fsdp: param #0 of @train_step needs a name and a static shape, got 'tensor<?x3xf32>'}}
func.func @train_step(%w: tensor<?x3xf32> {vt.name = "w", vt.role = "param"}) -> tensor<?x3xf32> {
  return %w : tensor<?x3xf32>
}
func.func @eval_step() {
  return
}
