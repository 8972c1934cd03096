// RUN: vitc-opt %s -split-input-file | vitc-opt -split-input-file | FileCheck %s --check-prefix=PARSE
// RUN: vitc-opt %s -split-input-file -canonicalize | FileCheck %s --check-prefix=CANON
// RUN: vitc-opt %s -split-input-file -vt-infer-shapes | FileCheck %s --check-prefix=SHAPES
// RUN: vitc-opt %s -split-input-file -vt-fuse | FileCheck %s --check-prefix=FUSE
// RUN: vitc-opt %s -split-input-file -convert-vt-to-linalg | FileCheck %s --check-prefix=LOWER
// RUN: vitc-opt %s -split-input-file -convert-vt-to-linalg=target=cuda | FileCheck %s --check-prefix=GPU

// A dropout on a dynamic batch: the mask's dims come from shape_of. The op
// round-trips; it lowers to one generic computing the hash of (seed, stream,
// linear index) from linalg.index, the dynamic dim read from the shape
// operand; vt-fuse puts it in the dropout's elementwise kernel.
// PARSE-LABEL: func.func @dropout_dynamic_batch
// PARSE: vt.random_uniform %{{.*}}, %{{.*}} {stream = 3 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x5xf32>

// FUSE-LABEL: func.func @dropout_dynamic_batch
// FUSE: vt.fusion
// FUSE: vt.random_uniform
// FUSE: vt.less
// FUSE: vt.select
// FUSE: vt.mul
// FUSE: vt.yield

// On the CPU the key is computed once, before the loop, and captured.
// LOWER-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// LOWER-LABEL: func.func @dropout_dynamic_batch
// LOWER-SAME: (%[[SEED:.*]]: tensor<i64>, %[[X:.*]]: tensor<?x5xf32>)
// LOWER: %[[N:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<2xi64>
// LOWER: %[[NI:.*]] = arith.index_cast %[[N]] : i64 to index
// LOWER: %[[E:.*]] = tensor.empty(%[[NI]]) : tensor<?x5xf32>
//   key = mix64(mix64(seed) ^ stream)
// LOWER: %[[S:.*]] = tensor.extract %[[SEED]][] : tensor<i64>
// LOWER: arith.shrui %[[S]], %c30_i64
// LOWER: arith.muli %{{.*}}, %c-4658895280553007687_i64
// LOWER: arith.xori %{{.*}}, %c3_i64
// LOWER: linalg.generic {indexing_maps = [#[[ID]]], iterator_types = ["parallel", "parallel"]}
// LOWER-SAME: outs(%[[E]] : tensor<?x5xf32>)
// LOWER: ^bb0(%{{.*}}: f32):
//   linear index i0 * 5 + i1, counter (i + 1) * gamma
// LOWER: %[[I0:.*]] = linalg.index 0
// LOWER: %[[I1:.*]] = linalg.index 1
// LOWER: arith.muli %{{.*}}, %c5_i64
// LOWER: %[[CTR:.*]] = arith.muli %{{.*}}, %c-7046029254386353131_i64
// LOWER: arith.addi %{{.*}}, %[[CTR]]
//   the top 24 bits scaled by 2^-24
// LOWER: %[[TOP:.*]] = arith.shrui %{{.*}}, %c40_i64
// LOWER: %[[F:.*]] = arith.uitofp %[[TOP]] : i64 to f32
// LOWER: %[[U:.*]] = arith.mulf %[[F]], %cst{{.*}} : f32
// LOWER: linalg.yield %[[U]] : f32

// A GPU kernel reads the seed itself: a rank-0 input, the key per element.
// GPU-DAG: #[[SCALAR:.*]] = affine_map<(d0, d1) -> ()>
// GPU-DAG: #[[ID:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// GPU-LABEL: func.func @dropout_dynamic_batch
// GPU-SAME: (%[[SEED:.*]]: tensor<i64>, %[[X:.*]]: tensor<?x5xf32>)
// GPU: linalg.generic {indexing_maps = [#[[SCALAR]], #[[ID]]], iterator_types = ["parallel", "parallel"]}
// GPU-SAME: ins(%[[SEED]] : tensor<i64>)
// GPU: ^bb0(%[[S:.*]]: i64, %{{.*}}: f32):
// GPU: arith.shrui %[[S]], %c30_i64
// GPU: arith.xori %{{.*}}, %c3_i64
// GPU: linalg.index 0
func.func @dropout_dynamic_batch(%seed: tensor<i64>, %x: tensor<?x5xf32>) -> tensor<?x5xf32> {
  %s = vt.shape_of %x : tensor<?x5xf32> -> tensor<2xi64>
  %u = vt.random_uniform %seed, %s {stream = 3 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x5xf32>
  %p = vt.constant dense<2.5e-01> : tensor<f32>
  %drop = vt.less %u, %p : tensor<?x5xf32>, tensor<f32> -> tensor<?x5xi1>
  %zero = vt.constant dense<0.0> : tensor<f32>
  %scale = vt.constant dense<1.33333337> : tensor<f32>
  %m = vt.select %drop, %zero, %scale : tensor<?x5xi1>, tensor<f32>, tensor<f32> -> tensor<?x5xf32>
  %y = vt.mul %x, %m : tensor<?x5xf32>, tensor<?x5xf32> -> tensor<?x5xf32>
  return %y : tensor<?x5xf32>
}

// -----

// A static result needs no shape operand: canonicalisation drops it, and
// the lowering reads no dims.
// CANON-LABEL: func.func @static_shape_operand
// CANON: vt.random_uniform %{{.*}} {stream = 0 : i64} : (tensor<i64>) -> tensor<2x3xf32>
// LOWER-LABEL: func.func @static_shape_operand
// LOWER-NOT: tensor.extract
// LOWER: tensor.empty() : tensor<2x3xf32>
func.func @static_shape_operand(%seed: tensor<i64>) -> tensor<2x3xf32> {
  %s = vt.constant dense<[2, 3]> : tensor<2xi64>
  %u = vt.random_uniform %seed, %s {stream = 0 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<2x3xf32>
  return %u : tensor<2x3xf32>
}

// -----

// A constant seed folds small results to the values themselves (numpy's
// SplitMix64 of seed -3, stream 9 gives 13679346, 4241974, 8758696 as the
// top 24 bits: these values times 2^-24).
// CANON-LABEL: func.func @constant_seed_folds
// CANON-NEXT: %[[C:.*]] = vt.constant dense<[0.815352559, 0.252841353, 0.522058964]> : tensor<3xf32>
// CANON-NEXT: return %[[C]]
func.func @constant_seed_folds() -> tensor<3xf32> {
  %seed = vt.constant dense<-3> : tensor<i64>
  %u = vt.random_uniform %seed {stream = 9 : i64} : (tensor<i64>) -> tensor<3xf32>
  return %u : tensor<3xf32>
}

// -----

// Shape inference reads the shape operand symbolically: the batch stays
// dynamic, the constant entry becomes a static dim.
// SHAPES-LABEL: func.func @refine_from_shape
// SHAPES: vt.random_uniform {{.*}} -> tensor<?x7xf32>
// SHAPES: return {{.*}} : tensor<?x7xf32>
func.func @refine_from_shape(%seed: tensor<i64>, %x: tensor<?x3xf32>) -> tensor<?x?xf32> {
  %s = vt.shape_of %x : tensor<?x3xf32> -> tensor<2xi64>
  %i0 = vt.constant dense<[0]> : tensor<1xi64>
  %n = vt.gather %s, %i0 {axis = 0} : tensor<2xi64>, tensor<1xi64> -> tensor<1xi64>
  %seven = vt.constant dense<[7]> : tensor<1xi64>
  %shape = vt.concat %n, %seven {axis = 0} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %u = vt.random_uniform %seed, %shape {stream = 1 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x?xf32>
  return %u : tensor<?x?xf32>
}

// -----

// `first` shifts the stream: element i takes value first + i. A constant
// seed and first fold (seed -3, stream 9 from index 1: the 2nd and 3rd
// values above); the lowering adds first to the linear index (on the CPU
// read once, before the loop; a GPU kernel takes it as a rank-0 input).
// PARSE-LABEL: func.func @first_index
// PARSE: vt.random_uniform %{{.*}}, %{{.*}} first %{{.*}} {stream = 2 : i64} : (tensor<i64>, tensor<2xi64>, tensor<i64>) -> tensor<?x5xf32>
// CANON-LABEL: func.func @first_index
// CANON: vt.constant dense<[0.252841353, 0.522058964]> : tensor<2xf32>
// LOWER-LABEL: func.func @first_index
// LOWER-SAME: (%{{.*}}: tensor<i64>, %[[FIRST:.*]]: tensor<i64>, %{{.*}}: tensor<?x5xf32>)
// LOWER: %[[F:.*]] = tensor.extract %[[FIRST]][] : tensor<i64>
// LOWER: linalg.generic
// LOWER: %[[LIN:.*]] = arith.addi %{{.*}}, %{{.*}} : i64
// LOWER: %[[AT:.*]] = arith.addi %[[LIN]], %[[F]] : i64
// LOWER: arith.addi %[[AT]], %c1_i64
// GPU-LABEL: func.func @first_index
// GPU-SAME: (%[[SEED:.*]]: tensor<i64>, %[[FIRST:.*]]: tensor<i64>, %{{.*}}: tensor<?x5xf32>)
// GPU: linalg.generic
// GPU-SAME: ins(%[[SEED]], %[[FIRST]] : tensor<i64>, tensor<i64>)
func.func @first_index(%seed: tensor<i64>, %first: tensor<i64>, %x: tensor<?x5xf32>) -> (tensor<?x5xf32>, tensor<2xf32>) {
  %s = vt.shape_of %x : tensor<?x5xf32> -> tensor<2xi64>
  %u = vt.random_uniform %seed, %s first %first {stream = 2 : i64} : (tensor<i64>, tensor<2xi64>, tensor<i64>) -> tensor<?x5xf32>
  %cseed = vt.constant dense<-3> : tensor<i64>
  %one = vt.constant dense<1> : tensor<i64>
  %v = vt.random_uniform %cseed first %one {stream = 9 : i64} : (tensor<i64>, tensor<i64>) -> tensor<2xf32>
  return %u, %v : tensor<?x5xf32>, tensor<2xf32>
}
