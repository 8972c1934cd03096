// RUN: vitc-opt %s -split-input-file -vitc-externalize-weights -verify-diagnostics

// Entry functions gain the weights argument, so code cannot call them.
func.func @eval_step(%x: memref<2xf32>) -> memref<2xf32> {
  return %x : memref<2xf32>
}
func.func @train_step(%x: memref<2xf32>) -> memref<2xf32> {
  // expected-error @+1 {{vitc-externalize-weights: @eval_step is an entry point of the artifact (a public function) and cannot be referenced; make the callee private}}
  %0 = call @eval_step(%x) : (memref<2xf32>) -> memref<2xf32>
  return %0 : memref<2xf32>
}

// -----

// expected-error @+1 {{vitc-externalize-weights: the module has no public func.func with a body}}
module {
  func.func private @helper(%x: memref<2xf32>) -> memref<2xf32> {
    return %x : memref<2xf32>
  }
}
