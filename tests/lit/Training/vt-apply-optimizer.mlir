// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer | FileCheck %s
// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer="beta1=0.8 beta2=0.95 epsilon=1e-6 weight-decay=0" | FileCheck %s --check-prefix=BETAS
// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer="optimizer=sgd weight-decay=0" | FileCheck %s --check-prefix=SGD
// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer="optimizer=sgd momentum=0.9" | FileCheck %s --check-prefix=MOMENTUM
// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer="optimizer=sgd momentum=0.9 nesterov=true weight-decay=0.001" | FileCheck %s --check-prefix=NESTEROV
// RUN: vitc-opt %s -split-input-file -vt-apply-optimizer="clip-norm=2.5" | FileCheck %s --check-prefix=CLIP

// The output of vt-autodiff on a step with two params (w, b), a buffer (a
// running statistic the step replaces: "rm") and a seed. The gradients stand
// in as w * w and -b.
//
// AdamW (default: beta1 0.9, beta2 0.999, epsilon 1e-8, weight decay 0.01):
// the state arguments come before the data, grouped by param; lr and step
// after the label, the seed last. Results: loss, correct, grad_norm, the new
// params, the buffer, the new state, each naming what it replaces.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
// CHECK-SAME:      %[[B:[a-z0-9]+]]: tensor<3xf32> {vt.name = "b", vt.role = "param"},
// CHECK-SAME:      %[[RM:[a-z0-9]+]]: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
// CHECK-SAME:      %[[MW:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "adamw_m.w", vt.role = "opt_state"},
// CHECK-SAME:      %[[VW:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "adamw_v.w", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "adamw_m.b", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "adamw_v.b", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?x4xf32> {vt.name = "x", vt.role = "data"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// CHECK-SAME:      %[[LR:[a-z0-9]+]]: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// CHECK-SAME:      %[[STEP:[a-z0-9]+]]: tensor<f32> {vt.name = "step", vt.role = "step"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<i64> {vt.name = "seed", vt.role = "seed"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
// CHECK-SAME:          tensor<i64> {vt.name = "correct", vt.role = "correct"},
// CHECK-SAME:          tensor<f32> {vt.name = "grad_norm", vt.role = "grad_norm"},
// CHECK-SAME:          tensor<4x3xf32> {vt.name = "w", vt.role = "param", vt.updates = "w"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "b", vt.role = "param", vt.updates = "b"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "rm", vt.role = "buffer", vt.updates = "rm"},
// CHECK-SAME:          tensor<4x3xf32> {vt.name = "adamw_m.w", vt.role = "opt_state", vt.updates = "adamw_m.w"},
// CHECK-SAME:          tensor<4x3xf32> {vt.name = "adamw_v.w", vt.role = "opt_state", vt.updates = "adamw_v.w"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "adamw_m.b", vt.role = "opt_state", vt.updates = "adamw_m.b"},
// CHECK-SAME:          tensor<3xf32> {vt.name = "adamw_v.b", vt.role = "opt_state", vt.updates = "adamw_v.b"})
// CHECK:         %[[LOSS:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[CORRECT:.*]] = vt.constant dense<2> : tensor<i64>
// CHECK-NEXT:    %[[GW:.*]] = vt.mul %[[W]], %[[W]]
// CHECK-NEXT:    %[[GB:.*]] = vt.neg %[[B]]
// grad_norm = sqrt(sum gw^2 + sum gb^2)
// CHECK-NEXT:    %[[SW:.*]] = vt.mul %[[GW]], %[[GW]]
// CHECK-NEXT:    %[[NW:.*]] = vt.reduce_sum %[[SW]] {axes = array<i64: 0, 1>, keepdims = false} : tensor<4x3xf32> -> tensor<f32>
// CHECK-NEXT:    %[[SB:.*]] = vt.mul %[[GB]], %[[GB]]
// CHECK-NEXT:    %[[NB:.*]] = vt.reduce_sum %[[SB]] {axes = array<i64: 0>, keepdims = false} : tensor<3xf32> -> tensor<f32>
// CHECK-NEXT:    %[[N2:.*]] = vt.add %[[NW]], %[[NB]]
// CHECK-NEXT:    %[[NORM:.*]] = vt.sqrt %[[N2]] : tensor<f32>
// m' = 0.9 m + 0.1 g
// CHECK-NEXT:    %[[B1:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// CHECK-NEXT:    %[[M0:.*]] = vt.mul %[[MW]], %[[B1]]
// CHECK-NEXT:    %[[C1:.*]] = vt.constant dense<1.000000e-01> : tensor<f32>
// CHECK-NEXT:    %[[M1:.*]] = vt.mul %[[GW]], %[[C1]]
// CHECK-NEXT:    %[[M:.*]] = vt.add %[[M0]], %[[M1]]
// v' = 0.999 v + 0.001 g^2
// CHECK-NEXT:    %[[B2:.*]] = vt.constant dense<9.990000e-01> : tensor<f32>
// CHECK-NEXT:    %[[V0:.*]] = vt.mul %[[VW]], %[[B2]]
// CHECK-NEXT:    %[[G2:.*]] = vt.mul %[[GW]], %[[GW]]
// CHECK-NEXT:    %[[C2:.*]] = vt.constant dense<1.000000e-03> : tensor<f32>
// CHECK-NEXT:    %[[V1:.*]] = vt.mul %[[G2]], %[[C2]]
// CHECK-NEXT:    %[[V:.*]] = vt.add %[[V0]], %[[V1]]
// step size = lr / (1 - 0.9^step)
// CHECK-NEXT:    %[[ONE:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[B1B:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// CHECK-NEXT:    %[[B1T:.*]] = vt.pow %[[B1B]], %[[STEP]]
// CHECK-NEXT:    %[[BC1:.*]] = vt.sub %[[ONE]], %[[B1T]]
// CHECK-NEXT:    %[[SS:.*]] = vt.div %[[LR]], %[[BC1]]
// denom = sqrt(v') / sqrt(1 - 0.999^step) + 1e-8
// CHECK-NEXT:    %[[SV:.*]] = vt.sqrt %[[V]] : tensor<4x3xf32>
// CHECK-NEXT:    %[[ONE2:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[B2B:.*]] = vt.constant dense<9.990000e-01> : tensor<f32>
// CHECK-NEXT:    %[[B2T:.*]] = vt.pow %[[B2B]], %[[STEP]]
// CHECK-NEXT:    %[[BC2:.*]] = vt.sub %[[ONE2]], %[[B2T]]
// CHECK-NEXT:    %[[SBC2:.*]] = vt.sqrt %[[BC2]]
// CHECK-NEXT:    %[[VH:.*]] = vt.div %[[SV]], %[[SBC2]]
// CHECK-NEXT:    %[[EPS:.*]] = vt.constant dense<9.99999993E-9> : tensor<f32>
// CHECK-NEXT:    %[[DEN:.*]] = vt.add %[[VH]], %[[EPS]]
// decoupled weight decay: w (1 - 0.01 lr), then w - step size * m' / denom
// CHECK-NEXT:    %[[ONE3:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CHECK-NEXT:    %[[WD:.*]] = vt.constant dense<0.00999999977> : tensor<f32>
// CHECK-NEXT:    %[[LWD:.*]] = vt.mul %[[LR]], %[[WD]]
// CHECK-NEXT:    %[[KEEP:.*]] = vt.sub %[[ONE3]], %[[LWD]]
// CHECK-NEXT:    %[[DECAYED:.*]] = vt.mul %[[W]], %[[KEEP]]
// CHECK-NEXT:    %[[RATIO:.*]] = vt.div %[[M]], %[[DEN]]
// CHECK-NEXT:    %[[UPD:.*]] = vt.mul %[[SS]], %[[RATIO]]
// CHECK-NEXT:    %[[NEWW:.*]] = vt.sub %[[DECAYED]], %[[UPD]]
// The same for b, from its gradient.
// CHECK:         vt.mul %{{.*}}, %[[GB]]
// CHECK:         %[[NEWB:.*]] = vt.sub %{{.*}}, %{{.*}} : tensor<3xf32>, tensor<3xf32>
// CHECK-NEXT:    return %[[LOSS]], %[[CORRECT]], %[[NORM]], %[[NEWW]], %[[NEWB]], %[[RM]], %[[M]], %[[V]], %{{.*}}, %{{.*}} :

// Other hyperparameters; no weight decay: no decay term at all.
// BETAS-LABEL: func.func @train_step(
// BETAS:         vt.constant dense<8.000000e-01> : tensor<f32>
// BETAS:         vt.constant dense<2.000000e-01> : tensor<f32>
// BETAS:         vt.constant dense<0.949999988> : tensor<f32>
// BETAS:         vt.constant dense<5.000000e-02> : tensor<f32>
// BETAS:         vt.constant dense<9.99999997E-7> : tensor<f32>
// BETAS-NOT:     vt.constant dense<0.00999999977>
// BETAS:         %[[NEWW:.*]] = vt.sub %arg0, %{{.*}} : tensor<4x3xf32>, tensor<4x3xf32>
// BETAS:         return

// Plain sgd has no state: p - lr g.
// SGD-LABEL: func.func @train_step(
// SGD-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
// SGD-SAME:      %[[B:[a-z0-9]+]]: tensor<3xf32> {vt.name = "b", vt.role = "param"},
// SGD-SAME:      %[[RM:[a-z0-9]+]]: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<?x4xf32> {vt.name = "x", vt.role = "data"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// SGD-SAME:      %[[LR:[a-z0-9]+]]: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "step", vt.role = "step"},
// SGD-SAME:      %{{[a-z0-9]+}}: tensor<i64> {vt.name = "seed", vt.role = "seed"})
// SGD-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"}, tensor<f32> {vt.name = "grad_norm", vt.role = "grad_norm"}, tensor<4x3xf32> {vt.name = "w", vt.role = "param", vt.updates = "w"}, tensor<3xf32> {vt.name = "b", vt.role = "param", vt.updates = "b"}, tensor<3xf32> {vt.name = "rm", vt.role = "buffer", vt.updates = "rm"})
// SGD:           %[[GW:.*]] = vt.mul %[[W]], %[[W]]
// SGD-NEXT:      %[[GB:.*]] = vt.neg %[[B]]
// SGD:           %[[NORM:.*]] = vt.sqrt
// SGD-NEXT:      %[[DW:.*]] = vt.mul %[[LR]], %[[GW]]
// SGD-NEXT:      %[[NEWW:.*]] = vt.sub %[[W]], %[[DW]]
// SGD-NEXT:      %[[DB:.*]] = vt.mul %[[LR]], %[[GB]]
// SGD-NEXT:      %[[NEWB:.*]] = vt.sub %[[B]], %[[DB]]
// SGD-NEXT:      return %{{.*}}, %{{.*}}, %[[NORM]], %[[NEWW]], %[[NEWB]], %[[RM]] :

// SGD with momentum (and the default weight decay 0.01, added to the
// gradient): buf' = 0.9 buf + g; p - lr buf'.
// MOMENTUM-LABEL: func.func @train_step(
// MOMENTUM-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
// MOMENTUM-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "b", vt.role = "param"},
// MOMENTUM-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
// MOMENTUM-SAME:      %[[BUF:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "sgd_momentum.w", vt.role = "opt_state"},
// MOMENTUM-SAME:      %{{[a-z0-9]+}}: tensor<3xf32> {vt.name = "sgd_momentum.b", vt.role = "opt_state"},
// MOMENTUM-SAME:      %{{[a-z0-9]+}}: tensor<?x4xf32> {vt.name = "x", vt.role = "data"},
// MOMENTUM-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// MOMENTUM-SAME:      %[[LR:[a-z0-9]+]]: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// MOMENTUM-SAME:      tensor<4x3xf32> {vt.name = "sgd_momentum.w", vt.role = "opt_state", vt.updates = "sgd_momentum.w"}, tensor<3xf32> {vt.name = "sgd_momentum.b", vt.role = "opt_state", vt.updates = "sgd_momentum.b"})
// MOMENTUM:           %[[GW:.*]] = vt.mul %[[W]], %[[W]]
// MOMENTUM:           vt.sqrt
// MOMENTUM-NEXT:      %[[WD:.*]] = vt.constant dense<0.00999999977> : tensor<f32>
// MOMENTUM-NEXT:      %[[DECAY:.*]] = vt.mul %[[W]], %[[WD]]
// MOMENTUM-NEXT:      %[[G:.*]] = vt.add %[[GW]], %[[DECAY]]
// MOMENTUM-NEXT:      %[[MU:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// MOMENTUM-NEXT:      %[[B0:.*]] = vt.mul %[[BUF]], %[[MU]]
// MOMENTUM-NEXT:      %[[NEWBUF:.*]] = vt.add %[[B0]], %[[G]]
// MOMENTUM-NEXT:      %[[DW:.*]] = vt.mul %[[LR]], %[[NEWBUF]]
// MOMENTUM-NEXT:      %[[NEWW:.*]] = vt.sub %[[W]], %[[DW]]
// MOMENTUM:           return %{{.*}}, %{{.*}}, %{{.*}}, %[[NEWW]], %{{.*}}, %{{.*}}, %[[NEWBUF]], %{{.*}} :

// Nesterov: p - lr (g + 0.9 buf').
// NESTEROV-LABEL: func.func @train_step(
// NESTEROV-SAME:      %[[W:[a-z0-9]+]]: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
// NESTEROV:           %[[WD:.*]] = vt.constant dense<1.000000e-03> : tensor<f32>
// NESTEROV-NEXT:      %[[DECAY:.*]] = vt.mul %[[W]], %[[WD]]
// NESTEROV-NEXT:      %[[G:.*]] = vt.add %{{.*}}, %[[DECAY]]
// NESTEROV-NEXT:      %[[MU:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// NESTEROV-NEXT:      %[[B0:.*]] = vt.mul %{{.*}}, %[[MU]]
// NESTEROV-NEXT:      %[[NEWBUF:.*]] = vt.add %[[B0]], %[[G]]
// NESTEROV-NEXT:      %[[MU2:.*]] = vt.constant dense<0.899999976> : tensor<f32>
// NESTEROV-NEXT:      %[[LOOK:.*]] = vt.mul %[[NEWBUF]], %[[MU2]]
// NESTEROV-NEXT:      %[[NG:.*]] = vt.add %[[G]], %[[LOOK]]
// NESTEROV-NEXT:      %[[DW:.*]] = vt.mul %{{.*}}, %[[NG]]
// NESTEROV-NEXT:      %[[NEWW:.*]] = vt.sub %[[W]], %[[DW]]
// NESTEROV:           return %{{.*}}, %{{.*}}, %{{.*}}, %[[NEWW]], %{{.*}}, %{{.*}}, %[[NEWBUF]], %{{.*}} :

// Clipping (torch.nn.utils.clip_grad_norm_): the gradients are scaled by
// min(1, 2.5 / (norm + 1e-6)) before the update; grad_norm is the norm
// before clipping.
// CLIP-LABEL: func.func @train_step(
// CLIP:         %[[GW:.*]] = vt.mul %arg0, %arg0
// CLIP-NEXT:    %[[GB:.*]] = vt.neg %arg1
// CLIP:         %[[NORM:.*]] = vt.sqrt %{{.*}} : tensor<f32>
// CLIP-NEXT:    %[[MAX:.*]] = vt.constant dense<2.500000e+00> : tensor<f32>
// CLIP-NEXT:    %[[TINY:.*]] = vt.constant dense<9.99999997E-7> : tensor<f32>
// CLIP-NEXT:    %[[NT:.*]] = vt.add %[[NORM]], %[[TINY]]
// CLIP-NEXT:    %[[Q:.*]] = vt.div %[[MAX]], %[[NT]]
// CLIP-NEXT:    %[[ONE:.*]] = vt.constant dense<1.000000e+00> : tensor<f32>
// CLIP-NEXT:    %[[COEF:.*]] = vt.min %[[Q]], %[[ONE]]
// CLIP-NEXT:    %[[CW:.*]] = vt.mul %[[GW]], %[[COEF]]
// CLIP-NEXT:    %[[CB:.*]] = vt.mul %[[GB]], %[[COEF]]
// CLIP:         vt.mul %[[CW]], %{{.*}}
// CLIP:         vt.mul %[[CB]], %{{.*}}
// CLIP:         return %{{.*}}, %{{.*}}, %[[NORM]],
func.func @train_step(%w: tensor<4x3xf32> {vt.name = "w", vt.role = "param"},
                      %b: tensor<3xf32> {vt.name = "b", vt.role = "param"},
                      %rm: tensor<3xf32> {vt.name = "rm", vt.role = "buffer"},
                      %x: tensor<?x4xf32> {vt.name = "x", vt.role = "data"},
                      %label: tensor<?xi64> {vt.name = "label", vt.role = "label"},
                      %seed: tensor<i64> {vt.name = "seed", vt.role = "seed"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"},
        tensor<3xf32> {vt.name = "rm", vt.role = "buffer", vt.updates = "rm"},
        tensor<4x3xf32> {vt.name = "grad_w"},
        tensor<3xf32> {vt.name = "grad_b"}) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  %gw = vt.mul %w, %w : tensor<4x3xf32>, tensor<4x3xf32> -> tensor<4x3xf32>
  %gb = vt.neg %b : tensor<3xf32>
  return %loss, %correct, %rm, %gw, %gb : tensor<f32>, tensor<i64>, tensor<3xf32>, tensor<4x3xf32>, tensor<3xf32>
}

// -----

// A large gradient (128 x 128) is summed in two stages for the norm, rows
// first, so that the f32 sum stays close to PyTorch's; a frozen weight
// (buffer) gets no state and no update. Without a seed, lr and step are last.
// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<128x128xf32> {vt.name = "embed", vt.role = "param"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<128xf32> {vt.name = "frozen", vt.role = "buffer"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<128x128xf32> {vt.name = "adamw_m.embed", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<128x128xf32> {vt.name = "adamw_v.embed", vt.role = "opt_state"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?x128xf32> {vt.name = "x", vt.role = "data"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<?xi64> {vt.name = "label", vt.role = "label"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "lr", vt.role = "lr"},
// CHECK-SAME:      %{{[a-z0-9]+}}: tensor<f32> {vt.name = "step", vt.role = "step"})
// CHECK-SAME:      -> (tensor<f32> {vt.name = "loss", vt.role = "loss"}, tensor<i64> {vt.name = "correct", vt.role = "correct"}, tensor<f32> {vt.name = "grad_norm", vt.role = "grad_norm"}, tensor<128x128xf32> {vt.name = "embed", vt.role = "param", vt.updates = "embed"}, tensor<128x128xf32> {vt.name = "adamw_m.embed", {{.*}}}, tensor<128x128xf32> {vt.name = "adamw_v.embed", {{.*}}})
// CHECK:         %[[SQ:.*]] = vt.mul %[[G:.*]], %[[G]] : tensor<128x128xf32>, tensor<128x128xf32>
// CHECK-NEXT:    %[[ROWS:.*]] = vt.reduce_sum %[[SQ]] {axes = array<i64: 1>, keepdims = false} : tensor<128x128xf32> -> tensor<128xf32>
// CHECK-NEXT:    %[[ALL:.*]] = vt.reduce_sum %[[ROWS]] {axes = array<i64: 0>, keepdims = false} : tensor<128xf32> -> tensor<f32>
// CHECK-NEXT:    vt.sqrt %[[ALL]] : tensor<f32>
func.func @train_step(%e: tensor<128x128xf32> {vt.name = "embed", vt.role = "param"},
                      %f: tensor<128xf32> {vt.name = "frozen", vt.role = "buffer"},
                      %x: tensor<?x128xf32> {vt.name = "x", vt.role = "data"},
                      %label: tensor<?xi64> {vt.name = "label", vt.role = "label"})
    -> (tensor<f32> {vt.name = "loss", vt.role = "loss"},
        tensor<i64> {vt.name = "correct", vt.role = "correct"},
        tensor<128x128xf32> {vt.name = "grad_embed"}) {
  %loss = vt.constant dense<1.0> : tensor<f32>
  %correct = vt.constant dense<2> : tensor<i64>
  %g = vt.mul %e, %f : tensor<128x128xf32>, tensor<128xf32> -> tensor<128x128xf32>
  return %loss, %correct, %g : tensor<f32>, tensor<i64>, tensor<128x128xf32>
}
