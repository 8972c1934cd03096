// RUN: vitc-opt %s -split-input-file -verify-diagnostics -vitc-key-random-by-sample="functions=train_step" | FileCheck %s

// A dropout mask on a [batch, 5] activation and one on a flattened
// [batch * 2, 3] one: the step gets a "sample_offset" input, and each mask
// starts at sample_offset x (its elements / the batch), the batch being
// dim 0 of the data input.
// CHECK-LABEL: func.func @train_step(
//  CHECK-SAME:     %[[X:[a-z0-9]+]]: tensor<?x5xf32> {vt.name = "input", vt.role = "data"}
//  CHECK-SAME:     %[[OFF:[a-z0-9]+]]: tensor<i64> {vt.name = "sample_offset", vt.role = "sample_offset"})
//       CHECK:   %[[B:.*]] = tensor.dim %[[X]], %c0
//       CHECK:   %[[BATCH:.*]] = arith.index_cast %[[B]] : index to i64
//       CHECK:   %[[O:.*]] = tensor.extract %[[OFF]][] : tensor<i64>
//       CHECK:   %[[S:.*]] = vt.shape_of %[[X]]
//       CHECK:   %[[N0:.*]] = tensor.extract %[[S]][%c0{{.*}}] : tensor<2xi64>
//       CHECK:   %[[E0:.*]] = arith.muli %[[N0]], %c5_i64
//       CHECK:   %[[PER0:.*]] = arith.divsi %[[E0]], %[[BATCH]] : i64
//       CHECK:   %[[F0:.*]] = arith.muli %[[O]], %[[PER0]] : i64
//       CHECK:   %[[T0:.*]] = tensor.from_elements %[[F0]] : tensor<i64>
//       CHECK:   vt.random_uniform %{{.*}}, %[[S]] first %[[T0]] {stream = 1 : i64}
//       CHECK:   arith.divsi %{{.*}}, %[[BATCH]] : i64
//       CHECK:   vt.random_uniform %{{.*}}, %{{.*}} first %{{.*}} {stream = 2 : i64}
// CHECK-LABEL: func.func @eval_step(
//   CHECK-NOT:   sample_offset
//       CHECK:   vt.random_uniform %{{.*}} {stream = 3 : i64} : (tensor<i64>) -> tensor<4xf32>
func.func @train_step(%x: tensor<?x5xf32> {vt.name = "input", vt.role = "data"},
                      %seed: tensor<i64> {vt.name = "seed", vt.role = "seed"},
                      %flat: tensor<2xi64>) -> (tensor<?x5xf32>, tensor<?x3xf32>) {
  %s = vt.shape_of %x : tensor<?x5xf32> -> tensor<2xi64>
  %u = vt.random_uniform %seed, %s {stream = 1 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x5xf32>
  %v = vt.random_uniform %seed, %flat {stream = 2 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x3xf32>
  return %u, %v : tensor<?x5xf32>, tensor<?x3xf32>
}
func.func @eval_step(%seed: tensor<i64>) -> tensor<4xf32> {
  %u = vt.random_uniform %seed {stream = 3 : i64} : (tensor<i64>) -> tensor<4xf32>
  return %u : tensor<4xf32>
}

// -----

// A step without random numbers is left as it is: no new input.
// CHECK-LABEL: func.func @train_step(
//  CHECK-SAME:     %{{.*}}: tensor<?x5xf32> {vt.name = "input", vt.role = "data"}) -> tensor<?x5xf32>
func.func @train_step(%x: tensor<?x5xf32> {vt.name = "input", vt.role = "data"}) -> tensor<?x5xf32> {
  return %x : tensor<?x5xf32>
}

// -----

// Random numbers need the batch: a step without a data input is an error.
// expected-error @+1 {{vitc-key-random-by-sample: @train_step draws random numbers but has no batched "data" input}}
func.func @train_step(%seed: tensor<i64>) -> tensor<4xf32> {
  %u = vt.random_uniform %seed {stream = 3 : i64} : (tensor<i64>) -> tensor<4xf32>
  return %u : tensor<4xf32>
}
