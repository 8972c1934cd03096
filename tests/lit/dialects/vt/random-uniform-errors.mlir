// RUN: vitc-opt %s -split-input-file -verify-diagnostics

func.func @dynamic_without_shape(%seed: tensor<i64>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'vt.random_uniform' op a result with dynamic dims needs a shape operand, got 'tensor<?x4xf32>'}}
  %u = vt.random_uniform %seed {stream = 0 : i64} : (tensor<i64>) -> tensor<?x4xf32>
  return %u : tensor<?x4xf32>
}

// -----

func.func @shape_length(%seed: tensor<i64>, %s: tensor<3xi64>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'vt.random_uniform' op result rank 2 != shape length 3}}
  %u = vt.random_uniform %seed, %s {stream = 0 : i64} : (tensor<i64>, tensor<3xi64>) -> tensor<?x4xf32>
  return %u : tensor<?x4xf32>
}

// -----

func.func @shape_contradicts_type(%seed: tensor<i64>) -> tensor<?x4xf32> {
  %s = vt.constant dense<[2, 5]> : tensor<2xi64>
  // expected-error @+1 {{'vt.random_uniform' op shape entry 1 is 5, but the result has 'tensor<?x4xf32>'}}
  %u = vt.random_uniform %seed, %s {stream = 0 : i64} : (tensor<i64>, tensor<2xi64>) -> tensor<?x4xf32>
  return %u : tensor<?x4xf32>
}

// -----

func.func @seed_not_scalar(%seed: tensor<1xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{'vt.random_uniform' op operand #0 must be 0D tensor of 64-bit signless integer values}}
  %u = vt.random_uniform %seed {stream = 0 : i64} : (tensor<1xi64>) -> tensor<4xf32>
  return %u : tensor<4xf32>
}

// -----

func.func @not_f32(%seed: tensor<i64>) -> tensor<4xf16> {
  // expected-error @+1 {{'vt.random_uniform' op result #0 must be ranked tensor of 32-bit float values}}
  %u = vt.random_uniform %seed {stream = 0 : i64} : (tensor<i64>) -> tensor<4xf16>
  return %u : tensor<4xf16>
}

// -----

func.func @no_stream(%seed: tensor<i64>) -> tensor<4xf32> {
  // expected-error @+1 {{'vt.random_uniform' op requires attribute 'stream'}}
  %u = vt.random_uniform %seed : (tensor<i64>) -> tensor<4xf32>
  return %u : tensor<4xf32>
}
