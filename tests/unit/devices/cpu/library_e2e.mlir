// Compiled-code check of vitc-linalg-to-library + the CPU kernels: run by
// library_e2e.py, once with the library calls and once as linalg loops;
// the printed results must agree.
func.func private @printMemrefF32(memref<*xf32>)
func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %cst = arith.constant 0.0 : f32
  %x = memref.alloc() : memref<2x3x5x5xf32>
  %w = memref.alloc() : memref<4x3x3x3xf32>
  %y = memref.alloc() : memref<2x4x3x3xf32>
  // Deterministic data: x[i] = sin(i), w[i] = cos(i).
  linalg.generic {indexing_maps = [affine_map<(a,b,c,d) -> (a,b,c,d)>], iterator_types = ["parallel","parallel","parallel","parallel"]} outs(%x : memref<2x3x5x5xf32>) {
  ^bb0(%o: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %t0 = arith.muli %i0, %c3 : index
    %t1 = arith.addi %t0, %i1 : index
    %t2 = arith.muli %t1, %c5 : index
    %t3 = arith.addi %t2, %i2 : index
    %t4 = arith.muli %t3, %c5 : index
    %t5 = arith.addi %t4, %i3 : index
    %ii = arith.index_cast %t5 : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %s = math.sin %f : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(a,b,c,d) -> (a,b,c,d)>], iterator_types = ["parallel","parallel","parallel","parallel"]} outs(%w : memref<4x3x3x3xf32>) {
  ^bb0(%o: f32):
    %i0 = linalg.index 0 : index
    %i1 = linalg.index 1 : index
    %i2 = linalg.index 2 : index
    %i3 = linalg.index 3 : index
    %c3 = arith.constant 3 : index
    %t0 = arith.muli %i0, %c3 : index
    %t1 = arith.addi %t0, %i1 : index
    %t2 = arith.muli %t1, %c3 : index
    %t3 = arith.addi %t2, %i2 : index
    %t4 = arith.muli %t3, %c3 : index
    %t5 = arith.addi %t4, %i3 : index
    %ii = arith.index_cast %t5 : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %s = math.cos %f : f32
    linalg.yield %s : f32
  }
  // Padded conv, stride 2, pad 1 (as bufferized tensor.pad).
  %p = memref.alloc() : memref<2x3x7x7xf32>
  linalg.fill ins(%cst : f32) outs(%p : memref<2x3x7x7xf32>)
  %sv = memref.subview %p[0, 0, 1, 1] [2, 3, 5, 5] [1, 1, 1, 1] : memref<2x3x7x7xf32> to memref<2x3x5x5xf32, strided<[147, 49, 7, 1], offset: 8>>
  memref.copy %x, %sv : memref<2x3x5x5xf32> to memref<2x3x5x5xf32, strided<[147, 49, 7, 1], offset: 8>>
  linalg.fill ins(%cst : f32) outs(%y : memref<2x4x3x3xf32>)
  linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%p, %w : memref<2x3x7x7xf32>, memref<4x3x3x3xf32>) outs(%y : memref<2x4x3x3xf32>)
  // Matmul on a collapsed view: (2*4*3) x 3 times a 3x3 slice of w, transposed.
  %y2 = memref.collapse_shape %y [[0, 1, 2], [3]] : memref<2x4x3x3xf32> into memref<24x3xf32>
  %w2 = memref.collapse_shape %w [[0], [1, 2, 3]] : memref<4x3x3x3xf32> into memref<4x27xf32>
  %ws = memref.subview %w2[0, 5] [4, 3] [1, 1] : memref<4x27xf32> to memref<4x3xf32, strided<[27, 1], offset: 5>>
  %z = memref.alloc() : memref<24x4xf32>
  linalg.fill ins(%cst : f32) outs(%z : memref<24x4xf32>)
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%y2, %ws : memref<24x3xf32>, memref<4x3xf32, strided<[27, 1], offset: 5>>) outs(%z : memref<24x4xf32>)
  %pool = memref.alloc() : memref<2x4x2x2xf32>
  %win = memref.alloc() : memref<2x2xf32>
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%ninf : f32) outs(%pool : memref<2x4x2x2xf32>)
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%y, %win : memref<2x4x3x3xf32>, memref<2x2xf32>) outs(%pool : memref<2x4x2x2xf32>)
  %u = memref.cast %z : memref<24x4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  %u2 = memref.cast %pool : memref<2x4x2x2xf32> to memref<*xf32>
  call @printMemrefF32(%u2) : (memref<*xf32>) -> ()
  return
}
