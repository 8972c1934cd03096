//===- VtInterfaces.td - cross-cutting op interfaces -----*- tablegen -*-===//
#ifndef VITC_VT_INTERFACES
#define VITC_VT_INTERFACES

include "mlir/IR/OpBase.td"

def Vt_FusionKindOpInterface : OpInterface<"FusionKindOpInterface"> {
  let cppNamespace = "::vitc::vt";
  let description = [{
    How an op takes part in kernel fusion. Elementwise ops fuse with anything;
    reductions end a fused region's elementwise prologue and may take an
    elementwise epilogue; anchors (matmul, conv, pools) run as their own
    kernel or library call; movement ops (transpose, slice, ...) fuse as
    index remapping into consumers.
  }];
  let methods = [
    InterfaceMethod<"The op's fusion kind.", "::vitc::vt::FusionKind",
                    "getFusionKind", (ins), [{}], [{
      return ::vitc::vt::fusionKindFromTraits($_op.getOperation());
    }]>,
  ];
}

def Vt_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::vitc::vt";
  let description = [{
    Reverse-mode differentiation (`vt-autodiff`): an op writes its
    vector-Jacobian product in vt ops, so the backward graph is ordinary vt
    that the graph passes fuse and lower like the forward one. Rules live in
    dialects/vt/lib/gradients/, one file per op family.
  }];
  let methods = [
    InterfaceMethod<[{
      Builds, at `b`'s insertion point, the gradient of each operand from
      `resultGrads` (one per result, null for a result that does not reach
      the differentiated output). Fills `operandGrads` with one value per
      operand, of that operand's type, or null where the operand is not
      differentiable (integer indices, shapes) or its gradient is zero
      almost everywhere. Fails with a diagnostic at the op for a case the
      rule does not cover.
    }], "::llvm::LogicalResult", "buildVjp",
    (ins "::mlir::OpBuilder &":$b, "::mlir::ValueRange":$resultGrads,
         "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // VITC_VT_INTERFACES
