// The whole training-step compiler on a small MLP (a .mlir forward graph
// @main, as vitc accepts it): vitc --mode train --emit=vt makes the two
// forward graphs @train_step and @eval_step, the vitc-training pipeline
// turns them into the steps, and vitc compiles them into one artifact.
// RUN: rm -rf %t && mkdir -p %t
// RUN: vitc %s --mode train --emit=vt -o %t/steps.mlir
// RUN: FileCheck %s --check-prefix=STEPS < %t/steps.mlir
// RUN: vitc-opt %t/steps.mlir --vitc-training | FileCheck %s --implicit-check-not="vt.constant {name"
// RUN: vitc-opt %t/steps.mlir --vitc-training="optimizer=sgd loss=mse freeze=fc1\..*" | FileCheck %s --check-prefix=SGD
// RUN: vitc %s --mode train --label-smoothing 0.1 -o %t/train.vtc
// RUN: vitc-run %t/train.vtc --info | FileCheck %s --check-prefix=INFO

// STEPS-LABEL: func.func @train_step(%{{.*}}: tensor<?x4xf32> {vt.name = "input"}) -> (tensor<?x3xf32> {vt.name = "logits"})
// STEPS:         vt.constant {name = "fc1.weight"}
// STEPS-LABEL: func.func @eval_step(%{{.*}}: tensor<?x4xf32> {vt.name = "input"}) -> (tensor<?x3xf32> {vt.name = "logits"})
// STEPS:         vt.constant {name = "fc1.weight"}
// STEPS-NOT:   func.func @main

// Weights become params (no named constant is left), the loss replaces the
// logits, autodiff and AdamW turn @train_step into the whole step;
// @eval_step has the same params, then data and label, and returns loss and
// correct only.
// CHECK-LABEL: module attributes {vitc.initial_values = {fc1.bias = dense<{{.*}}> : tensor<5xf32>, fc1.weight = dense<{{.*}}> : tensor<4x5xf32>, fc2.bias = dense<{{.*}}> : tensor<3xf32>, fc2.weight = dense<{{.*}}> : tensor<5x3xf32>}}
// CHECK:       func.func @train_step(
// CHECK-SAME:      %[[W1:[a-z0-9]+]]: tensor<4x5xf32> {vt.name = "fc1.weight", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5xf32> {vt.name = "fc1.bias", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5x3xf32> {vt.name = "fc2.weight", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "fc2.bias", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<4x5xf32> {vt.name = "adamw_m.fc1.weight", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<4x5xf32> {vt.name = "adamw_v.fc1.weight", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5xf32> {vt.name = "adamw_m.fc1.bias", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5xf32> {vt.name = "adamw_v.fc1.bias", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5x3xf32> {vt.name = "adamw_m.fc2.weight", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5x3xf32> {vt.name = "adamw_v.fc2.weight", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "adamw_m.fc2.bias", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "adamw_v.fc2.bias", vt.role = "opt_state"},
// CHECK-SAME:      %[[X:[a-z0-9]+]]: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "step", vt.role = "step"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
// CHECK-SAME:          tensor<i64> {vt.name = "correct", vt.role = "correct"},
// CHECK-SAME:          tensor<f32> {vt.name = "grad_norm", vt.role = "grad_norm"},
// CHECK-SAME:          tensor<4x5xf32> {vt.name = "fc1.weight", vt.role = "param", vt.updates = "fc1.weight"},
// CHECK-SAME:          tensor<5xf32> {vt.name = "fc1.bias", vt.role = "param", vt.updates = "fc1.bias"},
// CHECK-SAME:          tensor<5x3xf32> {vt.name = "fc2.weight", vt.role = "param", vt.updates = "fc2.weight"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "fc2.bias", vt.role = "param", vt.updates = "fc2.bias"},
// CHECK-SAME:          tensor<4x5xf32> {vt.name = "adamw_m.fc1.weight", vt.role = "opt_state", vt.updates = "adamw_m.fc1.weight"},
// CHECK-SAME:          tensor<4x5xf32> {vt.name = "adamw_v.fc1.weight", vt.role = "opt_state", vt.updates = "adamw_v.fc1.weight"},
// CHECK-SAME:          tensor<5xf32> {vt.name = "adamw_m.fc1.bias", vt.role = "opt_state", vt.updates = "adamw_m.fc1.bias"},
// CHECK-SAME:          tensor<5xf32> {vt.name = "adamw_v.fc1.bias", vt.role = "opt_state", vt.updates = "adamw_v.fc1.bias"},
// CHECK-SAME:          tensor<5x3xf32> {vt.name = "adamw_m.fc2.weight", vt.role = "opt_state", vt.updates = "adamw_m.fc2.weight"},
// CHECK-SAME:          tensor<5x3xf32> {vt.name = "adamw_v.fc2.weight", vt.role = "opt_state", vt.updates = "adamw_v.fc2.weight"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "adamw_m.fc2.bias", vt.role = "opt_state", vt.updates = "adamw_m.fc2.bias"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "adamw_v.fc2.bias", vt.role = "opt_state", vt.updates = "adamw_v.fc2.bias"})
// The forward matmul, the decomposed log-softmax of the loss, then the
// backward: the weight gradient of the first layer is x^T g.
// CHECK:         vt.matmul %[[X]], %[[W1]]
// CHECK:         vt.reduce_max
// CHECK:         vt.argmax
// CHECK:         %[[XT:.*]] = vt.transpose %[[X]] {perm = array<i64: 1, 0>}
// CHECK:         vt.matmul %[[XT]], %{{.*}} : tensor<4x?xf32>, tensor<?x5xf32> -> tensor<4x5xf32>
// CHECK:         vt.sqrt
// CHECK:         vt.pow
// CHECK:         return
// CHECK:       func.func @eval_step(
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<4x5xf32> {vt.name = "fc1.weight", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5xf32> {vt.name = "fc1.bias", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<5x3xf32> {vt.name = "fc2.weight", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "fc2.bias", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"})
// CHECK-NOT:     vt.transpose
// CHECK-NOT:     vt.pow
// CHECK:         return

// SGD without momentum (no state), mse (a float label like the logits),
// the first layer frozen: its weights are buffers, not updated.
// SGD-LABEL: func.func @train_step(
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<5x3xf32> {vt.name = "fc2.weight", vt.role = "param"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "fc2.bias", vt.role = "param"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<4x5xf32> {vt.name = "fc1.weight", vt.role = "buffer"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<5xf32> {vt.name = "fc1.bias", vt.role = "buffer"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<?x3xf32> {vt.name = "label", vt.role = "label"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "step", vt.role = "step"})
// SGD-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"}, tensor<f32> {vt.name = "grad_norm", vt.role = "grad_norm"}, tensor<5x3xf32> {vt.name = "fc2.weight", vt.role = "param", vt.updates = "fc2.weight"}, tensor<3xf32> {vt.name = "fc2.bias", vt.role = "param", vt.updates = "fc2.bias"})
// SGD:       func.func @eval_step(
// SGD-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"})

// The artifact: both functions with their roles, the training settings.
// INFO:      mode train
// INFO-NEXT: training loss=cross_entropy label_smoothing=0.1 optimizer=adamw lr=0.001 weight_decay=0.01 momentum=0 nesterov=0 beta1=0.9 beta2=0.999 epsilon=1e-08 clip_norm=0 num_classes=3
// INFO-NEXT: function train_step
// INFO-NEXT:   input fc1.weight: f32 [4, 5] role=param
// INFO:        input input: f32 [-1, 4] role=data
// INFO-NEXT:   input label: i64 [-1] role=label
// INFO-NEXT:   input lr: f32 [] role=lr
// INFO-NEXT:   input step: f32 [] role=step
// INFO-NEXT:   output loss: f32 [] role=loss
// INFO-NEXT:   output correct: i64 [] role=correct
// INFO-NEXT:   output grad_norm: f32 [] role=grad_norm
// INFO-NEXT:   output fc1.weight: f32 [4, 5] role=param updates=fc1.weight
// INFO:        output adamw_v.fc2.bias: f32 [3] role=opt_state updates=adamw_v.fc2.bias
// INFO-NEXT: function eval_step
// INFO-NEXT:   input fc1.weight: f32 [4, 5] role=param
// INFO-NEXT:   input fc1.bias: f32 [5] role=param
// INFO-NEXT:   input fc2.weight: f32 [5, 3] role=param
// INFO-NEXT:   input fc2.bias: f32 [3] role=param
// INFO-NEXT:   input input: f32 [-1, 4] role=data
// INFO-NEXT:   input label: i64 [-1] role=label
// INFO-NEXT:   output loss: f32 [] role=loss
// INFO-NEXT:   output correct: i64 [] role=correct
// INFO-NOT:  function

func.func @main(%x: tensor<?x4xf32> {vt.name = "input"}) -> (tensor<?x3xf32> {vt.name = "logits"}) {
  %w1 = vt.constant {name = "fc1.weight"} dense<[[0.5, -0.25, 0.125, 1.0, -1.0], [0.25, 0.5, -0.5, 0.0, 0.75], [-0.125, 0.25, 1.0, -0.75, 0.5], [1.0, -0.5, 0.25, 0.5, -0.25]]> : tensor<4x5xf32>
  %b1 = vt.constant {name = "fc1.bias"} dense<[0.1, -0.1, 0.2, 0.0, -0.2]> : tensor<5xf32>
  %w2 = vt.constant {name = "fc2.weight"} dense<[[0.5, -0.5, 0.25], [0.25, 0.75, -0.5], [-1.0, 0.5, 0.5], [0.125, -0.25, 1.0], [0.5, 0.5, -0.75]]> : tensor<5x3xf32>
  %b2 = vt.constant {name = "fc2.bias"} dense<[0.0, 0.1, -0.1]> : tensor<3xf32>
  %h = vt.matmul %x, %w1 : tensor<?x4xf32>, tensor<4x5xf32> -> tensor<?x5xf32>
  %hb = vt.add %h, %b1 : tensor<?x5xf32>, tensor<5xf32> -> tensor<?x5xf32>
  %a = vt.relu %hb : tensor<?x5xf32>
  %o = vt.matmul %a, %w2 : tensor<?x5xf32>, tensor<5x3xf32> -> tensor<?x3xf32>
  %ob = vt.add %o, %b2 : tensor<?x3xf32>, tensor<3xf32> -> tensor<?x3xf32>
  return %ob : tensor<?x3xf32>
}
