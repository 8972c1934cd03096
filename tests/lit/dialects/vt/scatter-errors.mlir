// RUN: vitc-opt %s -split-input-file -verify-diagnostics

func.func @axis_out_of_range(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op axis 2 out of range for 'tensor<8x4xf32>'}}
  %0 = vt.scatter %d, %i, %u {axis = 2 : i64} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @unknown_reduction(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op unknown reduction 'sum' (none, add, mul, max or min)}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64, reduction = "sum"} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @element_types(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf16>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op updates' element type 'f16' differs from data's 'f32'}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf16> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @updates_rank(%d: tensor<8x4xf32>, %i: tensor<3x2xi64>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op updates 'tensor<3x4xf32>' must have rank 3 (data's dims with the axis replaced by indices' dims)}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3x2xi64>, tensor<3x4xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @updates_dims(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<2x?xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op updates 'tensor<2x?xf32>' differ in dim 0 from data 'tensor<8x4xf32>' scattered by indices 'tensor<3xi64>' along axis 0}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xi64>, tensor<2x?xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}

// -----

func.func @trailing_dims(%d: tensor<?x5x3xf32>, %i: tensor<2xi64>, %u: tensor<?x2x4xf32>) -> tensor<?x5x3xf32> {
  // expected-error @+1 {{'vt.scatter' op updates 'tensor<?x2x4xf32>' differ in dim 2 from data 'tensor<?x5x3xf32>' scattered by indices 'tensor<2xi64>' along axis 1}}
  %0 = vt.scatter %d, %i, %u {axis = 1 : i64} : tensor<?x5x3xf32>, tensor<2xi64>, tensor<?x2x4xf32> -> tensor<?x5x3xf32>
  return %0 : tensor<?x5x3xf32>
}

// -----

func.func @result_type(%d: tensor<8x4xf32>, %i: tensor<3xi64>, %u: tensor<3x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+2 {{'vt.scatter' op inferred type(s) 'tensor<8x4xf32>' are incompatible with return type(s) of operation 'tensor<?x4xf32>'}}
  // expected-error @+1 {{'vt.scatter' op failed to infer returned types}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xi64>, tensor<3x4xf32> -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

func.func @float_indices(%d: tensor<8x4xf32>, %i: tensor<3xf32>, %u: tensor<3x4xf32>) -> tensor<8x4xf32> {
  // expected-error @+1 {{'vt.scatter' op operand #1 must be ranked tensor of signless integer values}}
  %0 = vt.scatter %d, %i, %u {axis = 0 : i64} : tensor<8x4xf32>, tensor<3xf32>, tensor<3x4xf32> -> tensor<8x4xf32>
  return %0 : tensor<8x4xf32>
}
