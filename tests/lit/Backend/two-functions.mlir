// A vt module with two public functions that share one weight (w = 0..63,
// 256 bytes, so it goes to the weights section) compiles to one artifact
// with two entries; vitc-run runs each with --function. Expected numbers are
// worked out by hand in the CHECK lines.
// RUN: rm -rf %t && mkdir -p %t
// RUN: vitc %s -o %t/two.vtc
// RUN: vitc-run %t/two.vtc --info | FileCheck %s --check-prefix=INFO
// INFO:      mode inference
// INFO-NEXT: function scale
// INFO-NEXT:   input x: f32 [-1, 64]
// INFO-NEXT:   output y: f32 [-1, 64]
// INFO-NEXT: function shift
// INFO-NEXT:   input x: f32 [2, 64]
// INFO-NEXT:   input s: f32 [64] role=param
// INFO-NEXT:   output y: f32 [2, 64]
// INFO-NEXT:   output z: f32 [2, 64]
// INFO-NEXT:   output s: f32 [64] role=param updates=s
// INFO-NOT: function

// x[n, i] = n + 1, s = 1.
// RUN: %python -c "import numpy as np; np.save('%t/x.npy', np.repeat(np.array([[1], [2]], np.float32), 64, 1)); np.save('%t/s.npy', np.ones(64, np.float32))"
// RUN: %python -c "import numpy as np; print(np.load('%t/x.npy')[:, :2].tolist())" | FileCheck %s --check-prefix=X
// X: {{\[}}[1.0, 1.0], [2.0, 2.0]]

// The first function is the default: y = x * w.
// RUN: vitc-run %t/two.vtc --input x=%t/x.npy --output-dir %t/scale
// RUN: vitc-run %t/two.vtc --function scale --input x=%t/x.npy --output-dir %t/scale2
// RUN: %python -c "import numpy as np; y = np.load('%t/scale/y.npy'); y2 = np.load('%t/scale2/y.npy'); print('scale', y.shape, y[0, :4].tolist(), y[1, -2:].tolist(), (y == y2).all())" | FileCheck %s --check-prefix=SCALE
// SCALE: scale (2, 64) [0.0, 1.0, 2.0, 3.0] [124.0, 126.0] True

// y = x + w, z = relu(x - w), s' = s + w.
// RUN: vitc-run %t/two.vtc --function shift --input x=%t/x.npy --input s=%t/s.npy --output-dir %t/shift
// RUN: %python -c "import numpy as np; d = '%t/shift/'; y, z, s = (np.load(d + n + '.npy') for n in 'yzs'); print('shift', y[1, -2:].tolist(), z[0, :3].tolist(), z[1, :4].tolist(), s[:3].tolist(), s[-1])" | FileCheck %s --check-prefix=SHIFT
// SHIFT: shift [64.0, 65.0] [1.0, 0.0, 0.0] [2.0, 1.0, 0.0, 0.0] [1.0, 2.0, 3.0] 64.0

// Errors name the function.
// RUN: not vitc-run %t/two.vtc --function nope --input x=%t/x.npy 2>&1 | FileCheck %s --check-prefix=NOFN
// NOFN: vitc-run: error: --function: the model has no function 'nope' (functions: scale, shift)
// RUN: not vitc-run %t/two.vtc --function shift --input x=%t/x.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: vitc-run: error: no value for input 's' [64] f32 (use --input s=FILE.npy)
// RUN: %python -c "import numpy as np; np.save('%t/x3.npy', np.ones((3, 64), np.float32))"
// RUN: not vitc-run %t/two.vtc --function shift --input x=%t/x3.npy --input s=%t/s.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: vitc-run: error: function 'shift': input 'x': expected shape [2, 64], got [3, 64]

func.func @scale(%x: tensor<?x64xf32> {vt.name = "x"})
    -> (tensor<?x64xf32> {vt.name = "y"}) {
  %w = vt.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]> : tensor<64xf32>
  %y = vt.mul %x, %w : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}

func.func @shift(%x: tensor<2x64xf32> {vt.name = "x"},
                 %s: tensor<64xf32> {vt.name = "s", vt.role = "param"})
    -> (tensor<2x64xf32> {vt.name = "y"}, tensor<2x64xf32> {vt.name = "z"},
        tensor<64xf32> {vt.name = "s", vt.role = "param", vt.updates = "s"}) {
  %w = vt.constant dense<[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0, 32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0, 48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]> : tensor<64xf32>
  %y = vt.add %x, %w : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  %d = vt.sub %x, %w : tensor<2x64xf32>, tensor<64xf32> -> tensor<2x64xf32>
  %z = vt.relu %d : tensor<2x64xf32>
  %s2 = vt.add %s, %w : tensor<64xf32>, tensor<64xf32> -> tensor<64xf32>
  return %y, %z, %s2 : tensor<2x64xf32>, tensor<2x64xf32>, tensor<64xf32>
}
