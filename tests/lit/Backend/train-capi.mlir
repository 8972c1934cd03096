// A training-shaped artifact through the backend alone and the C API: the
// linalg module below (train_step and eval_step sharing the private @dot,
// the weights table entry "init:w" as w's initial value) is lowered by
// vitc-opt, packed with --mode train by vitc-pack-artifact, and read and run
// through libvitc_runtime.so with ctypes (Inputs/capi_train.py), which
// compares with numpy: loss = w . x, w' = w - lr * x.
// RUN: rm -rf %t && mkdir -p %t
// RUN: vitc-opt %s -o %t/lowered.mlir --pass-pipeline="builtin.module(one-shot-bufferize{bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},vitc-externalize-weights,buffer-deallocation-pipeline,vitc-cpu-codegen)"
// RUN: vitc-pack-artifact %s %t/lowered.mlir -o %t/train.vtc --mode train
// RUN: vitc-pack-artifact %s %t/lowered.mlir -o %t/infer.vtc
// RUN: %python %S/Inputs/capi_train.py %t/train.vtc %t/infer.vtc | FileCheck %s

// CHECK:      mode train
// CHECK-NEXT: functions 2: train_step eval_step
// CHECK-NEXT: find eval_step: 1
// CHECK-NEXT: find nope: -1 the model has no function 'nope' (functions: train_step, eval_step)
// CHECK-NEXT: train_step input w f32 [64] role=param updates= full_rank=-1
// CHECK-NEXT: train_step input x f32 [64] role=data updates= full_rank=-1
// CHECK-NEXT: train_step input lr f32 [] role=lr updates= full_rank=-1
// CHECK-NEXT: train_step output loss f32 [] role=loss updates= full_rank=-1
// CHECK-NEXT: train_step output w f32 [64] role=param updates=w full_rank=-1
// CHECK-NEXT: eval_step input w f32 [64] role=param updates= full_rank=-1
// CHECK-NEXT: eval_step input x f32 [64] role=data updates= full_rank=-1
// CHECK-NEXT: eval_step output loss f32 [] role=loss updates= full_rank=-1
// CHECK-NEXT: no function #2: -1 vitc_model_function_num_inputs: no function #2 (the model has 2)
// The values vitc-pack-artifact records for --mode train.
// CHECK-NEXT: training loss=cross_entropy label_smoothing=0.1 optimizer=adamw weight_decay=0.01 momentum=0.9 nesterov=1 beta1=0.8 beta2=0.95 epsilon=1e-07 clip_norm=2.5 lr=0.003 num_classes=10
// CHECK-NEXT: sharding none
// CHECK-NEXT: initial w: f32 [64], in the mapped weights: True, values OK
// CHECK-NEXT: initial nope: -1 '{{.*}}train.vtc' has no initial value 'nope'
// CHECK-NEXT: train_step: loss OK, new w OK
// CHECK-NEXT: eval_step: loss OK
// CHECK-NEXT: wrong output count: -1 vitc_model_run_function: function 'eval_step' has 1 output(s), got room for 2
// CHECK-NEXT: inference mode: inference
// CHECK-NEXT: inference training info: -1 '{{.*}}infer.vtc' is not a training artifact (mode 'inference')

#id = affine_map<(i) -> (i)>
#scalar = affine_map<(i) -> ()>

memref.global "private" constant @"init:w" : memref<64xf32> = dense<[0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5, 4.75, 5.0, 5.25, 5.5, 5.75, 6.0, 6.25, 6.5, 6.75, 7.0, 7.25, 7.5, 7.75, 8.0, 8.25, 8.5, 8.75, 9.0, 9.25, 9.5, 9.75, 10.0, 10.25, 10.5, 10.75, 11.0, 11.25, 11.5, 11.75, 12.0, 12.25, 12.5, 12.75, 13.0, 13.25, 13.5, 13.75, 14.0, 14.25, 14.5, 14.75, 15.0, 15.25, 15.5, 15.75]>

func.func private @dot(%a: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<f32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<f32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<f32>) -> tensor<f32>
  %r = linalg.generic {indexing_maps = [#id, #id, #scalar],
                       iterator_types = ["reduction"]}
      ins(%a, %b : tensor<64xf32>, tensor<64xf32>) outs(%init : tensor<f32>) {
    ^bb0(%p: f32, %q: f32, %acc: f32):
      %m = arith.mulf %p, %q : f32
      %s = arith.addf %acc, %m : f32
      linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

func.func @train_step(%w: tensor<64xf32> {vt.name = "w", vt.role = "param"},
                      %x: tensor<64xf32> {vt.name = "x", vt.role = "data"},
                      %lr: tensor<f32> {vt.name = "lr", vt.role = "lr"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<64xf32> {vt.name = "w", vt.role = "param", vt.updates = "w"}) {
  %loss = call @dot(%w, %x) : (tensor<64xf32>, tensor<64xf32>) -> tensor<f32>
  %e = tensor.empty() : tensor<64xf32>
  %nw = linalg.generic {indexing_maps = [#id, #id, #scalar, #id],
                        iterator_types = ["parallel"]}
      ins(%w, %x, %lr : tensor<64xf32>, tensor<64xf32>, tensor<f32>)
      outs(%e : tensor<64xf32>) {
    ^bb0(%a: f32, %b: f32, %l: f32, %o: f32):
      %m = arith.mulf %l, %b : f32
      %s = arith.subf %a, %m : f32
      linalg.yield %s : f32
  } -> tensor<64xf32>
  return %loss, %nw : tensor<f32>, tensor<64xf32>
}

func.func @eval_step(%w: tensor<64xf32> {vt.name = "w", vt.role = "param"},
                     %x: tensor<64xf32> {vt.name = "x", vt.role = "data"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}) {
  %loss = call @dot(%w, %x) : (tensor<64xf32>, tensor<64xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
