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

#endif // VITC_VT_INTERFACES
