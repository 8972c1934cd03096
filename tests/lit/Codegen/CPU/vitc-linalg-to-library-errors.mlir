// RUN: vitc-opt %s -vitc-linalg-to-library -verify-diagnostics

// A module symbol that clashes with a kernel name is reported, not replaced.
func.func private @vitc_cpu_matmul_f32(memref<?x?xf32>)

func.func @clash(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  // expected-error @+1 {{library kernel 'vitc_cpu_matmul_f32' is already declared with type}}
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}
