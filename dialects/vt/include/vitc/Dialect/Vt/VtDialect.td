//===- VtDialect.td - the vt dialect ----------------------*- tablegen -*-===//
#ifndef VITC_VT_DIALECT
#define VITC_VT_DIALECT

include "mlir/IR/OpBase.td"

def Vt_Dialect : Dialect {
  let name = "vt";
  let cppNamespace = "::vitc::vt";
  let summary = "Graph-level tensor ops for vision models";
  let description = [{
    `vt` holds the graphs vitc compiles: value-semantics tensor ops at the level
    of the models (conv2d, matmul, layer_norm, softmax, pools, elementwise math,
    data movement). Result types are inferred where the operands determine
    them; dynamic dimensions (a symbolic batch) stay `?`. ONNX import targets
    this dialect, training/precision/sharding transform it, and the fusion pass
    groups it into `vt.fusion` kernels before lowering to linalg.
  }];
  let hasConstantMaterializer = 1;
}

class Vt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Vt_Dialect, mnemonic, traits>;

#endif // VITC_VT_DIALECT
