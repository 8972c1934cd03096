// RUN: vitc-opt %s -split-input-file -vt-append-loss | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vt-append-loss=label-smoothing=0.1 | FileCheck %s --check-prefix=SMOOTH
// RUN: vitc-opt %s -split-input-file -vt-append-loss=loss=mse | FileCheck %s --check-prefix=MSE
// RUN: vitc-opt %s -split-input-file -vt-append-loss=functions=train_step | FileCheck %s --check-prefix=ONLY

// The data argument is the first one without a role (weights come first,
// the dropout seed after); the label follows it. The logits result becomes
// (loss, correct); the other results stay after them.
// cross_entropy: -mean_n sum_c onehot(label) * log_softmax(logits), the
// one-hot a comparison of the [N, 1] labels with [[0, 1, 2]];
// correct: argmax(logits) == label, counted in i64.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
// CHECK-SAME:      %[[X:[a-z0-9]+]]: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
// CHECK-SAME:      %[[L:[a-z0-9]+]]: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<i64> {vt.name = "seed", vt.role = "seed"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"}, tensor<3xf32> {vt.name = "aux"})
// CHECK:         %[[LOGITS:.*]] = vt.matmul %[[X]], %[[W]]
// CHECK:         %[[AUX:.*]] = vt.constant dense<1.000000e+00> : tensor<3xf32>
// CHECK:         %[[LOGP:.*]] = vt.softmax %[[LOGITS]] {axis = 1 : i64, log = true} : tensor<?x3xf32>
// CHECK:         %[[IOTA:.*]] = vt.constant dense<{{\[\[}}0, 1, 2]]> : tensor<1x3xi64>
// CHECK:         %[[COL:.*]] = vt.constant dense<[-1, 1]> : tensor<2xi64>
// CHECK:         %[[LC:.*]] = vt.reshape %[[L]], %[[COL]] : tensor<?xi64>, tensor<2xi64> -> tensor<?x1xi64>
// CHECK:         %[[EQ:.*]] = vt.equal %[[LC]], %[[IOTA]] : tensor<?x1xi64>, tensor<1x3xi64> -> tensor<?x3xi1>
// CHECK:         %[[HOT:.*]] = vt.cast %[[EQ]] : tensor<?x3xi1> -> tensor<?x3xf32>
// CHECK-NEXT:    %[[P:.*]] = vt.mul %[[HOT]], %[[LOGP]]
// CHECK-NEXT:    %[[ROW:.*]] = vt.reduce_sum %[[P]] {axes = array<i64: 1>, keepdims = false} : tensor<?x3xf32> -> tensor<?xf32>
// CHECK-NEXT:    %[[MEAN:.*]] = vt.reduce_mean %[[ROW]] {axes = array<i64: 0>, keepdims = false} : tensor<?xf32> -> tensor<f32>
// CHECK-NEXT:    %[[M1:.*]] = vt.constant dense<-1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[LOSS:.*]] = vt.mul %[[MEAN]], %[[M1]]
// CHECK-NEXT:    %[[AM:.*]] = vt.argmax %[[LOGITS]] {axis = 1 : i64, keepdims = false} : tensor<?x3xf32> -> tensor<?xi64>
// CHECK-NEXT:    %[[HIT:.*]] = vt.equal %[[AM]], %[[L]] : tensor<?xi64>, tensor<?xi64> -> tensor<?xi1>
// CHECK-NEXT:    %[[HITS:.*]] = vt.cast %[[HIT]] : tensor<?xi1> -> tensor<?xi64>
// CHECK-NEXT:    %[[CORRECT:.*]] = vt.reduce_sum %[[HITS]] {axes = array<i64: 0>, keepdims = false} : tensor<?xi64> -> tensor<i64>
// CHECK-NEXT:    return %[[LOSS]], %[[CORRECT]], %[[AUX]] : tensor<f32>, tensor<i64>, tensor<3xf32>

// Label smoothing e = 0.1 over C = 3 classes: target = 0.9 onehot + 0.1 / 3.
// SMOOTH-LABEL: func.func @train_step(
// SMOOTH:         %[[HOT:.*]] = vt.cast %{{.*}} : tensor<?x3xi1> -> tensor<?x3xf32>
// SMOOTH-NEXT:    %[[KEEP:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// SMOOTH-NEXT:    %[[SCALED:.*]] = vt.mul %[[HOT]], %[[KEEP]]
// SMOOTH-NEXT:    %[[SPREAD:.*]] = vt.constant dense<0.0333333351> : tensor<f32>
// SMOOTH-NEXT:    %[[TARGET:.*]] = vt.add %[[SCALED]], %[[SPREAD]]
// SMOOTH-NEXT:    vt.mul %[[TARGET]], %{{.*}} : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>

// mse: the label has the logits' type; loss = mean over all elements of
// (logits - target)^2; correct compares the argmax of both.
// MSE-LABEL: func.func @train_step(
// MSE-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
// MSE-SAME:      %[[X:[a-z0-9]+]]: tensor<?x4xf32> {vt.name = "input", vt.role = "data"},
// MSE-SAME:      %[[T:[a-z0-9]+]]: tensor<?x3xf32> {vt.name = "label", vt.role = "label"},
// MSE-SAME:      %{{[a-z0-9]+}}: tensor<i64> {vt.name = "seed", vt.role = "seed"})
// MSE-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"}, tensor<3xf32> {vt.name = "aux"})
// MSE:           %[[LOGITS:.*]] = vt.matmul %[[X]], %[[W]]
// MSE:           %[[D:.*]] = vt.sub %[[LOGITS]], %[[T]] : tensor<?x3xf32>, tensor<?x3xf32> -> tensor<?x3xf32>
// MSE-NEXT:      %[[SQ:.*]] = vt.mul %[[D]], %[[D]]
// MSE-NEXT:      %[[LOSS:.*]] = vt.reduce_mean %[[SQ]] {axes = array<i64: 0, 1>, keepdims = false} : tensor<?x3xf32> -> tensor<f32>
// MSE-NEXT:      %[[A:.*]] = vt.argmax %[[LOGITS]] {axis = 1 : i64, keepdims = false}
// MSE-NEXT:      %[[B:.*]] = vt.argmax %[[T]] {axis = 1 : i64, keepdims = false}
// MSE-NEXT:      %[[HIT:.*]] = vt.equal %[[A]], %[[B]]
// MSE-NEXT:      %[[HITS:.*]] = vt.cast %[[HIT]] : tensor<?xi1> -> tensor<?xi64>
// MSE-NEXT:      %[[CORRECT:.*]] = vt.reduce_sum %[[HITS]]
// MSE-NEXT:      return %[[LOSS]], %[[CORRECT]], %{{.*}} : tensor<f32>, tensor<i64>, tensor<3xf32>
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "fc.weight", vt.role = "param"},
                      %x: tensor<?x4xf32> {vt.name = "input"},
                      %seed: tensor<i64> {vt.name = "seed", vt.role = "seed"})
    -> (tensor<?x3xf32> {vt.name = "logits"}, tensor<3xf32> {vt.name = "aux"}) {
  %y = vt.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32> -> tensor<?x3xf32>
  %c = vt.constant dense<1.0> : tensor<3xf32>
  return %y, %c : tensor<?x3xf32>, tensor<3xf32>
}

// -----

// A static batch gives a static label; only the first argument without a
// role is data (the second image stays as it is). e / C = 0.1 / 10. Every
// function is rewritten by default; functions=train_step leaves @features.
// CHECK-LABEL: func.func @features(
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"})
// CHECK:       func.func @train_step(
// CHECK-SAME:      %{{.*}}: tensor<8x10xf32> {vt.name = "image", vt.role = "data"},
// CHECK-SAME:      %{{.*}}: tensor<8xi64> {vt.name = "label", vt.role = "label"},
// CHECK-SAME:      %{{.*}}: tensor<8x10xf32> {vt.name = "other"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"})
// CHECK:         vt.constant dense<{{\[\[}}0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]> : tensor<1x10xi64>
// CHECK:         vt.reshape %{{.*}}, %{{.*}} : tensor<8xi64>, tensor<2xi64> -> tensor<8x1xi64>

// SMOOTH-LABEL: func.func @features(
// SMOOTH:       func.func @train_step(
// SMOOTH:         vt.constant dense<0.899999976> : tensor<f32>
// SMOOTH:         vt.constant dense<0.00999999977> : tensor<f32>

// MSE-LABEL: func.func @features(
// MSE:       func.func @train_step(
// MSE-SAME:      %{{.*}}: tensor<8x10xf32> {vt.name = "label", vt.role = "label"},

// ONLY-LABEL: func.func @features(
// ONLY-SAME:      -> (tensor<8x10xf32> {vt.name = "logits"})
// ONLY:       func.func @train_step(
// ONLY-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"})
func.func @features(%x: tensor<8x10xf32> {vt.name = "image"}) -> (tensor<8x10xf32> {vt.name = "logits"}) {
  %y = vt.relu %x : tensor<8x10xf32>
  return %y : tensor<8x10xf32>
}
func.func @train_step(%x: tensor<8x10xf32> {vt.name = "image"}, %z: tensor<8x10xf32> {vt.name = "other"})
    -> (tensor<8x10xf32> {vt.name = "logits"}) {
  %y = vt.add %x, %z : tensor<8x10xf32>, tensor<8x10xf32> -> tensor<8x10xf32>
  return %y : tensor<8x10xf32>
}
