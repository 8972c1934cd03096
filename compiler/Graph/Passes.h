//===- Passes.h - graph stage: passes and pipeline ---------------*- C++ -*-===//
//
// vt -> vt: shape inference, decomposition of composite ops, bf16 autocast
// and fusion into kernels (vt.fusion). Passes.td in this folder declares the
// passes, one per file.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_GRAPH_PASSES_H
#define VITC_COMPILER_GRAPH_PASSES_H

#include "compiler/PipelineOptions.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace vitc {

#define GEN_PASS_DECL
#include "compiler/Graph/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/Graph/Passes.h.inc"

/// vt-decompose's rewrites (softmax, layer_norm, batch_norm, gelu, ...),
/// reused by the lowering so that it also accepts undecomposed graphs.
void populateVtDecomposePatterns(mlir::RewritePatternSet &patterns);

/// Shapes refined, exporter shape arithmetic folded, composite ops
/// decomposed into the core that fusion and autodiff understand (part of
/// the graph pipeline, and of the training pipeline before autodiff).
void addShapesAndDecomposition(mlir::OpPassManager &pm);

/// The graph stage (`vitc-graph`): [bf16 autocast], shapes, decomposition,
/// fusion.
void buildGraphPipeline(mlir::OpPassManager &pm, const PipelineOptions &opts);

/// Registers the stage's passes and its pipeline, vitc-graph.
void registerGraphPipeline();

} // namespace vitc

#endif // VITC_COMPILER_GRAPH_PASSES_H
