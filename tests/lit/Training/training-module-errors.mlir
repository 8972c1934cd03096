// --mode train builds @train_step and @eval_step from @main: an input that
// already defines one of them is refused by name, and nothing is written.
// RUN: rm -f %t.vtc
// RUN: not vitc %s --mode train -o %t.vtc 2>&1 | FileCheck %s
// RUN: not test -e %t.vtc

// CHECK: vitc: error: {{.*}}training-module-errors.mlir: the module already has a symbol @eval_step; --mode train builds @train_step and @eval_step from @main

func.func @main(%x: tensor<2x3xf32> {vt.name = "input"}) -> (tensor<2x3xf32> {vt.name = "logits"}) {
  return %x : tensor<2x3xf32>
}

func.func @eval_step() {
  return
}
