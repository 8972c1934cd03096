// RUN: vitc-opt %s -split-input-file -canonicalize | FileCheck %s

// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME: (%[[X:.*]]: tensor<?x4x6xf32>)
// CHECK: %[[S:.*]] = vt.constant dense<[-1, 3, 8]>
// CHECK: %[[R:.*]] = vt.reshape %[[X]], %[[S]] : tensor<?x4x6xf32>, tensor<3xi64> -> tensor<?x3x8xf32>
// CHECK: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<?x4x6xf32>) -> tensor<?x3x8xf32> {
  %s1 = vt.constant dense<[-1, 24]> : tensor<2xi64>
  %a = vt.reshape %x, %s1 : tensor<?x4x6xf32>, tensor<2xi64> -> tensor<?x24xf32>
  %s2 = vt.constant dense<[-1, 3, 8]> : tensor<3xi64>
  %b = vt.reshape %a, %s2 : tensor<?x24xf32>, tensor<3xi64> -> tensor<?x3x8xf32>
  return %b : tensor<?x3x8xf32>
}

// -----

// A 0 in the outer shape copies a dim of the intermediate: not combined.
// CHECK-LABEL: func.func @reshape_of_reshape_with_zero
// CHECK: vt.reshape
// CHECK: vt.reshape
func.func @reshape_of_reshape_with_zero(%x: tensor<?x4x6xf32>) -> tensor<?x3x8xf32> {
  %s1 = vt.constant dense<[-1, 24]> : tensor<2xi64>
  %a = vt.reshape %x, %s1 : tensor<?x4x6xf32>, tensor<2xi64> -> tensor<?x24xf32>
  %s2 = vt.constant dense<[0, 3, 8]> : tensor<3xi64>
  %b = vt.reshape %a, %s2 : tensor<?x24xf32>, tensor<3xi64> -> tensor<?x3x8xf32>
  return %b : tensor<?x3x8xf32>
}

// -----

// A static result type makes the computed shape operand dead.
// CHECK-LABEL: func.func @reshape_static_result
// CHECK-NOT: vt.shape_of
// CHECK: %[[S:.*]] = vt.constant dense<[2, 12]> : tensor<2xi64>
// CHECK: vt.reshape %{{.*}}, %[[S]]
func.func @reshape_static_result(%x: tensor<2x3x4xf32>, %y: tensor<2x12xf32>) -> tensor<2x12xf32> {
  %s = vt.shape_of %y : tensor<2x12xf32> -> tensor<2xi64>
  %r = vt.reshape %x, %s : tensor<2x3x4xf32>, tensor<2xi64> -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}

// -----

// Reshape to the same static type folds away.
// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @reshape_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = vt.constant dense<[2, 3]> : tensor<2xi64>
  %r = vt.reshape %x, %s : tensor<2x3xf32>, tensor<2xi64> -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}

// -----

// f16 -> f32 is exact, so f16 -> f32 -> i32 is f16 -> i32.
// CHECK-LABEL: func.func @cast_of_lossless_cast
// CHECK-SAME: (%[[X:.*]]: tensor<4xf16>)
// CHECK-NEXT: %[[C:.*]] = vt.cast %[[X]] : tensor<4xf16> -> tensor<4xi32>
// CHECK-NEXT: return %[[C]]
func.func @cast_of_lossless_cast(%x: tensor<4xf16>) -> tensor<4xi32> {
  %a = vt.cast %x : tensor<4xf16> -> tensor<4xf32>
  %b = vt.cast %a : tensor<4xf32> -> tensor<4xi32>
  return %b : tensor<4xi32>
}

// -----

// A round trip through a wider type is the identity.
// CHECK-LABEL: func.func @cast_round_trip
// CHECK-SAME: (%[[X:.*]]: tensor<4xi32>)
// CHECK-NEXT: return %[[X]]
func.func @cast_round_trip(%x: tensor<4xi32>) -> tensor<4xi32> {
  %a = vt.cast %x : tensor<4xi32> -> tensor<4xi64>
  %b = vt.cast %a : tensor<4xi64> -> tensor<4xi32>
  return %b : tensor<4xi32>
}

// -----

// f32 -> f16 rounds: the chain stays.
// CHECK-LABEL: func.func @cast_of_lossy_cast
// CHECK: vt.cast %{{.*}} : tensor<4xf32> -> tensor<4xf16>
// CHECK: vt.cast %{{.*}} : tensor<4xf16> -> tensor<4xf32>
func.func @cast_of_lossy_cast(%x: tensor<4xf32>) -> tensor<4xf32> {
  %a = vt.cast %x : tensor<4xf32> -> tensor<4xf16>
  %b = vt.cast %a : tensor<4xf16> -> tensor<4xf32>
  return %b : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_of_transpose
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.*]] = vt.transpose %[[X]] {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = vt.transpose %x {perm = array<i64: 1, 0, 2>} : tensor<2x3x4xf32> -> tensor<3x2x4xf32>
  %b = vt.transpose %a {perm = array<i64: 2, 1, 0>} : tensor<3x2x4xf32> -> tensor<4x2x3xf32>
  return %b : tensor<4x2x3xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_inverse
// CHECK-SAME: (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @transpose_inverse(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %a = vt.transpose %x {perm = array<i64: 1, 2, 0>} : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %b = vt.transpose %a {perm = array<i64: 2, 0, 1>} : tensor<3x4x2xf32> -> tensor<2x3x4xf32>
  return %b : tensor<2x3x4xf32>
}

// -----

// Dims the type knows come out of shape_of as constants even when another
// dim is dynamic; a dynamic one (index 0, or -4 wrapped) stays.
// CHECK-LABEL: func.func @gather_of_shape_of
// CHECK-DAG: %[[C:.*]] = vt.constant dense<[197, 768]> : tensor<2xi64>
// CHECK-DAG: %[[S:.*]] = vt.shape_of
// CHECK-DAG: %[[G:.*]] = vt.gather %[[S]]
// CHECK: return %[[C]], %[[G]]
func.func @gather_of_shape_of(%x: tensor<?x197x768xf32>) -> (tensor<2xi64>, tensor<i64>) {
  %s = vt.shape_of %x : tensor<?x197x768xf32> -> tensor<3xi64>
  %i = vt.constant dense<[1, -1]> : tensor<2xi64>
  %g = vt.gather %s, %i {axis = 0} : tensor<3xi64>, tensor<2xi64> -> tensor<2xi64>
  %j = vt.constant dense<-3> : tensor<i64>
  %b = vt.gather %s, %j {axis = 0} : tensor<3xi64>, tensor<i64> -> tensor<i64>
  return %g, %b : tensor<2xi64>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @slice_of_shape_of
// CHECK: %[[C:.*]] = vt.constant dense<[768, 197]> : tensor<2xi64>
// CHECK: return %[[C]]
func.func @slice_of_shape_of(%x: tensor<?x197x768xf32>) -> tensor<2xi64> {
  %s = vt.shape_of %x : tensor<?x197x768xf32> -> tensor<3xi64>
  %t = vt.slice %s {starts = array<i64: -1>, ends = array<i64: 0>, steps = array<i64: -1>} : tensor<3xi64> -> tensor<2xi64>
  return %t : tensor<2xi64>
}

// -----

// Bool casts fold with bool semantics: true is 1.0, non-zero is true.
// CHECK-LABEL: func @fold_bool_casts
// CHECK-DAG: vt.constant dense<[1.000000e+00, 0.000000e+00]> : tensor<2xf32>
// CHECK-DAG: vt.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-DAG: vt.constant dense<[true, false]> : tensor<2xi1>
func.func @fold_bool_casts() -> (tensor<2xf32>, tensor<3xi1>, tensor<2xi1>) {
  %b = vt.constant dense<[true, false]> : tensor<2xi1>
  %f = vt.cast %b : tensor<2xi1> -> tensor<2xf32>
  %x = vt.constant dense<[0.5, 0.0, -2.0]> : tensor<3xf32>
  %xb = vt.cast %x : tensor<3xf32> -> tensor<3xi1>
  %i = vt.constant dense<[2, 0]> : tensor<2xi64>
  %ib = vt.cast %i : tensor<2xi64> -> tensor<2xi1>
  return %f, %xb, %ib : tensor<2xf32>, tensor<3xi1>, tensor<2xi1>
}

// -----

// Zero padding of the spatial dims moves into the convolution's pads
// ([top, left, bottom, right] added to [begin_2, begin_3, end_2, end_3]).
// CHECK-LABEL: func.func @pad_into_conv
// CHECK-SAME: (%[[X:.*]]: tensor<?x4x6x6xf32>, %[[W:.*]]: tensor<8x4x3x3xf32>)
// CHECK-NOT: vt.pad
// CHECK: vt.conv2d %[[X]], %[[W]] {dilations = array<i64: 1, 1>, pads = array<i64: 3, 1, 2, 2>, strides = array<i64: 1, 1>} : tensor<?x4x6x6xf32>, tensor<8x4x3x3xf32> -> tensor<?x8x9x7xf32>
func.func @pad_into_conv(%x: tensor<?x4x6x6xf32>, %w: tensor<8x4x3x3xf32>) -> tensor<?x8x9x7xf32> {
  %p = vt.pad %x {pads = array<i64: 0, 0, 2, 0, 0, 0, 1, 1>} : tensor<?x4x6x6xf32> -> tensor<?x4x9x7xf32>
  %y = vt.conv2d %p, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : tensor<?x4x9x7xf32>, tensor<8x4x3x3xf32> -> tensor<?x8x9x7xf32>
  return %y : tensor<?x8x9x7xf32>
}

// -----

// Not folded: a non-zero pad value, a padded channel dim, a crop.
// CHECK-LABEL: func.func @pad_stays
// CHECK-COUNT-3: vt.pad
func.func @pad_stays(%x: tensor<1x4x6x6xf32>, %w: tensor<8x4x3x3xf32>, %w5: tensor<8x5x3x3xf32>) -> (tensor<1x8x6x6xf32>, tensor<1x8x4x4xf32>, tensor<1x8x3x4xf32>) {
  %p1 = vt.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 1.0 : f64} : tensor<1x4x6x6xf32> -> tensor<1x4x8x8xf32>
  %y1 = vt.conv2d %p1, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x6x6xf32>
  %p2 = vt.pad %x {pads = array<i64: 0, 1, 0, 0, 0, 0, 0, 0>} : tensor<1x4x6x6xf32> -> tensor<1x5x6x6xf32>
  %y2 = vt.conv2d %p2, %w5 {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x5x6x6xf32>, tensor<8x5x3x3xf32> -> tensor<1x8x4x4xf32>
  %p3 = vt.pad %x {pads = array<i64: 0, 0, -1, 0, 0, 0, 0, 0>} : tensor<1x4x6x6xf32> -> tensor<1x4x5x6xf32>
  %y3 = vt.conv2d %p3, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : tensor<1x4x5x6xf32>, tensor<8x4x3x3xf32> -> tensor<1x8x3x4xf32>
  return %y1, %y2, %y3 : tensor<1x8x6x6xf32>, tensor<1x8x4x4xf32>, tensor<1x8x3x4xf32>
}

// -----

// Static dims read from the shape of a dynamic-batch tensor fold, through
// gather and slice alike; a read of the dynamic dim stays.
// CHECK-LABEL: func.func @static_dims_of_dynamic_shape
// CHECK-DAG: %[[C:.*]] = vt.constant dense<6> : tensor<1xi64>
// CHECK-DAG: %[[HW:.*]] = vt.constant dense<5> : tensor<2xi64>
// CHECK-DAG: %[[B:.*]] = vt.gather
// CHECK: return %[[C]], %[[HW]], %[[B]]
func.func @static_dims_of_dynamic_shape(%x: tensor<?x6x5x5xf32>) -> (tensor<1xi64>, tensor<2xi64>, tensor<1xi64>) {
  %s = vt.shape_of %x : tensor<?x6x5x5xf32> -> tensor<4xi64>
  %one = vt.constant dense<1> : tensor<1xi64>
  %c = vt.gather %s, %one {axis = 0 : i64} : tensor<4xi64>, tensor<1xi64> -> tensor<1xi64>
  %hw = vt.slice %s {ends = array<i64: 4>, starts = array<i64: 2>, steps = array<i64: 1>} : tensor<4xi64> -> tensor<2xi64>
  %zero = vt.constant dense<0> : tensor<1xi64>
  %b = vt.gather %s, %zero {axis = 0 : i64} : tensor<4xi64>, tensor<1xi64> -> tensor<1xi64>
  return %c, %hw, %b : tensor<1xi64>, tensor<2xi64>, tensor<1xi64>
}

// -----

// Constant selects and N-D concats fold (Swin's window-mask indices are
// built from them out of shapes).
// CHECK-LABEL: func.func @select_and_concat_fold
// CHECK-DAG: vt.constant dense<[1, 20, 3]> : tensor<3xi64>
// CHECK-DAG: vt.constant dense<{{\[}}[1, 2, 5], [3, 4, 6]]> : tensor<2x3xi64>
// CHECK-NOT: vt.select
// CHECK-NOT: vt.concat
func.func @select_and_concat_fold() -> (tensor<3xi64>, tensor<2x3xi64>) {
  %c = vt.constant dense<[true, false, true]> : tensor<3xi1>
  %a = vt.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = vt.constant dense<20> : tensor<i64>
  %s = vt.select %c, %a, %b : tensor<3xi1>, tensor<3xi64>, tensor<i64> -> tensor<3xi64>
  %l = vt.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %r = vt.constant dense<[[5], [6]]> : tensor<2x1xi64>
  %k = vt.concat %l, %r {axis = 1 : i64} : (tensor<2x2xi64>, tensor<2x1xi64>) -> tensor<2x3xi64>
  return %s, %k : tensor<3xi64>, tensor<2x3xi64>
}

// -----

// The gradient of q, k and v sliced from a packed projection: three
// zero-padded slices that tile the tensor, summed, are one concatenation.
// CHECK-LABEL: func.func @slice_grads_concat
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x?x4xf32>, %[[K:.*]]: tensor<1x?x4xf32>, %[[V:.*]]: tensor<1x?x4xf32>)
// CHECK-NEXT:    %[[C:.*]] = vt.concat %[[Q]], %[[K]], %[[V]] {axis = 0 : i64}
// CHECK-NEXT:    return %[[C]]
func.func @slice_grads_concat(%q: tensor<1x?x4xf32>, %k: tensor<1x?x4xf32>, %v: tensor<1x?x4xf32>) -> tensor<3x?x4xf32> {
  %pv = vt.pad %v {pads = array<i64: 2, 0, 0, 0, 0, 0>} : tensor<1x?x4xf32> -> tensor<3x?x4xf32>
  %pk = vt.pad %k {pads = array<i64: 1, 0, 0, 1, 0, 0>} : tensor<1x?x4xf32> -> tensor<3x?x4xf32>
  %s = vt.add %pv, %pk : tensor<3x?x4xf32>, tensor<3x?x4xf32> -> tensor<3x?x4xf32>
  %pq = vt.pad %q {pads = array<i64: 0, 0, 0, 2, 0, 0>} : tensor<1x?x4xf32> -> tensor<3x?x4xf32>
  %g = vt.add %s, %pq : tensor<3x?x4xf32>, tensor<3x?x4xf32> -> tensor<3x?x4xf32>
  return %g : tensor<3x?x4xf32>
}

// -----

// Two slices that do not meet (a gap between them), or that are padded
// differently along a second axis, or padded with a non-zero value, stay
// adds of pads.
// CHECK-LABEL: func.func @slice_grads_not_adjacent
// CHECK-COUNT-3: vt.add
func.func @slice_grads_not_adjacent(%a: tensor<1x4xf32>, %b: tensor<1x4xf32>) -> (tensor<3x4xf32>, tensor<2x5xf32>, tensor<2x4xf32>) {
  %pa = vt.pad %a {pads = array<i64: 0, 0, 2, 0>} : tensor<1x4xf32> -> tensor<3x4xf32>
  %pb = vt.pad %b {pads = array<i64: 2, 0, 0, 0>} : tensor<1x4xf32> -> tensor<3x4xf32>
  %gap = vt.add %pa, %pb : tensor<3x4xf32>, tensor<3x4xf32> -> tensor<3x4xf32>
  %qa = vt.pad %a {pads = array<i64: 0, 1, 1, 0>} : tensor<1x4xf32> -> tensor<2x5xf32>
  %qb = vt.pad %b {pads = array<i64: 1, 0, 0, 1>} : tensor<1x4xf32> -> tensor<2x5xf32>
  %skew = vt.add %qa, %qb : tensor<2x5xf32>, tensor<2x5xf32> -> tensor<2x5xf32>
  %ra = vt.pad %a {pads = array<i64: 0, 0, 1, 0>, value = 1.0 : f64} : tensor<1x4xf32> -> tensor<2x4xf32>
  %rb = vt.pad %b {pads = array<i64: 1, 0, 0, 0>} : tensor<1x4xf32> -> tensor<2x4xf32>
  %ones = vt.add %ra, %rb : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %gap, %skew, %ones : tensor<3x4xf32>, tensor<2x5xf32>, tensor<2x4xf32>
}
