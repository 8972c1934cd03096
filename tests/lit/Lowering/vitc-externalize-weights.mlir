// RUN: vitc-opt %s -split-input-file -vitc-externalize-weights -allow-unregistered-dialect | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vitc-externalize-weights=min-bytes=1 -allow-unregistered-dialect | FileCheck %s --check-prefix=SMALL

// Two weights: one dense_resource blob and one splat; the small scalar stays a
// global (below the default 256 bytes). Offsets are 64-byte aligned.
// CHECK: module attributes {vitc.weights = [{bytes = 256 : i64, name = "w0", offset = 0 : i64, value = dense_resource<blob0> : tensor<64xf32>}, {bytes = 400 : i64, name = "w1", offset = 256 : i64, value = dense<1.000000e+00> : tensor<10x10xf32>}], vitc.weights_size = 656 : i64}
// CHECK-NOT: memref.global "private" constant @w0
// CHECK-NOT: memref.global "private" constant @w1
// CHECK: memref.global "private" constant @small
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%[[W:.*]]: memref<?xi8> {vt.name = "weights"}, %[[X:.*]]: memref<64xf32>) -> memref<64xf32>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[V0:.*]] = memref.view %[[W]][%[[C0]]][] : memref<?xi8> to memref<64xf32>
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[V1:.*]] = memref.view %[[W]][%[[C256]]][] : memref<?xi8> to memref<10x10xf32>
// CHECK: memref.get_global @small
// CHECK: "test.use"(%[[V0]], %[[V1]]

// SMALL: bytes = 4 : i64, name = "small", offset = 704 : i64
// SMALL-SAME: vitc.weights_size = 708 : i64
module {
  memref.global "private" constant @w0 : memref<64xf32> = dense_resource<blob0>
  memref.global "private" constant @w1 : memref<10x10xf32> = dense<1.0>
  memref.global "private" constant @small : memref<f32> = dense<2.0>
  func.func @main(%x: memref<64xf32>) -> memref<64xf32> {
    %0 = memref.get_global @w0 : memref<64xf32>
    %1 = memref.get_global @w1 : memref<10x10xf32>
    %2 = memref.get_global @small : memref<f32>
    "test.use"(%0, %1, %2) : (memref<64xf32>, memref<10x10xf32>, memref<f32>) -> ()
    return %x : memref<64xf32>
  }
}
{-#
  dialect_resources: {
    builtin: {
      blob0: "0x04000000000000000000803F0000004000004040000080400000A0400000C0400000E0400000004100001041000020410000304100004041000050410000604100007041000080410000884100009041000098410000A0410000A8410000B0410000B8410000C0410000C8410000D0410000D8410000E0410000E8410000F0410000F84100000042000004420000084200000C4200001042000014420000184200001C4200002042000024420000284200002C4200003042000034420000384200003C4200004042000044420000484200004C4200005042000054420000584200005C4200006042000064420000684200006C4200007042000074420000784200007C42"
    }
  }
#-}

// -----

// No weights at all: @main still gets the leading weights argument, so the
// entry ABI is the same for every model.
// CHECK: module attributes {vitc.weights = [], vitc.weights_size = 0 : i64}
// CHECK-LABEL: func.func @main
// CHECK-SAME: (%{{.*}}: memref<?xi8> {vt.name = "weights"}, %{{.*}}: memref<2xf32> {vt.name = "x"})
func.func @main(%x: memref<2xf32> {vt.name = "x"}) -> memref<2xf32> {
  return %x : memref<2xf32>
}

// -----

// A global also used in a private function cannot be reached through a
// weights argument and stays a global; the private function gets none.
// CHECK: vitc.weights = []
// CHECK: memref.global "private" constant @shared
// CHECK-LABEL: func.func private @helper()
// CHECK: memref.get_global @shared
// CHECK-LABEL: func.func @main
// CHECK-SAME: memref<?xi8> {vt.name = "weights"}
// CHECK: memref.get_global @shared
memref.global "private" constant @shared : memref<128xf32> = dense<3.0>
func.func private @helper() -> memref<128xf32> {
  %0 = memref.get_global @shared : memref<128xf32>
  return %0 : memref<128xf32>
}
func.func @main() -> memref<128xf32> {
  %0 = memref.get_global @shared : memref<128xf32>
  %1 = call @helper() : () -> memref<128xf32>
  return %0 : memref<128xf32>
}

// -----

// Every public function is an entry (a training artifact's train_step and
// eval_step): each gets its own weights argument, and a global used by
// several of them is stored once and viewed in each. An unused global (a
// trainer's "init:" initial value) goes to the section too.
// CHECK: module attributes {vitc.weights = [{bytes = 512 : i64, name = "w", offset = 0 : i64, value = dense<1.000000e+00> : tensor<128xf32>}, {bytes = 256 : i64, name = "init:p", offset = 512 : i64, value = dense<2.000000e+00> : tensor<64xf32>}], vitc.weights_size = 768 : i64}
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: (%[[W1:.*]]: memref<?xi8> {vt.name = "weights"}, %{{.*}}: memref<64xf32> {vt.name = "p"}) -> memref<128xf32>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: memref.view %[[W1]][%{{.*}}][] : memref<?xi8> to memref<128xf32>
// CHECK-LABEL: func.func private @unused_helper
// CHECK-NOT: memref<?xi8>
// CHECK-LABEL: func.func @eval_step
// CHECK-SAME: (%[[W2:.*]]: memref<?xi8> {vt.name = "weights"}) -> memref<128xf32>
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: memref.view %[[W2]][%{{.*}}][] : memref<?xi8> to memref<128xf32>
memref.global "private" constant @w : memref<128xf32> = dense<1.0>
memref.global "private" constant @"init:p" : memref<64xf32> = dense<2.0>
func.func @train_step(%p: memref<64xf32> {vt.name = "p"}) -> memref<128xf32> {
  %0 = memref.get_global @w : memref<128xf32>
  return %0 : memref<128xf32>
}
func.func private @unused_helper(%x: memref<2xf32>) -> memref<2xf32> {
  return %x : memref<2xf32>
}
func.func @eval_step() -> memref<128xf32> {
  %0 = memref.get_global @w : memref<128xf32>
  return %0 : memref<128xf32>
}
