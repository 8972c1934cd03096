// RUN: vitc-opt %s -split-input-file -vt-fuse | FileCheck %s

// MLP: the matmul stays an anchor; bias add + GELU (decomposed) after it form
// one elementwise region; the scalar constants are cloned into the region,
// the bias vector (more than 16 elements) is passed in.
// CHECK-LABEL: func.func @mlp_epilogue
//  CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x32xf32>, %[[B:.*]]: tensor<32xf32>)
//       CHECK:   %[[MM:.*]] = vt.matmul %[[X]], %[[W]]
//       CHECK:   %[[F:.*]] = vt.fusion(%[[MM]], %[[B]]) : (tensor<4x32xf32>, tensor<32xf32>) -> tensor<4x32xf32>
//       CHECK:   ^bb0(%[[A0:.*]]: tensor<4x32xf32>, %[[A1:.*]]: tensor<32xf32>):
//   CHECK-DAG:     vt.constant dense<5.000000e-01> : tensor<f32>
//   CHECK-DAG:     vt.constant dense<0.707106769> : tensor<f32>
//       CHECK:     %[[ADD:.*]] = vt.add %[[A0]], %[[A1]]
//       CHECK:     vt.erf
//       CHECK:     vt.mul %[[ADD]]
//       CHECK:     %[[OUT:.*]] = vt.mul
//       CHECK:     vt.yield %[[OUT]] : tensor<4x32xf32>
//       CHECK:   return %[[F]]
func.func @mlp_epilogue(%x: tensor<4x8xf32>, %w: tensor<8x32xf32>, %b: tensor<32xf32>) -> tensor<4x32xf32> {
  %half = vt.constant dense<0.5> : tensor<f32>
  %one = vt.constant dense<1.0> : tensor<f32>
  %rsqrt2 = vt.constant dense<0.707106769> : tensor<f32>
  %0 = vt.matmul %x, %w : tensor<4x8xf32>, tensor<8x32xf32> -> tensor<4x32xf32>
  %1 = vt.add %0, %b : tensor<4x32xf32>, tensor<32xf32> -> tensor<4x32xf32>
  %2 = vt.mul %1, %rsqrt2 : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %3 = vt.erf %2 : tensor<4x32xf32>
  %4 = vt.add %3, %one : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %5 = vt.mul %1, %half : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf32>
  %6 = vt.mul %5, %4 : tensor<4x32xf32>, tensor<4x32xf32> -> tensor<4x32xf32>
  return %6 : tensor<4x32xf32>
}

// -----

// A decomposed softmax is one reduction kernel.
// CHECK-LABEL: func.func @softmax
//  CHECK-NEXT:   %[[F:.*]] = vt.fusion(%{{.*}}) attributes {kind = "reduction"} : (tensor<2x8xf32>) -> tensor<2x8xf32>
//       CHECK:     vt.reduce_max
//       CHECK:     vt.sub
//       CHECK:     vt.exp
//       CHECK:     vt.reduce_sum
//       CHECK:     %[[D:.*]] = vt.div
//       CHECK:     vt.yield %[[D]]
//  CHECK-NEXT:   }
//  CHECK-NEXT:   return %[[F]]
func.func @softmax(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = vt.reduce_max %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %1 = vt.sub %x, %0 : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %2 = vt.exp %1 : tensor<2x8xf32>
  %3 = vt.reduce_sum %2 {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %4 = vt.div %2, %3 : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %4 : tensor<2x8xf32>
}

// -----

// A decomposed layer-norm with scale and bias is one reduction kernel; the
// matmul that consumes it stays outside.
// CHECK-LABEL: func.func @layer_norm
//       CHECK:   %[[F:.*]] = vt.fusion(%{{.*}}, %{{.*}}, %{{.*}}) attributes {kind = "reduction"}
//   CHECK-DAG:     vt.constant dense<9.99999974E-6> : tensor<f32>
//       CHECK:     vt.reduce_mean
//       CHECK:     vt.sub
//       CHECK:     vt.mul
//       CHECK:     vt.reduce_mean
//       CHECK:     vt.add
//       CHECK:     vt.rsqrt
//       CHECK:     vt.mul
//       CHECK:     vt.mul
//       CHECK:     vt.add
//       CHECK:     vt.yield
//       CHECK:   vt.matmul %[[F]]
//   CHECK-NOT:   vt.fusion
func.func @layer_norm(%x: tensor<4x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>, %w: tensor<64x64xf32>) -> tensor<4x64xf32> {
  %eps = vt.constant dense<1.0e-5> : tensor<f32>
  %0 = vt.reduce_mean %x {axes = array<i64: 1>} : tensor<4x64xf32> -> tensor<4x1xf32>
  %1 = vt.sub %x, %0 : tensor<4x64xf32>, tensor<4x1xf32> -> tensor<4x64xf32>
  %2 = vt.mul %1, %1 : tensor<4x64xf32>, tensor<4x64xf32> -> tensor<4x64xf32>
  %3 = vt.reduce_mean %2 {axes = array<i64: 1>} : tensor<4x64xf32> -> tensor<4x1xf32>
  %4 = vt.add %3, %eps : tensor<4x1xf32>, tensor<f32> -> tensor<4x1xf32>
  %5 = vt.rsqrt %4 : tensor<4x1xf32>
  %6 = vt.mul %1, %5 : tensor<4x64xf32>, tensor<4x1xf32> -> tensor<4x64xf32>
  %7 = vt.mul %6, %g : tensor<4x64xf32>, tensor<64xf32> -> tensor<4x64xf32>
  %8 = vt.add %7, %b : tensor<4x64xf32>, tensor<64xf32> -> tensor<4x64xf32>
  %9 = vt.matmul %8, %w : tensor<4x64xf32>, tensor<64x64xf32> -> tensor<4x64xf32>
  return %9 : tensor<4x64xf32>
}

// -----

// Residual block: bias add + residual add after the matmul are one kernel,
// and the following reduction joins it (add + norm); its result %r is also
// used after the second matmul, so it leaves the region as a second result.
// The second bias add cannot join the first region (that would pull the
// region's own consumer, the matmul, inside: a cycle) and starts a new one.
// CHECK-LABEL: func.func @residual
//  CHECK-SAME: (%[[X:[^:]*]]: tensor<4x16xf32>
//       CHECK:   %[[M1:.*]] = vt.matmul %[[X]]
//       CHECK:   %[[F1:.*]]:2 = vt.fusion(%[[M1]], %{{.*}}, %[[X]]) attributes {kind = "reduction"} : (tensor<4x16xf32>, tensor<16xf32>, tensor<4x16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>)
//       CHECK:   %[[M2:.*]] = vt.matmul %[[F1]]#1
//       CHECK:   %[[F2:.*]] = vt.fusion(%[[M2]], %{{.*}}, %[[F1]]#0)
//       CHECK:   return %[[F2]]
func.func @residual(%x: tensor<4x16xf32>, %w1: tensor<16x16xf32>, %b1: tensor<16xf32>, %w2: tensor<16x16xf32>, %b2: tensor<16xf32>) -> tensor<4x16xf32> {
  %0 = vt.matmul %x, %w1 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %1 = vt.add %0, %b1 : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %r = vt.add %1, %x : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  %m = vt.reduce_mean %r {axes = array<i64: 1>} : tensor<4x16xf32> -> tensor<4x1xf32>
  %c = vt.sub %r, %m : tensor<4x16xf32>, tensor<4x1xf32> -> tensor<4x16xf32>
  %2 = vt.matmul %c, %w2 : tensor<4x16xf32>, tensor<16x16xf32> -> tensor<4x16xf32>
  %3 = vt.add %2, %b2 : tensor<4x16xf32>, tensor<16xf32> -> tensor<4x16xf32>
  %4 = vt.add %3, %r : tensor<4x16xf32>, tensor<4x16xf32> -> tensor<4x16xf32>
  return %4 : tensor<4x16xf32>
}

// -----

// Diamond: one producer, two elementwise branches, one join: one region.
// CHECK-LABEL: func.func @diamond
//  CHECK-NEXT:   %[[F:.*]] = vt.fusion(%{{.*}}) : (tensor<8xf32>) -> tensor<8xf32>
//       CHECK:     vt.exp
//       CHECK:     vt.tanh
//       CHECK:     vt.sigmoid
//       CHECK:     vt.mul
//       CHECK:     vt.yield
//  CHECK-NEXT:   }
//  CHECK-NEXT:   return %[[F]]
func.func @diamond(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = vt.exp %x : tensor<8xf32>
  %1 = vt.tanh %0 : tensor<8xf32>
  %2 = vt.sigmoid %0 : tensor<8xf32>
  %3 = vt.mul %1, %2 : tensor<8xf32>, tensor<8xf32> -> tensor<8xf32>
  return %3 : tensor<8xf32>
}

// -----

// %0 feeds both the matmul and %2, which also uses the matmul result.
// Fusing %2 with %0 would need the matmul inside the region (a value that
// leaves the group and comes back): %0 and %2 stay separate single ops.
// CHECK-LABEL: func.func @would_cycle
//   CHECK-NOT:   vt.fusion
//       CHECK:   %[[E:.*]] = vt.exp
//       CHECK:   %[[M:.*]] = vt.matmul %[[E]]
//       CHECK:   vt.add %[[M]], %[[E]]
//   CHECK-NOT:   vt.fusion
func.func @would_cycle(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = vt.exp %x : tensor<4x4xf32>
  %1 = vt.matmul %0, %w : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %2 = vt.add %1, %0 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return %2 : tensor<4x4xf32>
}

// -----

// Same, with more elementwise ops: %0 -> %1 fuse; %3 consumes the matmul
// and %1 and cannot join them; it fuses with %4 instead. The op between the
// first group's members that depends on it moves after the region.
// CHECK-LABEL: func.func @cycle_split
//       CHECK:   %[[F1:.*]] = vt.fusion(%{{.*}})
//       CHECK:     vt.exp
//       CHECK:     vt.neg
//       CHECK:   %[[M:.*]] = vt.matmul %[[F1]]
//       CHECK:   %[[F2:.*]] = vt.fusion(%[[M]], %[[F1]])
//       CHECK:     vt.add
//       CHECK:     vt.relu
//       CHECK:   return %[[F2]]
func.func @cycle_split(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = vt.exp %x : tensor<4x4xf32>
  %1 = vt.neg %0 : tensor<4x4xf32>
  %2 = vt.matmul %1, %w : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %3 = vt.add %2, %1 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %4 = vt.relu %3 : tensor<4x4xf32>
  return %4 : tensor<4x4xf32>
}

// -----

// Reductions over different domains do not share a kernel: the row sum
// (axis 1) and the later column max over the result (a different input
// shape) are separate groups.
// CHECK-LABEL: func.func @two_domains
//       CHECK:   %[[F1:.*]] = vt.fusion(%{{.*}}) attributes {kind = "reduction"}
//       CHECK:     vt.exp
//       CHECK:     vt.reduce_sum
//       CHECK:   vt.fusion(%[[F1]]) attributes {kind = "reduction"}
//       CHECK:     vt.reduce_max
//       CHECK:     vt.neg
func.func @two_domains(%x: tensor<4x8xf32>) -> tensor<1x1xf32> {
  %0 = vt.exp %x : tensor<4x8xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %2 = vt.reduce_max %1 {axes = array<i64: 0>} : tensor<4x1xf32> -> tensor<1x1xf32>
  %3 = vt.neg %2 : tensor<1x1xf32>
  return %3 : tensor<1x1xf32>
}

// -----

// Movement ops fuse with their elementwise neighbours; the constant shape
// operand of the reshape is cloned in.
// CHECK-LABEL: func.func @movement
//  CHECK-NEXT:   %[[F:.*]] = vt.fusion(%{{.*}}) : (tensor<2x8xf32>) -> tensor<4x4xf32>
//       CHECK:     vt.constant dense<4> : tensor<2xi64>
//       CHECK:     vt.exp
//       CHECK:     vt.reshape
//       CHECK:     vt.transpose
//       CHECK:     vt.relu
func.func @movement(%x: tensor<2x8xf32>) -> tensor<4x4xf32> {
  %s = vt.constant dense<4> : tensor<2xi64>
  %0 = vt.exp %x : tensor<2x8xf32>
  %1 = vt.reshape %0, %s : tensor<2x8xf32>, tensor<2xi64> -> tensor<4x4xf32>
  %2 = vt.transpose %1 {perm = array<i64: 1, 0>} : tensor<4x4xf32> -> tensor<4x4xf32>
  %3 = vt.relu %2 : tensor<4x4xf32>
  return %3 : tensor<4x4xf32>
}

// -----

// The matmul sits between the group's members and uses the first one: it
// moves below the region, which replaces the last member.
// CHECK-LABEL: func.func @interleaved
//  CHECK-NEXT:   %[[F:.*]]:2 = vt.fusion(%{{.*}}) : (tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>)
//       CHECK:     %[[E:.*]] = vt.exp
//       CHECK:     %[[N:.*]] = vt.neg %[[E]]
//       CHECK:     vt.yield %[[E]], %[[N]]
//       CHECK:   %[[M:.*]] = vt.matmul %[[F]]#0
//       CHECK:   vt.add %[[M]], %[[F]]#1
func.func @interleaved(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = vt.exp %x : tensor<4x4xf32>
  %1 = vt.matmul %0, %w : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  %2 = vt.neg %0 : tensor<4x4xf32>
  %3 = vt.add %1, %2 : tensor<4x4xf32>, tensor<4x4xf32> -> tensor<4x4xf32>
  return %3 : tensor<4x4xf32>
}

// -----

// Dynamic batch: the shape arithmetic feeding the reshape (shape_of, gather,
// concat) stays outside the kernel; the reshape joins the elementwise ops.
// CHECK-LABEL: func.func @dynamic_reshape
//       CHECK:   vt.shape_of
//       CHECK:   vt.gather
//       CHECK:   %[[S:.*]] = vt.concat
//       CHECK:   vt.fusion(%{{.*}}, %[[S]]) : (tensor<?x8xf32>, tensor<3xi64>) -> tensor<?x2x4xf32>
//       CHECK:     vt.exp
//       CHECK:     vt.reshape
//       CHECK:     vt.relu
func.func @dynamic_reshape(%x: tensor<?x8xf32>) -> tensor<?x2x4xf32> {
  %i = vt.constant dense<0> : tensor<1xi64>
  %tail = vt.constant dense<[2, 4]> : tensor<2xi64>
  %s0 = vt.shape_of %x : tensor<?x8xf32> -> tensor<2xi64>
  %n = vt.gather %s0, %i {axis = 0 : i64} : tensor<2xi64>, tensor<1xi64> -> tensor<1xi64>
  %s = vt.concat %n, %tail {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %0 = vt.exp %x : tensor<?x8xf32>
  %1 = vt.reshape %0, %s : tensor<?x8xf32>, tensor<3xi64> -> tensor<?x2x4xf32>
  %2 = vt.relu %1 : tensor<?x2x4xf32>
  return %2 : tensor<?x2x4xf32>
}

// -----

// Two groups that would feed each other. Group A holds the row sum (%a1,
// %t1), group B the column max (%b1, %t2) and %u, which reads %t1 from A.
// %w sums %t2 (from B) over rows, the domain of A, and %z adds it to %t1:
// merging %w and %z into A is convex op by op (no path leaves {%a1, %t1,
// %w, %z} and comes back), but B reads A and A would read B, so the two
// fused ops would each need the other's result first. Groups count as one
// node in the convexity walk: %w and %z form a third kernel after both.
// CHECK-LABEL: func.func @crossing_groups
//       CHECK:   %[[A:.*]] = vt.fusion(%[[X:.*]]) attributes {kind = "reduction"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
//       CHECK:     vt.reduce_sum %{{.*}} {axes = array<i64: 1>}
//       CHECK:     vt.add
//  CHECK-NEXT:     vt.yield
//       CHECK:   %[[B:.*]]:2 = vt.fusion(%[[X]], %[[A]]) attributes {kind = "reduction"}
//       CHECK:     vt.reduce_max %{{.*}} {axes = array<i64: 0>}
//       CHECK:     vt.mul
//       CHECK:     vt.sub
//  CHECK-NEXT:     vt.yield
//       CHECK:   %[[C:.*]] = vt.fusion(%[[B]]#0, %[[A]]) attributes {kind = "reduction"}
//       CHECK:     vt.reduce_sum %{{.*}} {axes = array<i64: 1>}
//       CHECK:     vt.add
//  CHECK-NEXT:     vt.yield
//       CHECK:   return %[[B]]#1, %[[C]]
func.func @crossing_groups(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %a1 = vt.reduce_sum %x {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %b1 = vt.reduce_max %x {axes = array<i64: 0>} : tensor<4x8xf32> -> tensor<1x8xf32>
  %t1 = vt.add %x, %a1 : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  %t2 = vt.mul %x, %b1 : tensor<4x8xf32>, tensor<1x8xf32> -> tensor<4x8xf32>
  %u = vt.sub %t1, %t2 : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %w = vt.reduce_sum %t2 {axes = array<i64: 1>} : tensor<4x8xf32> -> tensor<4x1xf32>
  %z = vt.add %t1, %w : tensor<4x8xf32>, tensor<4x1xf32> -> tensor<4x8xf32>
  return %u, %z : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// A scalar computed once for many tensors (AdamW's bias correction from the
// step) is a group of its own: scalar ops fuse with each other, and each
// update fuses with its own producers, never with the scalar group, which
// would chain every parameter's update into one growing group.
// CHECK-LABEL: func.func @shared_scalar
//       CHECK:   %[[S:.*]] = vt.fusion(%{{.*}}, %{{.*}}) : (tensor<f32>, tensor<f32>) -> tensor<f32>
//       CHECK:     vt.pow
//       CHECK:     vt.sub
//       CHECK:   vt.fusion(%{{.*}}, %[[S]]) : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
//       CHECK:     vt.mul
//       CHECK:     vt.div
//       CHECK:   vt.fusion(%{{.*}}, %[[S]]) : (tensor<16xf32>, tensor<f32>) -> tensor<16xf32>
//       CHECK:     vt.mul
//       CHECK:     vt.div
func.func @shared_scalar(%step: tensor<f32>, %beta: tensor<f32>, %a: tensor<4x8xf32>, %b: tensor<16xf32>) -> (tensor<4x8xf32>, tensor<16xf32>) {
  %one = vt.constant dense<1.0> : tensor<f32>
  %p = vt.pow %beta, %step : tensor<f32>, tensor<f32> -> tensor<f32>
  %c = vt.sub %one, %p : tensor<f32>, tensor<f32> -> tensor<f32>
  %a2 = vt.mul %a, %a : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>
  %ua = vt.div %a2, %c : tensor<4x8xf32>, tensor<f32> -> tensor<4x8xf32>
  %b2 = vt.mul %b, %b : tensor<16xf32>, tensor<16xf32> -> tensor<16xf32>
  %ub = vt.div %b2, %c : tensor<16xf32>, tensor<f32> -> tensor<16xf32>
  return %ua, %ub : tensor<4x8xf32>, tensor<16xf32>
}
