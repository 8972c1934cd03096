// RUN: vitc-opt %s -split-input-file -vt-promote-params | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vt-promote-params=functions=train_step | FileCheck %s --check-prefix=ONLY
// RUN: vitc-opt %s -split-input-file -vt-promote-params='freeze=.*\.bias' | FileCheck %s --check-prefix=FREEZE

// Named float constants become leading arguments: params in order of
// appearance, then buffers (a weight a result replaces through vt.updates,
// here a BatchNorm running mean that appears first). Two constants of one
// name become one argument. Integer constants, unnamed constants and named
// ones without uses (an initializer the importer read as an attribute) stay.
// The initial values are kept on the module.
// CHECK-LABEL: module attributes {vitc.initial_values = {
// CHECK-SAME:      bn.running_mean = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>,
// CHECK-SAME:      fc.bias = dense<[1.000000e-01, 2.000000e-01, 3.000000e-01]> : tensor<3xf32>,
// CHECK-SAME:      fc.weight = dense<5.000000e-01> : tensor<4x3xf32>}}
// CHECK:       func.func @train_step(
// CHECK-SAME:      %[[W:.*]]: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
// CHECK-SAME:      %[[B:.*]]: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"},
// CHECK-SAME:      %[[RM:.*]]: tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer"},
// CHECK-SAME:      %[[X:.*]]: tensor<?x4xf32> {vt.name = "x"})
// CHECK-SAME:      -> (tensor<?x3xf32> {vt.name = "logits"}, tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer", vt.updates = "bn.running_mean"})
// CHECK-NEXT:    vt.constant {name = "dropout.ratio"} dense<5.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[SHAPE:.*]] = vt.constant {name = "shape"} dense<[-1, 3]> : tensor<2xi64>
// CHECK-NEXT:    %[[HALF:.*]] = vt.constant dense<5.000000e-01> : tensor<3xf32>
// CHECK-NEXT:    %[[Y:.*]] = vt.matmul %[[X]], %[[W]]
// CHECK-NEXT:    %[[Z:.*]] = vt.add %[[Y]], %[[B]]
// CHECK-NEXT:    %[[R:.*]] = vt.reshape %[[Z]], %[[SHAPE]]
// CHECK-NEXT:    %[[M:.*]] = vt.mul %[[RM]], %[[HALF]]
// CHECK-NEXT:    %[[N:.*]] = vt.add %[[M]], %[[B]]
// CHECK-NEXT:    return %[[R]], %[[N]]

// With freeze=.*\.bias, fc.bias is a buffer too, after the running mean.
// FREEZE-LABEL: module attributes {vitc.initial_values = {bn.running_mean
// FREEZE:       func.func @train_step(
// FREEZE-SAME:      %{{.*}}: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
// FREEZE-SAME:      %{{.*}}: tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer"},
// FREEZE-SAME:      %{{.*}}: tensor<3xf32> {vt.name = "fc.bias", vt.role = "buffer"},
// FREEZE-SAME:      %{{.*}}: tensor<?x4xf32> {vt.name = "x"})
func.func @train_step(%x: tensor<?x4xf32> {vt.name = "x"})
    -> (tensor<?x3xf32> {vt.name = "logits"},
        tensor<3xf32> {vt.name = "bn.running_mean", vt.role = "buffer", vt.updates = "bn.running_mean"}) {
  %rm = vt.constant {name = "bn.running_mean"} dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<4x3xf32>
  %b = vt.constant {name = "fc.bias"} dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %ratio = vt.constant {name = "dropout.ratio"} dense<0.5> : tensor<f32>
  %shape = vt.constant {name = "shape"} dense<[-1, 3]> : tensor<2xi64>
  %half = vt.constant dense<0.5> : tensor<3xf32>
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %z = vt.add %y, %b : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  %r = vt.reshape %z, %shape : tensor<?x3xf32>, tensor<2xi64> -> tensor<?x3xf32>
  %m = vt.mul %rm, %half : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %b2 = vt.constant {name = "fc.bias"} dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %n = vt.add %m, %b2 : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %r, %n : tensor<?x3xf32>, tensor<3xf32>
}

// -----

// Every function gets the same argument list, the weights of all of them,
// whether it uses them or not (head.scale only appears in @eval_step), so a
// trainer feeds train_step and eval_step from one set of tensors.
// CHECK-LABEL: module attributes {vitc.initial_values = {fc.bias = {{.*}}, fc.weight = {{.*}}, head.scale = dense<2.000000e+00> : tensor<f32>}}
// CHECK:       func.func @train_step(%{{.*}}: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"}, %{{.*}}: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"}, %{{.*}}: tensor<f32> {vt.name = "head.scale", vt.role = "param"}, %{{.*}}: tensor<?x4xf32> {vt.name = "x"})
// CHECK:       func.func @eval_step(%{{.*}}: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"}, %{{.*}}: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"}, %[[S:.*]]: tensor<f32> {vt.name = "head.scale", vt.role = "param"}, %{{.*}}: tensor<?x4xf32> {vt.name = "x"})
// CHECK-NEXT:    %[[Y:.*]] = vt.matmul
// CHECK-NEXT:    vt.mul %[[Y]], %[[S]]

// functions=train_step: @eval_step keeps its constants, and head.scale,
// which only it uses, is no parameter.
// ONLY-LABEL: module attributes {vitc.initial_values = {fc.bias = {{.*}}, fc.weight = {{.*}}}}
// ONLY:       func.func @train_step(%{{.*}}: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"}, %{{.*}}: tensor<3xf32> {vt.name = "fc.bias", vt.role = "param"}, %{{.*}}: tensor<?x4xf32> {vt.name = "x"})
// ONLY:       func.func @eval_step(%{{.*}}: tensor<?x4xf32> {vt.name = "x"})
// ONLY:         vt.constant {name = "head.scale"}
// ONLY:         vt.constant {name = "fc.weight"}
func.func @train_step(%x: tensor<?x4xf32> {vt.name = "x"}) -> (tensor<?x3xf32> {vt.name = "logits"}) {
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<4x3xf32>
  %b = vt.constant {name = "fc.bias"} dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %z = vt.add %y, %b : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  return %z : tensor<?x3xf32>
}
func.func @eval_step(%x: tensor<?x4xf32> {vt.name = "x"}) -> (tensor<?x3xf32> {vt.name = "logits"}) {
  %s = vt.constant {name = "head.scale"} dense<2.0> : tensor<f32>
  %w = vt.constant {name = "fc.weight"} dense<0.5> : tensor<4x3xf32>
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %z = vt.mul %y, %s : tensor<?x3xf32>, tensor<f32> -> tensor<?x3xf32>
  return %z : tensor<?x3xf32>
}

// -----

// freeze patterns match whole names: .*\.bias freezes blocks.0.bias and
// head.bias, not head.bias_scale. Frozen weights are buffers, after the
// params. An integer weight (an embedding's index table) is no parameter.
// FREEZE-LABEL: module attributes {vitc.initial_values = {blocks.0.bias
// FREEZE:       func.func @train_step(
// FREEZE-SAME:      %{{.*}}: tensor<4x4xf32> {vt.name = "blocks.0.weight", vt.role = "param"},
// FREEZE-SAME:      %{{.*}}: tensor<4x3xf32> {vt.name = "head.weight", vt.role = "param"},
// FREEZE-SAME:      %{{.*}}: tensor<3xf32> {vt.name = "head.bias_scale", vt.role = "param"},
// FREEZE-SAME:      %{{.*}}: tensor<4xf32> {vt.name = "blocks.0.bias", vt.role = "buffer"},
// FREEZE-SAME:      %{{.*}}: tensor<3xf32> {vt.name = "head.bias", vt.role = "buffer"},
// FREEZE-SAME:      %{{.*}}: tensor<?x4xf32> {vt.name = "x"})
// FREEZE:         vt.constant {name = "index"} dense<[0, 2]> : tensor<2xi64>

// Without freeze they are all params.
// CHECK-LABEL: module attributes {vitc.initial_values = {blocks.0.bias
// CHECK:       func.func @train_step(
// CHECK-SAME:      {vt.name = "blocks.0.weight", vt.role = "param"}, {{.*}} {vt.name = "blocks.0.bias", vt.role = "param"}, {{.*}} {vt.name = "head.weight", vt.role = "param"}, {{.*}} {vt.name = "head.bias", vt.role = "param"}, {{.*}} {vt.name = "head.bias_scale", vt.role = "param"}, {{.*}} {vt.name = "x"})
// CHECK:         vt.constant {name = "index"} dense<[0, 2]> : tensor<2xi64>
func.func @train_step(%x: tensor<?x4xf32> {vt.name = "x"}) -> (tensor<?x2xf32> {vt.name = "logits"}) {
  %w0 = vt.constant {name = "blocks.0.weight"} dense<0.25> : tensor<4x4xf32>
  %b0 = vt.constant {name = "blocks.0.bias"} dense<0.1> : tensor<4xf32>
  %wh = vt.constant {name = "head.weight"} dense<0.5> : tensor<4x3xf32>
  %bh = vt.constant {name = "head.bias"} dense<0.2> : tensor<3xf32>
  %sh = vt.constant {name = "head.bias_scale"} dense<2.0> : tensor<3xf32>
  %idx = vt.constant {name = "index"} dense<[0, 2]> : tensor<2xi64>
  %h = vt.matmul %x, %w0 : tensor<?x4xf32>, tensor<4x4xf32> -> tensor<?x4xf32>
  %hb = vt.add %h, %b0 : tensor<?x4xf32>, tensor<4xf32> -> tensor<?x4xf32>
  %o = vt.matmul %hb, %wh : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %bs = vt.mul %bh, %sh : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  %ob = vt.add %o, %bs : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  %g = vt.gather %ob, %idx {axis = 1} : tensor<?x3xf32>, tensor<2xi64> -> tensor<?x2xf32>
  return %g : tensor<?x2xf32>
}
