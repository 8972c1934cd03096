// RUN: vitc-opt %s -split-input-file -vt-autodiff | FileCheck %s

// conv2d 3x3 s2 p1: d input is a stride-1 conv of the result gradient,
// spread by the stride (reshape, pad the new dim, reshape) and padded by
// k - 1 - pad, with the filter's channels swapped and taps flipped; d filter
// is a conv of the padded input with the gradient as filter, the batch as
// its channel dim, stride and dilation exchanged; d bias sums N, H, W.
// CHECK-LABEL: func.func @conv_grad(
// CHECK:         %[[G:.*]] = vt.expand %{{.*}}, %{{.*}} : tensor<1x1x1x1xf32>, tensor<4xi64> -> tensor<1x4x4x4xf32>
// CHECK:         %[[WT:.*]] = vt.transpose %[[W:.*]] {perm = array<i64: 1, 0, 2, 3>} : tensor<4x3x3x3xf32> -> tensor<3x4x3x3xf32>
// CHECK:         %[[FLIP:.*]] = vt.slice %[[WT]] {ends = array<i64: 9223372036854775807, 9223372036854775807, -4, -4>, starts = array<i64: 0, 0, 2, 2>, steps = array<i64: 1, 1, -1, -1>}
// CHECK:         %[[SPLIT:.*]] = vt.reshape %[[G]], %{{.*}} -> tensor<1x4x4x1x4x1xf32>
// CHECK:         %[[ZEROS:.*]] = vt.pad %[[SPLIT]] {pads = array<i64: 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1>} : tensor<1x4x4x1x4x1xf32> -> tensor<1x4x4x2x4x2xf32>
// CHECK:         %[[SPREAD:.*]] = vt.reshape %[[ZEROS]], %{{.*}} -> tensor<1x4x8x8xf32>
// CHECK:         %[[GP:.*]] = vt.pad %[[SPREAD]] {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
// CHECK:         %[[DX:.*]] = vt.conv2d %[[GP]], %[[FLIP]] {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x4x10x10xf32>, tensor<3x4x3x3xf32> -> tensor<1x3x8x8xf32>
// CHECK:         %[[XT:.*]] = vt.transpose %[[X:.*]] {perm = array<i64: 1, 0, 2, 3>} : tensor<1x3x8x8xf32> -> tensor<3x1x8x8xf32>
// CHECK:         %[[GT:.*]] = vt.transpose %[[G]] {perm = array<i64: 1, 0, 2, 3>} : tensor<1x4x4x4xf32> -> tensor<4x1x4x4xf32>
// CHECK:         %[[XP:.*]] = vt.pad %[[XT]] {pads = array<i64: 0, 0, 1, 1, 0, 0, 0, 0>} : tensor<3x1x8x8xf32> -> tensor<3x1x9x9xf32>
// CHECK:         %[[DWT:.*]] = vt.conv2d %[[XP]], %[[GT]] {dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<3x1x9x9xf32>, tensor<4x1x4x4xf32> -> tensor<3x4x3x3xf32>
// CHECK:         %[[DW:.*]] = vt.transpose %[[DWT]] {perm = array<i64: 1, 0, 2, 3>} : tensor<3x4x3x3xf32> -> tensor<4x3x3x3xf32>
// CHECK:         %[[DB:.*]] = vt.reduce_sum %[[G]] {axes = array<i64: 0, 2, 3>, keepdims = false} : tensor<1x4x4x4xf32> -> tensor<4xf32>
// CHECK:         return %{{.*}}, %[[DX]], %[[DW]], %[[DB]]
func.func @conv(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<f32> {
  %0 = vt.conv2d %x, %w bias %b : tensor<4xf32> {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x4x4xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x4x4x4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// conv2d 3x3 s2 p0 on an odd size (Inception v3's reductions): the spread's
// last zero row and column are cropped and padded back, so that the d input
// conv's pads come out equal (2 on each side, not 2 and 1): cuDNN takes one
// pad per dim, and oneDNN's winograd backward-data kernel, which the CPU
// runtime picks for such full convolutions, got unequal pads wrong.
// CHECK-LABEL: func.func @conv_s2_odd_grad(
// CHECK:         %[[SPREAD:.*]] = vt.reshape %{{.*}}, %{{.*}} : tensor<1x3x4x2x4x2xf32>, tensor<4xi64> -> tensor<1x3x8x8xf32>
// CHECK:         %[[TRIM:.*]] = vt.slice %[[SPREAD]] {ends = array<i64: 9223372036854775807, 9223372036854775807, 7, 7>, starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x3x8x8xf32> -> tensor<1x3x7x7xf32>
// CHECK:         %[[GP:.*]] = vt.pad %[[TRIM]] {pads = array<i64: 0, 0, 2, 2, 0, 0, 2, 2>} : tensor<1x3x7x7xf32> -> tensor<1x3x11x11xf32>
// CHECK:         %[[DX:.*]] = vt.conv2d %[[GP]], %{{.*}} {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x3x11x11xf32>, tensor<2x3x3x3xf32> -> tensor<1x2x9x9xf32>
// CHECK:         return %{{.*}}, %[[DX]], %{{.*}}
func.func @conv_s2_odd(%x: tensor<1x2x9x9xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<f32> {
  %0 = vt.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x9x9xf32>, tensor<3x2x3x3xf32> -> tensor<1x3x4x4xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x3x4x4xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// Unequal forward pads at stride 1 (no spread zeros to trade): the d input
// conv is padded by the larger side on both (2, where H needs 2 above and 1
// below, W 1 left and 2 right), and the extra row and column of its result
// are cropped.
// CHECK-LABEL: func.func @conv_asym_grad(
// CHECK:         %[[GP:.*]] = vt.pad %[[G:.*]] {pads = array<i64: 0, 0, 2, 2, 0, 0, 2, 2>} : tensor<1x3x7x7xf32> -> tensor<1x3x11x11xf32>
// CHECK:         %[[WIDE:.*]] = vt.conv2d %[[GP]], %{{.*}} {{.*}} : tensor<1x3x11x11xf32>, tensor<2x3x3x3xf32> -> tensor<1x2x9x9xf32>
// CHECK:         %[[DX:.*]] = vt.slice %[[WIDE]] {ends = array<i64: 9223372036854775807, 9223372036854775807, 8, 9>, starts = array<i64: 0, 0, 0, 1>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x9x9xf32> -> tensor<1x2x8x8xf32>
// CHECK:         return %{{.*}}, %[[DX]], %{{.*}}
func.func @conv_asym(%x: tensor<1x2x8x8xf32>, %w: tensor<3x2x3x3xf32>) -> tensor<f32> {
  %0 = vt.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 1, 1, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x8x8xf32>, tensor<3x2x3x3xf32> -> tensor<1x3x7x7xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x3x7x7xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// avg_pool2d: g / 4 spread by a transposed conv with a ones filter, the
// channels as batch. max_pool2d (a bottom pad, so not the non-overlapping
// form below): per tap, the strided slice of the input is compared with the
// result; taps already hit are masked out (ties go to the
// first tap), g is spread back to the tap's positions.
// CHECK-LABEL: func.func @pool_grad(
// CHECK:         %[[Y:.*]] = vt.max_pool2d
// CHECK:         %[[COUNT:.*]] = vt.constant dense<4.000000e+00> : tensor<f32>
// CHECK:         %[[GS:.*]] = vt.div %{{.*}}, %[[COUNT]]
// CHECK:         %[[GC:.*]] = vt.reshape %[[GS]], %{{.*}} : tensor<1x2x1x2xf32>, tensor<4xi64> -> tensor<2x1x1x2xf32>
// CHECK:         %[[ONES:.*]] = vt.constant dense<1.000000e+00> : tensor<1x1x2x2xf32>
// CHECK:         %[[DAC:.*]] = vt.conv2d %{{.*}}, %[[ONES]] {{.*}} -> tensor<2x1x2x4xf32>
// CHECK:         %[[DA:.*]] = vt.reshape %[[DAC]], %{{.*}} : tensor<2x1x2x4xf32>, tensor<4xi64> -> tensor<1x2x2x4xf32>
// CHECK:         %[[TAP0:.*]] = vt.slice %[[X:.*]] {ends = array<i64: 9223372036854775807, 9223372036854775807, 3, 4>, starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 2, 1>}
// CHECK:         %[[HIT0:.*]] = vt.equal %[[TAP0]], %[[Y]]
// CHECK:         %[[M0:.*]] = vt.cast %[[HIT0]] : tensor<1x2x2x4xi1> -> tensor<1x2x2x4xf32>
// CHECK:         %[[LEFT:.*]] = vt.sub %{{.*}}, %[[M0]] : tensor<f32>, tensor<1x2x2x4xf32> -> tensor<1x2x2x4xf32>
// CHECK:         vt.mul %[[DA]], %[[M0]]
// CHECK:         %[[TAP1:.*]] = vt.slice %[[X]] {ends = array<i64: 9223372036854775807, 9223372036854775807, 4, 4>, starts = array<i64: 0, 0, 1, 0>, steps = array<i64: 1, 1, 2, 1>}
// CHECK:         %[[HIT1:.*]] = vt.equal %[[TAP1]], %[[Y]]
// CHECK:         %[[C1:.*]] = vt.cast %[[HIT1]]
// CHECK:         %[[M1:.*]] = vt.mul %[[C1]], %[[LEFT]]
// CHECK:         vt.mul %[[DA]], %[[M1]]
// CHECK:         %[[AT1:.*]] = vt.pad %{{.*}} {pads = array<i64: 0, 0, 1, 0, 0, 0, -1, 0>}
// CHECK:         %[[DX:.*]] = vt.add %{{.*}}, %[[AT1]] : tensor<1x2x4x4xf32>
// CHECK:         return %{{.*}}, %[[DX]]
func.func @pool(%x: tensor<1x2x4x4xf32>) -> tensor<f32> {
  %0 = vt.max_pool2d %x {kernel = array<i64: 2, 1>, strides = array<i64: 2, 1>, pads = array<i64: 0, 0, 1, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x4x4xf32> -> tensor<1x2x2x4xf32>
  %1 = vt.avg_pool2d %0 {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x2x2x4xf32> -> tensor<1x2x1x2xf32>
  %2 = vt.reduce_sum %1 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x2x1x2xf32> -> tensor<f32>
  return %2 : tensor<f32>
}
// -----

// max_pool2d with windows that tile the input (2x2, stride 2; the odd last
// row is unread): x is viewed as [N, C, OH, KH, OW, KW]; a select chain over
// one slice per tap (last tap first) finds the first tap equal to the max
// (4: none), g goes where the tap index equals it, and the unread row gets
// zeros.
// CHECK-LABEL: func.func @pool_tiles_grad(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x5x4xf32>
// CHECK:         %[[Y:.*]] = vt.max_pool2d %[[X]]
// CHECK:         %[[USED:.*]] = vt.slice %[[X]] {ends = array<i64: 9223372036854775807, 9223372036854775807, 4, 4>, starts = array<i64: 0, 0, 0, 0>, steps = array<i64: 1, 1, 1, 1>} : tensor<1x2x5x4xf32> -> tensor<1x2x4x4xf32>
// CHECK:         %[[WIN:.*]] = vt.reshape %[[USED]], %{{.*}} -> tensor<1x2x2x2x2x2xf32>
// CHECK:         %[[YW:.*]] = vt.reshape %[[Y]], %{{.*}} -> tensor<1x2x2x1x2x1xf32>
// CHECK:         %[[NONE:.*]] = vt.constant dense<4.000000e+00> : tensor<f32>
// CHECK:         %[[T3:.*]] = vt.slice %[[WIN]] {{.*}}starts = array<i64: 0, 0, 0, 1, 0, 1>
// CHECK:         %[[H3:.*]] = vt.equal %[[T3]], %[[YW]]
// CHECK:         %[[F3:.*]] = vt.select %[[H3]], %{{.*}}, %[[NONE]]
// CHECK:         vt.slice %[[WIN]] {{.*}}starts = array<i64: 0, 0, 0, 1, 0, 0>
// CHECK:         vt.slice %[[WIN]] {{.*}}starts = array<i64: 0, 0, 0, 0, 0, 1>
// CHECK:         %[[T0:.*]] = vt.slice %[[WIN]] {{.*}}starts = array<i64: 0, 0, 0, 0, 0, 0>
// CHECK:         %[[H0:.*]] = vt.equal %[[T0]], %[[YW]]
// CHECK:         %[[ZERO:.*]] = vt.constant dense<0.000000e+00> : tensor<f32>
// CHECK:         %[[FIRST:.*]] = vt.select %[[H0]], %[[ZERO]], %{{.*}} -> tensor<1x2x2x1x2x1xf32>
// CHECK:         %[[TAP:.*]] = vt.constant dense<{{\[\[\[\[\[\[}}0.000000e+00, 1.000000e+00]], {{\[\[}}2.000000e+00, 3.000000e+00]]]]]]> : tensor<1x1x1x2x1x2xf32>
// CHECK:         %[[CHOSEN:.*]] = vt.equal %[[TAP]], %[[FIRST]]
// CHECK:         %[[GW:.*]] = vt.reshape %{{.*}}, %{{.*}} -> tensor<1x2x2x1x2x1xf32>
// CHECK:         %[[DXW:.*]] = vt.select %[[CHOSEN]], %[[GW]], %{{.*}} -> tensor<1x2x2x2x2x2xf32>
// CHECK:         %[[DXU:.*]] = vt.reshape %[[DXW]], %{{.*}} -> tensor<1x2x4x4xf32>
// CHECK:         %[[DX:.*]] = vt.pad %[[DXU]] {pads = array<i64: 0, 0, 0, 0, 0, 0, 1, 0>} : tensor<1x2x4x4xf32> -> tensor<1x2x5x4xf32>
// CHECK:         return %{{.*}}, %[[DX]]
func.func @pool_tiles(%x: tensor<1x2x5x4xf32>) -> tensor<f32> {
  %0 = vt.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : tensor<1x2x5x4xf32> -> tensor<1x2x2x2xf32>
  %1 = vt.reduce_sum %0 {axes = array<i64: 0, 1, 2, 3>, keepdims = false} : tensor<1x2x2x2xf32> -> tensor<f32>
  return %1 : tensor<f32>
}
// -----

// tile sums its copies; pad crops (a pad by the negated amounts); slice
// spreads by its step and pads from its start; concat slices; gather
// scatter-adds through a one-hot matmul of the wrapped indices (the
// repeated index 3 adds up).
// CHECK-LABEL: func.func @movement_grad(
// CHECK:         %[[IDX:.*]] = vt.constant dense<[0, 3, 3]> : tensor<3xi64>
// CHECK:         %[[COPIES:.*]] = vt.reshape %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<3xi64> -> tensor<4x2x2xf32>
// CHECK:         %[[DTILE:.*]] = vt.reduce_sum %[[COPIES]] {axes = array<i64: 1>, keepdims = false} : tensor<4x2x2xf32> -> tensor<4x2xf32>
// CHECK:         %[[DPAD:.*]] = vt.pad %[[DTILE]] {pads = array<i64: -1, 0, 0, 0>} : tensor<4x2xf32> -> tensor<3x2xf32>
// CHECK:         vt.reshape %[[DPAD]], %{{.*}} -> tensor<3x2x1xf32>
// CHECK:         vt.pad %{{.*}} {pads = array<i64: 0, 0, 0, 0, 0, 1>} : tensor<3x2x1xf32> -> tensor<3x2x2xf32>
// CHECK:         %[[STEPPED:.*]] = vt.reshape %{{.*}}, %{{.*}} -> tensor<3x4xf32>
// CHECK:         %[[DSLICE:.*]] = vt.pad %[[STEPPED]] {pads = array<i64: 1, 0, 0, 0>} : tensor<3x4xf32> -> tensor<4x4xf32>
// CHECK:         %[[DT:.*]] = vt.slice %[[DSLICE]] {ends = array<i64: 1, 9223372036854775807>, starts = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<1x4xf32>
// CHECK:         %[[DG:.*]] = vt.slice %[[DSLICE]] {ends = array<i64: 4, 9223372036854775807>, starts = array<i64: 1, 0>, steps = array<i64: 1, 1>} : tensor<4x4xf32> -> tensor<3x4xf32>
// CHECK:         %[[ROW:.*]] = vt.reshape %[[IDX]], %{{.*}} : tensor<3xi64>, tensor<2xi64> -> tensor<1x3xi64>
// CHECK:         %[[NEG:.*]] = vt.less %[[ROW]]
// CHECK:         %[[WRAP:.*]] = vt.select %[[NEG]]
// CHECK:         %[[RANGE:.*]] = vt.constant dense<{{\[}}[0], [1], [2], [3], [4]]> : tensor<5x1xi64>
// CHECK:         %[[EQ:.*]] = vt.equal %[[RANGE]], %[[WRAP]] : tensor<5x1xi64>, tensor<1x3xi64> -> tensor<5x3xi1>
// CHECK:         %[[ONEHOT:.*]] = vt.cast %[[EQ]] : tensor<5x3xi1> -> tensor<5x3xf32>
// CHECK:         %[[G3:.*]] = vt.reshape %[[DG]], %{{.*}} : tensor<3x4xf32>, tensor<3xi64> -> tensor<1x3x4xf32>
// CHECK:         %[[SCATTER:.*]] = vt.matmul %[[ONEHOT]], %[[G3]] : tensor<5x3xf32>, tensor<1x3x4xf32> -> tensor<1x5x4xf32>
// CHECK:         %[[DX:.*]] = vt.reshape %[[SCATTER]], %{{.*}} : tensor<1x5x4xf32>, tensor<2xi64> -> tensor<5x4xf32>
// CHECK:         return %{{.*}}, %[[DX]], %[[DT]]
func.func @movement(%x: tensor<5x4xf32>, %t: tensor<1x4xf32>) -> tensor<f32> {
  %i = vt.constant dense<[0, 3, 3]> : tensor<3xi64>
  %0 = vt.gather %x, %i {axis = 0} : tensor<5x4xf32>, tensor<3xi64> -> tensor<3x4xf32>
  %1 = vt.concat %t, %0 {axis = 0} : (tensor<1x4xf32>, tensor<3x4xf32>) -> tensor<4x4xf32>
  %2 = vt.slice %1 {starts = array<i64: 1, 0>, ends = array<i64: 4, 4>, steps = array<i64: 1, 2>} : tensor<4x4xf32> -> tensor<3x2xf32>
  %3 = vt.pad %2 {pads = array<i64: 1, 0, 0, 0>} : tensor<3x2xf32> -> tensor<4x2xf32>
  %4 = vt.tile %3 {repeats = array<i64: 1, 2>} : tensor<4x2xf32> -> tensor<4x4xf32>
  %5 = vt.reduce_sum %4 {axes = array<i64: 0, 1>, keepdims = false} : tensor<4x4xf32> -> tensor<f32>
  return %5 : tensor<f32>
}
