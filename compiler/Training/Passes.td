//===- Passes.td - training stage (vt -> vt) ---------------*- tablegen -*-===//
//
// The training stage turns forward graphs into a training step: parameters,
// loss, backward graph, optimizer update. Pipeline order:
//   vt-promote-params, vt-append-loss, [graph: autocast, shapes,
//   decomposition], vt-autodiff, vt-apply-optimizer
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_TRAINING_PASSES
#define VITC_COMPILER_TRAINING_PASSES

include "mlir/Pass/PassBase.td"

def VtPromoteParams : Pass<"vt-promote-params", "mlir::ModuleOp"> {
  let summary = "Turn named float weights into function arguments";
  let description = [{
    The first step of compiling a training step: every named float
    `vt.constant` (an ONNX float initializer) of the given functions becomes
    a leading function argument, `vt.name` = its name, so that parameters
    are explicit values that autodiff differentiates, the optimizer updates
    and a partitioner can later shard. Roles (`vt.role`): "buffer" for a
    weight that some function result replaces (`vt.updates`: BatchNorm
    running statistics) or that matches a `freeze` pattern, "param"
    otherwise. Every function gets the same arguments in the same order
    (params, then buffers), whether it uses them or not, so a trainer feeds
    all functions from one set of tensors. The initial values are kept in
    the module attribute `vitc.initial_values` (name -> elements).
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to rewrite (default: every defined function)">,
    ListOption<"freeze", "freeze", "std::string",
               "Regular expressions (llvm::Regex, whole name) of weights to "
               "keep fixed; each must match at least one weight">,
  ];
}

def VtAppendLoss : Pass<"vt-append-loss", "mlir::ModuleOp"> {
  let summary = "Replace a function's logits result by the loss and the hits";
  let description = [{
    @F(..., data, ...) -> (logits [N, C], others...) becomes
    @F(..., data, label, ...) -> (loss, correct, others...): `label` (role
    "label") is added after the data argument (role "data": the first
    argument without a role), `loss` (f32 scalar, mean over the batch) and
    `correct` (i64 scalar, top-1 hits; first index wins ties, as argmax)
    replace the logits.
    - cross_entropy: softmax cross-entropy on i64 class ids [N], with label
      smoothing e: the target is (1 - e) one-hot + e / C (PyTorch's
      CrossEntropyLoss(label_smoothing=e)).
    - mse: mean squared error against f32 targets shaped like the logits;
      `correct` counts rows whose argmax matches the target's argmax.
  }];
  let options = [
    ListOption<"functions", "functions", "std::string",
               "Functions to rewrite (default: every defined function)">,
    Option<"loss", "loss", "std::string", "\"cross_entropy\"",
           "cross_entropy or mse">,
    Option<"labelSmoothing", "label-smoothing", "double", "0.0",
           "Label smoothing of cross_entropy, in [0, 1)">,
  ];
}

def VtAutodiff : Pass<"vt-autodiff", "mlir::ModuleOp"> {
  let summary = "Reverse-mode differentiation of vt functions";
  let description = [{
    For a function @F whose first result is a float scalar (rank 0 or one
    element), adds @F_grad with F's arguments and results followed by the
    gradient of result 0 with respect to each differentiated argument (by
    default every float tensor argument), named `grad_<vt.name>`. The
    backward graph is built by reverse traversal: each op on a path from a
    differentiated argument to result 0 writes its vector-Jacobian product
    through GradientOpInterface, and gradients of values used several times
    are summed with vt.add. An op on that path without a rule is an error at
    the op. Composite ops without rules (layer_norm) differentiate once
    vt-decompose has run.
  }];
  let options = [
    Option<"function", "function", "std::string", "\"\"",
           "The function to differentiate (default: every defined function)">,
    ListOption<"wrt", "wrt", "unsigned",
               "Indices of the arguments to differentiate (default: every "
               "float tensor argument)">,
    Option<"suffix", "suffix", "std::string", "\"_grad\"",
           "Appended to F's name to name the gradient function">,
    Option<"replace", "replace", "bool", "false",
           "Erase F and give the gradient function F's name (for drivers "
           "that compile one entry point)">,
    Option<"wrtRole", "wrt-role", "std::string", "\"\"",
           "Differentiate the arguments whose vt.role is this (e.g. param), "
           "instead of `wrt`">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::tensor::TensorDialect"];
}

def VtApplyOptimizer : Pass<"vt-apply-optimizer", "mlir::ModuleOp"> {
  let summary = "Append gradient clipping and the optimizer update";
  let description = [{
    Runs on the output of vt-autodiff over a function whose results are
    (loss, correct, others..., grad_<p> for each "param" argument p, in
    argument order). The gradients become, in the same function:
    - `grad_norm`, the global L2 norm of all gradients (f32 scalar, before
      clipping), and clipping by `clip-norm` (PyTorch clip_grad_norm_:
      g *= min(1, clip / (norm + 1e-6))) when it is > 0;
    - the update of every param, with its optimizer state as new arguments
      (role "opt_state", zero at step 1) and new results, PyTorch's formulas:
      AdamW (decoupled weight decay; state adamw_m.<p>, adamw_v.<p>) or SGD
      (momentum, Nesterov, L2 weight decay; state sgd_momentum.<p>).
    New arguments `lr` and `step` (f32 scalars: the trainer owns the
    schedule and the 1-based step count used by Adam's bias correction).
    Arguments become: params, buffers, opt_state, data, label, lr, step,
    then any others (seed); results: loss, correct, grad_norm, then the new
    params, buffers and opt_state, each naming the input it replaces in
    `vt.updates`. The update is elementwise vt math: it fuses and lowers
    like the rest of the step.
  }];
  let options = [
    Option<"function", "function", "std::string", "\"train_step\"",
           "The function to rewrite">,
    Option<"optimizer", "optimizer", "std::string", "\"adamw\"",
           "adamw or sgd">,
    Option<"weightDecay", "weight-decay", "double", "0.01",
           "Weight decay (AdamW: decoupled; SGD: added to the gradient)">,
    Option<"momentum", "momentum", "double", "0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", "false", "SGD Nesterov momentum">,
    Option<"beta1", "beta1", "double", "0.9", "AdamW beta1">,
    Option<"beta2", "beta2", "double", "0.999", "AdamW beta2">,
    Option<"epsilon", "epsilon", "double", "1e-8", "AdamW epsilon">,
    Option<"clipNorm", "clip-norm", "double", "0.0",
           "Clip gradients to this global L2 norm (0: off)">,
  ];
}

#endif // VITC_COMPILER_TRAINING_PASSES
