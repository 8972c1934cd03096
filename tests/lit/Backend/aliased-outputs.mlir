// Two outputs that are the same value share one allocation of the compiled
// code: the runtime hands it to the first and copies it for the second, so
// the caller frees each exactly once (no double free).
// RUN: rm -rf %t && mkdir -p %t
// RUN: vitc %s -o %t/dup.vtc
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.linspace(-2, 2, 256, dtype=np.float32).reshape(4, 64))"
// RUN: vitc-run %t/dup.vtc --input x=%t/x.npy --output-dir %t/out
// RUN: %python -c "import numpy as np; x = np.load('%t/x.npy'); a, b = np.load('%t/out/a.npy'), np.load('%t/out/b.npy'); print('relu', (a == np.maximum(x, 0)).all(), (b == a).all())" | FileCheck %s
// CHECK: relu True True

func.func @dup(%x: tensor<4x64xf32> {vt.name = "x"})
    -> (tensor<4x64xf32> {vt.name = "a"}, tensor<4x64xf32> {vt.name = "b"}) {
  %y = vt.relu %x : tensor<4x64xf32>
  return %y, %y : tensor<4x64xf32>, tensor<4x64xf32>
}
