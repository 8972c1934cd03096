// RUN: vitc-opt %s -split-input-file -convert-vt-to-linalg | FileCheck %s

// A static unit dim broadcasts through a constant-0 index; the dynamic batch
// sizes the result from tensor.dim.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.*]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @add_broadcast
// CHECK-SAME: (%[[A:.*]]: tensor<?x4xf32>, %[[B:.*]]: tensor<1x4xf32>)
// CHECK: %[[D:.*]] = tensor.dim %[[A]], %{{.*}} : tensor<?x4xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%[[A]], %[[B]] : tensor<?x4xf32>, tensor<1x4xf32>) outs(%[[E]] : tensor<?x4xf32>)
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<?x4xf32>, %b: tensor<1x4xf32>) -> tensor<?x4xf32> {
  %0 = vt.add %a, %b : tensor<?x4xf32>, tensor<1x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// Integer compare / division (truncating) / select on i1.
// CHECK-LABEL: func.func @integer_ops
// CHECK: arith.cmpi slt
// CHECK: linalg.yield %{{.*}} : i1
// CHECK: arith.divsi
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : i32
func.func @integer_ops(%a: tensor<3xi32>, %b: tensor<3xi32>) -> tensor<3xi32> {
  %0 = vt.less %a, %b : tensor<3xi32>, tensor<3xi32> -> tensor<3xi1>
  %1 = vt.div %a, %b : tensor<3xi32>, tensor<3xi32> -> tensor<3xi32>
  %2 = vt.select %0, %1, %a : tensor<3xi1>, tensor<3xi32>, tensor<3xi32> -> tensor<3xi32>
  return %2 : tensor<3xi32>
}

// -----

// ONNX Cast semantics: float -> int truncates, float -> bool tests != 0.
// CHECK-LABEL: func.func @casts
// CHECK: arith.fptosi %{{.*}} : f32 to i32
// CHECK: arith.cmpf une
func.func @casts(%a: tensor<4xf32>) -> (tensor<4xi32>, tensor<4xi1>) {
  %0 = vt.cast %a : tensor<4xf32> -> tensor<4xi32>
  %1 = vt.cast %a : tensor<4xf32> -> tensor<4xi1>
  return %0, %1 : tensor<4xi32>, tensor<4xi1>
}

// -----

// reduce_mean: a sum into a zero-filled accumulator without the reduced dim,
// a division by the count, keepdims by expand_shape.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @reduce_mean
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.*}} : tensor<?xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "reduction"]}
// CHECK-SAME: outs(%[[ACC]] : tensor<?xf32>)
// CHECK: arith.addf
// CHECK: %[[N:.*]] = arith.sitofp %{{.*}} : i64 to f32
// CHECK: %[[MEAN:.*]] = linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<?xf32>)
// CHECK: arith.divf %{{.*}}, %[[N]]
// CHECK: tensor.expand_shape %[[MEAN]] {{\[\[}}0, 1]] output_shape [%{{.*}}, 1] : tensor<?xf32> into tensor<?x1xf32>
func.func @reduce_mean(%x: tensor<?x8xf32>) -> tensor<?x1xf32> {
  %0 = vt.reduce_mean %x {axes = array<i64: 1>} : tensor<?x8xf32> -> tensor<?x1xf32>
  return %0 : tensor<?x1xf32>
}

// -----

// reduce_max starts from -inf.
// CHECK-LABEL: func.func @reduce_max
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: arith.maximumf
func.func @reduce_max(%x: tensor<2x8xf32>) -> tensor<2xf32> {
  %0 = vt.reduce_max %x {axes = array<i64: 1>, keepdims = false} : tensor<2x8xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

// Bools reduce by max ("any": from false, with or) and min ("all": from
// true, with and).
// CHECK-LABEL: func.func @reduce_bool
// CHECK-DAG: %[[TRUE:.*]] = arith.constant true
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK: linalg.fill ins(%[[FALSE]] : i1)
// CHECK: arith.ori
// CHECK: linalg.fill ins(%[[TRUE]] : i1)
// CHECK: arith.andi
func.func @reduce_bool(%x: tensor<?x8xi1>) -> (tensor<?xi1>, tensor<?xi1>) {
  %0 = vt.reduce_max %x {axes = array<i64: 1>, keepdims = false} : tensor<?x8xi1> -> tensor<?xi1>
  %1 = vt.reduce_min %x {axes = array<i64: 1>, keepdims = false} : tensor<?x8xi1> -> tensor<?xi1>
  return %0, %1 : tensor<?xi1>, tensor<?xi1>
}

// -----

// [B, N, K] x transpose([M, K]): one 2-D matmul over the B*N rows that reads
// the [M, K] weight through transposed indexing maps (no transpose is
// materialised for it).
// CHECK-DAG: #[[MA:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[MB:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[MC:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x197x768xf32>, %[[W:.*]]: tensor<3072x768xf32>)
// CHECK: %[[B:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x197x768xf32>
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<?x197x768xf32> into tensor<?x768xf32>
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: %[[MM:.*]] = linalg.matmul indexing_maps = [#[[MA]], #[[MB]], #[[MC]]] ins(%[[ROWS]], %[[W]] : tensor<?x768xf32>, tensor<3072x768xf32>) outs(%[[ACC]] : tensor<?x3072xf32>)
// CHECK: tensor.expand_shape %[[MM]] {{\[\[}}0, 1], [2]] output_shape [%[[B]], 197, 3072] : tensor<?x3072xf32> into tensor<?x197x3072xf32>
func.func @linear(%x: tensor<?x197x768xf32>, %w: tensor<3072x768xf32>) -> tensor<?x197x3072xf32> {
  %t = vt.transpose %w {perm = array<i64: 1, 0>} : tensor<3072x768xf32> -> tensor<768x3072xf32>
  %0 = vt.matmul %x, %t : tensor<?x197x768xf32>, tensor<768x3072xf32> -> tensor<?x197x3072xf32>
  return %0 : tensor<?x197x3072xf32>
}

// -----

// q @ k^T over [B, H]: batch dims collapse into one batch_matmul, k read
// transposed.
// CHECK-DAG: #[[QA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[KB:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[SC:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @attention_scores
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x17x16xf32>, %[[K:.*]]: tensor<?x4x17x16xf32>)
// CHECK: %[[Q3:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0, 1], [2], [3]] : tensor<?x4x17x16xf32> into tensor<?x17x16xf32>
// CHECK: %[[K3:.*]] = tensor.collapse_shape %[[K]] {{\[\[}}0, 1], [2], [3]] : tensor<?x4x17x16xf32> into tensor<?x17x16xf32>
// CHECK: %[[S:.*]] = linalg.batch_matmul indexing_maps = [#[[QA]], #[[KB]], #[[SC]]] ins(%[[Q3]], %[[K3]] : {{.*}}) outs(%{{.*}} : tensor<?x17x17xf32>)
// CHECK: tensor.expand_shape %[[S]] {{\[\[}}0, 1], [2], [3]] output_shape [%{{.*}}, 4, 17, 17]
func.func @attention_scores(%q: tensor<?x4x17x16xf32>, %k: tensor<?x4x17x16xf32>) -> tensor<?x4x17x17xf32> {
  %kt = vt.transpose %k {perm = array<i64: 0, 1, 3, 2>} : tensor<?x4x17x16xf32> -> tensor<?x4x16x17xf32>
  %0 = vt.matmul %q, %kt : tensor<?x4x17x16xf32>, tensor<?x4x16x17xf32> -> tensor<?x4x17x17xf32>
  return %0 : tensor<?x4x17x17xf32>
}

// -----

// conv2d: tensor.pad, the plain named op into a zero-filled accumulator, then
// the bias as a broadcast add over [F, 1, 1].
// CHECK-DAG: #[[ID4:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[CHAN:.*]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func.func @conv_bias
// CHECK-SAME: (%[[X:.*]]: tensor<?x1x28x28xf32>, %[[W:.*]]: tensor<8x1x3x3xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor<?x1x28x28xf32> to tensor<?x1x30x30xf32>
// CHECK: %[[ACC:.*]] = linalg.fill
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %[[W]] : tensor<?x1x30x30xf32>, tensor<8x1x3x3xf32>) outs(%[[ACC]] : tensor<?x8x14x14xf32>)
// CHECK: %[[B3:.*]] = tensor.expand_shape %[[B]] {{\[\[}}0, 1, 2]] output_shape [8, 1, 1]
// CHECK: linalg.generic {indexing_maps = [#[[ID4]], #[[CHAN]], #[[ID4]]]
// CHECK-SAME: ins(%[[C]], %[[B3]] : tensor<?x8x14x14xf32>, tensor<8x1x1xf32>)
func.func @conv_bias(%x: tensor<?x1x28x28xf32>, %w: tensor<8x1x3x3xf32>, %b: tensor<8xf32>) -> tensor<?x8x14x14xf32> {
  %0 = vt.conv2d %x, %w bias %b : tensor<8xf32> {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : tensor<?x1x28x28xf32>, tensor<8x1x3x3xf32> -> tensor<?x8x14x14xf32>
  return %0 : tensor<?x8x14x14xf32>
}

// -----

// Depthwise (group = C): channels split into [G, C/G], filters into [G, F/G].
// CHECK-LABEL: func.func @grouped_conv
// CHECK: %[[P:.*]] = tensor.pad
// CHECK: %[[X5:.*]] = tensor.expand_shape %[[P]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [%{{.*}}, 4, 1, 10, 10] : tensor<?x4x10x10xf32> into tensor<?x4x1x10x10xf32>
// CHECK: %[[W5:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1], [2], [3], [4]] output_shape [4, 1, 1, 3, 3] : tensor<4x1x3x3xf32> into tensor<4x1x1x3x3xf32>
// CHECK: %[[C:.*]] = linalg.conv_2d_ngchw_gfchw {{.*}} ins(%[[X5]], %[[W5]] : tensor<?x4x1x10x10xf32>, tensor<4x1x1x3x3xf32>) outs(%{{.*}} : tensor<?x4x1x8x8xf32>)
// CHECK: tensor.collapse_shape %[[C]] {{\[\[}}0], [1, 2], [3], [4]] : tensor<?x4x1x8x8xf32> into tensor<?x4x8x8xf32>
func.func @grouped_conv(%x: tensor<?x4x8x8xf32>, %w: tensor<4x1x3x3xf32>) -> tensor<?x4x8x8xf32> {
  %0 = vt.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64} : tensor<?x4x8x8xf32>, tensor<4x1x3x3xf32> -> tensor<?x4x8x8xf32>
  return %0 : tensor<?x4x8x8xf32>
}

// -----

// max pool pads with -inf; ceil mode adds the bottom/right rows the last
// window reaches (6 rows give 3 windows of 3 at stride 2, which read 7).
// CHECK-LABEL: func.func @max_pool_ceil
// CHECK: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NEGINF]] : f32
// CHECK: %[[ACC:.*]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: %[[WIN:.*]] = tensor.empty() : tensor<3x3xf32>
// CHECK: linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %[[WIN]] : tensor<?x2x7x7xf32>, tensor<3x3xf32>) outs(%[[ACC]] : tensor<?x2x3x3xf32>)
func.func @max_pool_ceil(%x: tensor<?x2x6x6xf32>) -> tensor<?x2x3x3xf32> {
  %0 = vt.max_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true} : tensor<?x2x6x6xf32> -> tensor<?x2x3x3xf32>
  return %0 : tensor<?x2x3x3xf32>
}

// -----

// avg pool without count_include_pad: a sum pool, then each output divided by
// the number of input (not padding) elements its window covers.
// CHECK-LABEL: func.func @avg_pool_exclude_pad
// CHECK: %[[P:.*]] = tensor.pad %{{.*}} low[0, 0, 1, 1] high[0, 0, 0, 0]
// CHECK: %[[SUM:.*]] = linalg.pooling_nchw_sum {{.*}} ins(%[[P]], %{{.*}} : tensor<?x2x9x9xf32>, tensor<3x3xf32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[SUM]] : tensor<?x2x4x4xf32>)
// CHECK: linalg.index 2
// CHECK: arith.maxsi
// CHECK: arith.minsi
// CHECK: linalg.index 3
// CHECK: %[[COUNT:.*]] = arith.sitofp
// CHECK: arith.divf %{{.*}}, %[[COUNT]]
func.func @avg_pool_exclude_pad(%x: tensor<?x2x8x8xf32>) -> tensor<?x2x4x4xf32> {
  %0 = vt.avg_pool2d %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 0, 0>} : tensor<?x2x8x8xf32> -> tensor<?x2x4x4xf32>
  return %0 : tensor<?x2x4x4xf32>
}

// -----

// Pure collapses/expands of static groups become collapse/expand_shape; the
// one reshape that is neither reads its shape at run time (0 copies, -1
// takes the rest) into a tensor.reshape.
// CHECK-LABEL: func.func @reshapes
// CHECK-SAME: (%[[X:.*]]: tensor<?x8x7x7xf32>, %[[S:.*]]: tensor<2xi64>, %[[Y:.*]]: tensor<?x6xf32>)
// CHECK: %[[F:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0], [1, 2, 3]] : tensor<?x8x7x7xf32> into tensor<?x392xf32>
// CHECK: tensor.expand_shape %[[F]] {{\[\[}}0], [1, 2]] output_shape [%{{.*}}, 8, 49] : tensor<?x392xf32> into tensor<?x8x49xf32>
// CHECK: tensor.extract %[[S]][%{{.*}}] : tensor<2xi64>
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.divsi
// CHECK: %[[DIMS:.*]] = tensor.from_elements %{{.*}}, %{{.*}} : tensor<2xindex>
// CHECK: tensor.reshape %[[Y]](%[[DIMS]]) : (tensor<?x6xf32>, tensor<2xindex>) -> tensor<?x3xf32>
func.func @reshapes(%x: tensor<?x8x7x7xf32>, %s: tensor<2xi64>, %y: tensor<?x6xf32>) -> (tensor<?x392xf32>, tensor<?x8x49xf32>, tensor<?x3xf32>) {
  %c = vt.constant dense<[0, -1]> : tensor<2xi64>
  %0 = vt.reshape %x, %c : tensor<?x8x7x7xf32>, tensor<2xi64> -> tensor<?x392xf32>
  %c3 = vt.constant dense<[0, 8, 49]> : tensor<3xi64>
  %1 = vt.reshape %0, %c3 : tensor<?x392xf32>, tensor<3xi64> -> tensor<?x8x49xf32>
  %2 = vt.reshape %y, %s : tensor<?x6xf32>, tensor<2xi64> -> tensor<?x3xf32>
  return %0, %1, %2 : tensor<?x392xf32>, tensor<?x8x49xf32>, tensor<?x3xf32>
}

// -----

// The class token: a gather of a scalar index reads the input with
// tensor.extract, wrapping negative indices.
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @class_token
// CHECK-SAME: (%[[X:.*]]: tensor<?x17x64xf32>)
// CHECK: %[[I:.*]] = arith.constant dense<0> : tensor<i64>
// CHECK: linalg.generic {indexing_maps = [#[[SCALAR]], #{{.*}}]
// CHECK-SAME: ins(%[[I]] : tensor<i64>) outs(%{{.*}} : tensor<?x64xf32>)
// CHECK: %[[IDX:.*]] = arith.index_cast %{{.*}} : i64 to index
// CHECK: %[[NEG:.*]] = arith.cmpi slt, %[[IDX]]
// CHECK: %[[WRAP:.*]] = arith.select %[[NEG]]
// CHECK: %[[B:.*]] = linalg.index 0
// CHECK: %[[D:.*]] = linalg.index 1
// CHECK: tensor.extract %[[X]][%[[B]], %[[WRAP]], %[[D]]] : tensor<?x17x64xf32>
func.func @class_token(%x: tensor<?x17x64xf32>) -> tensor<?x64xf32> {
  %i = vt.constant dense<0> : tensor<i64>
  %0 = vt.gather %x, %i {axis = 1} : tensor<?x17x64xf32>, tensor<i64> -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// concat: insert_slice chain at running offsets; slice: extract_slice with
// the dynamic dim's bounds clamped at run time.
// CHECK-LABEL: func.func @concat_slice
// CHECK-SAME: (%[[A:.*]]: tensor<?x1x64xf32>, %[[B:.*]]: tensor<?x16x64xf32>)
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x17x64xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0] [%{{.*}}, 1, 64] [1, 1, 1]
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, 1, 0] [%{{.*}}, 16, 64] [1, 1, 1]
// CHECK: arith.minsi
// CHECK: tensor.extract_slice %[[I1]][%{{.*}}, 1, 0] [%{{.*}}, 16, 64] [1, 1, 1] : tensor<?x17x64xf32> to tensor<?x16x64xf32>
func.func @concat_slice(%a: tensor<?x1x64xf32>, %b: tensor<?x16x64xf32>) -> tensor<?x16x64xf32> {
  %0 = vt.concat %a, %b {axis = 1} : (tensor<?x1x64xf32>, tensor<?x16x64xf32>) -> tensor<?x17x64xf32>
  %1 = vt.slice %0 {starts = array<i64: 0, 1, 0>, ends = array<i64: 9223372036854775807, 17, 64>, steps = array<i64: 1, 1, 1>} : tensor<?x17x64xf32> -> tensor<?x16x64xf32>
  return %1 : tensor<?x16x64xf32>
}

// -----

// A slice with no elements (a start clamped to the dim's end, a zero length
// Split piece) is an empty tensor; concat skips an input with no elements
// (an extract_slice or insert_slice at the dim's end is out of bounds).
// CHECK-LABEL: func.func @empty_slices
// CHECK-SAME: (%[[X:.*]]: tensor<?x8xf32>)
// CHECK-NOT: tensor.extract_slice
// CHECK: %[[E:.*]] = tensor.empty(%{{.*}}) : tensor<?x0xf32>
// CHECK: %[[C:.*]] = tensor.empty(%{{.*}}) : tensor<?x8xf32>
// CHECK: %[[I:.*]] = tensor.insert_slice %[[X]] into %[[C]][0, 0] [%{{.*}}, 8] [1, 1]
// CHECK-NOT: tensor.insert_slice
// CHECK: return %[[E]], %[[I]]
func.func @empty_slices(%x: tensor<?x8xf32>) -> (tensor<?x0xf32>, tensor<?x8xf32>) {
  %0 = vt.slice %x {starts = array<i64: 0, 1000>, ends = array<i64: 9223372036854775807, 1000>, steps = array<i64: 1, 1>} : tensor<?x8xf32> -> tensor<?x0xf32>
  %1 = vt.concat %x, %0 {axis = 1} : (tensor<?x8xf32>, tensor<?x0xf32>) -> tensor<?x8xf32>
  return %0, %1 : tensor<?x0xf32>, tensor<?x8xf32>
}

// -----

// A negative step reads the same elements from the last one forward, then a
// generic reverses the dim.
// CHECK-LABEL: func.func @reverse
// CHECK: %[[S:.*]] = tensor.extract_slice %{{.*}}[0] [4] [1] : tensor<4xf32> to tensor<4xf32>
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = linalg.index 0
// CHECK: %[[J:.*]] = arith.subi %{{.*}}, %[[I]]
// CHECK: tensor.extract %[[S]][%[[J]]]
func.func @reverse(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = vt.slice %x {starts = array<i64: -1>, ends = array<i64: -9223372036854775807>, steps = array<i64: -1>} : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// A fusion is lowered in place and inlined: its result is the yielded value;
// its dense_resource weight stays a resource.
// CHECK-LABEL: func.func @fusion_inlined
// CHECK-NOT: vt.
// CHECK: arith.constant dense_resource<bias_blob> : tensor<4xf32>
// CHECK: %[[ADD:.*]] = linalg.generic
// CHECK: arith.addf
// CHECK: %[[RELU:.*]] = linalg.generic
// CHECK-SAME: ins(%[[ADD]] : tensor<?x4xf32>)
// CHECK: arith.maximumf
// CHECK: return %[[RELU]] : tensor<?x4xf32>
func.func @fusion_inlined(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %0 = vt.fusion(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%a: tensor<?x4xf32>):
    %b = vt.constant {name = "bias"} dense_resource<bias_blob> : tensor<4xf32>
    %1 = vt.add %a, %b : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
    %2 = vt.relu %1 : tensor<?x4xf32>
    vt.yield %2 : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf32>
}
{-#
  dialect_resources: {
    builtin: {
      bias_blob: "0x040000000000803F0000004000004040000080C0"
    }
  }
#-}

// -----

// CHECK-LABEL: func.func @shape_of
// CHECK-SAME: (%[[X:.*]]: tensor<?x3xf32>)
// CHECK: %[[D:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3xf32>
// CHECK: %[[D64:.*]] = arith.index_cast %[[D]] : index to i64
// CHECK: %[[T:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: tensor.from_elements %[[D64]], %[[T]] : tensor<2xi64>
func.func @shape_of(%x: tensor<?x3xf32>) -> tensor<2xi64> {
  %0 = vt.shape_of %x : tensor<?x3xf32> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// k^T yielded by a fusion reaches the matmul only after the fusion is
// inlined; it is still folded into the batch_matmul's maps.
// CHECK-DAG: #[[QA:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[KB:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-LABEL: func.func @transpose_from_fusion
// CHECK-SAME: (%[[Q:.*]]: tensor<?x4x17x16xf32>, %[[K:.*]]: tensor<?x4x17x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[K3:.*]] = tensor.collapse_shape %[[K]] {{\[\[}}0, 1], [2], [3]] : tensor<?x4x17x16xf32> into tensor<?x17x16xf32>
// CHECK: linalg.batch_matmul indexing_maps = [#[[QA]], #[[KB]], #{{.*}}] ins(%{{.*}}, %[[K3]] :
func.func @transpose_from_fusion(%q: tensor<?x4x17x16xf32>, %k: tensor<?x4x17x16xf32>) -> tensor<?x4x17x17xf32> {
  %kt = vt.fusion(%k) : (tensor<?x4x17x16xf32>) -> tensor<?x4x16x17xf32> {
  ^bb0(%a: tensor<?x4x17x16xf32>):
    %t = vt.transpose %a {perm = array<i64: 0, 1, 3, 2>} : tensor<?x4x17x16xf32> -> tensor<?x4x16x17xf32>
    vt.yield %t : tensor<?x4x16x17xf32>
  }
  %0 = vt.matmul %q, %kt : tensor<?x4x17x16xf32>, tensor<?x4x16x17xf32> -> tensor<?x4x17x17xf32>
  return %0 : tensor<?x4x17x17xf32>
}
