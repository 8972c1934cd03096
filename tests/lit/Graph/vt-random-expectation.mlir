// RUN: vitc-opt %s --split-input-file --vt-random-expectation=functions=main,eval_step | FileCheck %s
//
// Stochastic depth's rescaled keep mask, div(cast(less(u, p)), p), is ones
// in the functions evaluated deterministically; other draws stay.

// CHECK-LABEL: func.func @main
//  CHECK-SAME:   (%[[X:.*]]: tensor<?x3xf32>, %[[SHAPE:.*]]: tensor<2xi64>)
//   CHECK-DAG:   %[[ONE:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
//       CHECK:   %[[MASK:.*]] = vt.expand %[[ONE]], %[[SHAPE]] : tensor<f32>, tensor<2xi64> -> tensor<?x1xf32>
//       CHECK:   vt.mul %[[X]], %[[MASK]]
//   CHECK-NOT:   vt.less
func.func @main(%x: tensor<?x3xf32>, %shape: tensor<2xi64>) -> tensor<?x3xf32> {
  %seed = vt.constant dense<0> : tensor<i64>
  %u = vt.random_uniform %seed, %shape {stream = 10 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x1xf32>
  %p = vt.constant dense<0.8> : tensor<f32>
  %keep = vt.less %u, %p : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xi1>
  %mask = vt.cast %keep : tensor<?x1xi1> -> tensor<?x1xf32>
  %q = vt.constant dense<0.8> : tensor<f32>
  %scaled = vt.div %mask, %q : tensor<?x1xf32>, tensor<f32> -> tensor<?x1xf32>
  %y = vt.mul %x, %scaled : tensor<?x3xf32>, tensor<?x1xf32> -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// A sample not rescaled by its probability (a Bernoulli draw the model
// uses), one rescaled by another value, and any function not listed (the
// training step) keep their draws.
// CHECK-LABEL: func.func @eval_step
//   CHECK-NOT:   vt.expand
//       CHECK:   vt.random_uniform
//       CHECK:   vt.less %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<4xf32>
//       CHECK:   vt.div %{{.*}}, %{{.*}} : tensor<4xf32>, tensor<f32>
// CHECK-LABEL: func.func @train_step
//       CHECK:   vt.random_uniform
//       CHECK:   vt.less
func.func @eval_step(%p: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %seed = vt.constant dense<0> : tensor<i64>
  %u = vt.random_uniform %seed {stream = 1 : i64} : (tensor<i64>) -> tensor<4xf32>
  %keep = vt.less %u, %p : tensor<4xf32>, tensor<4xf32> -> tensor<4xi1>
  %sample = vt.cast %keep : tensor<4xi1> -> tensor<4xf32>
  %half = vt.constant dense<0.5> : tensor<f32>
  %keep2 = vt.less %u, %half : tensor<4xf32>, tensor<f32> -> tensor<4xi1>
  %mask2 = vt.cast %keep2 : tensor<4xi1> -> tensor<4xf32>
  %other = vt.constant dense<0.25> : tensor<f32>
  %scaled = vt.div %mask2, %other : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %sample, %scaled : tensor<4xf32>, tensor<4xf32>
}
func.func @train_step(%x: tensor<4xf32>, %seed: tensor<i64>) -> tensor<4xf32> {
  %u = vt.random_uniform %seed {stream = 1 : i64} : (tensor<i64>) -> tensor<4xf32>
  %p = vt.constant dense<0.5> : tensor<f32>
  %keep = vt.less %u, %p : tensor<4xf32>, tensor<f32> -> tensor<4xi1>
  %mask = vt.cast %keep : tensor<4xi1> -> tensor<4xf32>
  %scaled = vt.div %mask, %p : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %y = vt.mul %x, %scaled : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
