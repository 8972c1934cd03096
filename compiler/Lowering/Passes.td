//===- Passes.td - lowering stage --------------------------*- tablegen -*-===//
//
// The target-independent lowering: vt -> linalg on tensors -> one-shot
// bufferization -> memrefs with the weights externalised and a memory plan.
// The codegen target adds its library calls after bufferization (a hook,
// compiler/Lowering/LibraryCalls.h). Pipeline order:
//   convert-vt-to-linalg, vitc-scalarize-shape-tensors,
//   vitc-fuse-elementwise, vitc-clone-fill-inits,
//   vitc-sink-transposes, [bufferization], vitc-order-globals, vitc-erase-grids,
//   vitc-overlap-collectives,
//   vitc-externalize-weights,
//   [target library calls], vitc-plan-memory
//
// One pass per file in this folder, named after the pass.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_COMPILER_LOWERING_PASSES
#define VITC_COMPILER_LOWERING_PASSES

include "mlir/Pass/PassBase.td"

def ConvertVtToLinalg : Pass<"convert-vt-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower vt ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Elementwise ops become linalg.generic with broadcasting maps, reductions
    linalg.generic with reduction iterators, matmul and convolution linalg
    named ops (which vitc-linalg-to-library turns into library calls after
    bufferization), data movement tensor ops. vt.fusion regions are lowered
    in place and inlined, then fused by linalg elementwise fusion. Large
    constants become views into the weights argument of the entry function.
    For the CPU, `vt.random_uniform`'s stream key is computed from the seed
    once, before the loop; GPU kernels must read the seed themselves (it is
    a device buffer), so for `target=cuda` each element computes it.
    `vt.scatter` becomes a sequential scf.for nest over its updates on a
    copy of its data; `target=cuda` refuses it with an error naming it.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"cpu\"",
           "Code target: cpu or cuda">,
  ];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"];
}

def ScalarizeShapeTensors
    : Pass<"vitc-scalarize-shape-tensors", "mlir::func::FuncOp"> {
  let summary = "Evaluate reads of small integer (shape) tensors through "
                "their producers";
  let description = [{
    Exporters compute shapes as small integer tensors (Shape, Gather,
    Concat, Where(Equal(s, -1), 1, s)); with a dynamic batch these stay
    run-time tensors, and Reshape or Expand read their sizes back from
    memory: on a GPU target that would be host code reading device memory.
    Each `tensor.extract` at constant indices of a static integer tensor of
    at most 16 elements is evaluated through its producer (from_elements,
    extract_slice, insert_slice, expand/collapse_shape, fill, and elementwise
    linalg.generic, whose body is cloned on the inputs' elements), so the
    sizes become index arithmetic on tensor.dim that canonicalization
    folds. Producers left without readers are removed by the
    canonicalizer. A `tensor.reshape` to sizes given as scalars
    (`tensor.from_elements`) becomes a collapse to 1-D and an
    `expand_shape` to those sizes: views once bufferized, where the reshape
    would write and read a shape buffer on the host.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"vitc-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse linalg elementwise ops into one loop nest per fused region";
  let description = [{
    Upstream elementwise fusion, whose default only fuses a producer with a
    single use. A vt.fusion region often reuses a value (GELU reads x + b
    twice), and the lowering queries result dims (tensor.dim), which counts
    as a use too: both would leave a region as several loops with
    temporaries in between. Here a cheap all-parallel producer (arith only: no math
    functions, no division) is also fused into each all-parallel consumer
    when it has several uses: recomputing an add is cheaper than a round
    trip through memory. Reductions and contractions take single-use
    producers only, so matmul-shaped generics stay library calls.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::affine::AffineDialect",
                           "::mlir::tensor::TensorDialect"];
}

def CloneFillInits : Pass<"vitc-clone-fill-inits", "mlir::func::FuncOp"> {
  let summary = "Give each linalg op whose init is a shared linalg.fill its own fill";
  let description = [{
    CSE merges identical `linalg.fill`s, e.g. the zero inits of two
    convolutions with the same result type. One-shot bufferization must then
    keep the shared fill's buffer intact for all its readers: each op gets a
    copy of the filled buffer (or writes into a buffer filled far earlier),
    and vitc-linalg-to-library no longer sees a fill directly before the op,
    so the kernel accumulates into zeros it must read. Run after CSE and
    before bufferization, this clones the fill (not its tensor.empty)
    right before every destination-style op that uses it as an init (and
    drops the original once nothing else reads it), so that each init fill
    has one use, next to it, and bufferizes in place.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def SinkTransposes : Pass<"vitc-sink-transposes", "mlir::func::FuncOp"> {
  let summary = "Move each tensor linalg.transpose right before its first user";
  let description = [{
    The autodiff and the graph stage leave transposes where their operand
    was computed, e.g. x^T of a convolution's filter gradient right after
    the forward convolution. Bufferized there, the copy is made early and
    x's buffer is free to be reused before the gradient reads x^T, so
    vitc-linalg-to-library cannot replace the copy by a strided view of x
    and the copy's buffer lives across the whole backward pass. Sunk to its
    first user (same block, operands already dominate), the transpose reads
    x just before the kernel does.
  }];
}

def ExternalizeWeights : Pass<"vitc-externalize-weights", "mlir::ModuleOp"> {
  let summary = "Move large constant globals into the artifact's weights section";
  let description = [{
    After bufferization, every memref.global constant larger than
    `min-bytes` is removed from the module: its bytes are laid out (64-byte
    aligned) in a weights table recorded on the module (`vitc.weights`),
    each get_global becomes a memref.view at its offset into a new leading
    argument `%weights: memref<?xi8>` of every public function (each is an
    entry point of the artifact; they share the one section). The initial
    values of training parameters (`vitc.initial_values`, from
    vt-promote-params) join the table as entries named `init:<name>`. The
    artifact writer stores the table as the weights section, which the
    runtime maps and passes in, so a 330 MB model never becomes LLVM IR
    constants.
  }];
  let options = [Option<"minBytes", "min-bytes", "int64_t", "256",
                        "Globals at least this large are externalized">];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def OrderGlobals : Pass<"vitc-order-globals", "mlir::ModuleOp"> {
  let summary = "Give bufferization's constant globals an order and names that depend on their contents only";
  let description = [{
    One-shot module bufferization creates a `memref.global` per constant
    tensor (`__constant_<shape>x<type>`, `_0`, `_1`... on a clash) while it
    walks the functions in an order that depends on pointer hashing: two
    runs on the same model could list the globals, and number clashing
    names, differently, so the same input gave artifacts that differ in
    bytes (the weights table follows the module order too). This sorts the
    `__constant_` globals by type and contents and renumbers them in that
    order, at the top of the module, so equal inputs give equal artifacts.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def EraseGrids : Pass<"vitc-erase-grids", "mlir::ModuleOp"> {
  let summary = "Drop the shard.grid declarations once their collectives are runtime calls";
  let description = [{
    After bufferization the sharding stage's collectives are calls into the
    runtime, which knows the job's ranks; the `shard.grid` declarations they
    named have no code and no users left, and would stop the translation to
    LLVM. This erases them, after turning each `shard.grid_shape` of a
    one-dimensional grid into a call of the runtime's
    `vitc_coll_world_size()`. A grid still referenced (a collective or shard
    op that did not bufferize) is an error at that op.
  }];
}

def OverlapCollectives : Pass<"vitc-overlap-collectives", "mlir::ModuleOp"> {
  let summary = "Split each collective call into a start and a late wait, so the step computes while it runs";
  let description = [{
    After bufferization a collective is a blocking call of the runtime
    (`vitc_coll_<all_reduce|all_gather|reduce_scatter>_<dtype>`). This
    replaces it with `vitc_coll_start_<...>`, which issues it and returns a
    handle, where the call was, and `vitc_coll_wait_<dtype>(handle, buffers)`
    right before the first later op of the block that touches one of its
    buffers or a view of them (else before the terminator). The wait names
    the buffers, so memory planning and deallocation keep them alive until
    the collective has run. A collective the sharding stage placed early (a
    gradient's reduction right after it is computed, a param's gather while
    the previous layer computes) then overlaps the ops in between.
  }];
}

def PlanMemory : Pass<"vitc-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Place temporaries in one arena, reusing memory by liveness";
  let description = [{
    Replaces the function's memref.alloc / dealloc of temporaries by views
    into one arena allocated at entry. Buffers whose live ranges do not
    overlap share memory; offsets are decided statically (greedy by size)
    and computed at run time where sizes depend on the batch. Device
    independent: the same plan serves the CPU and the CUDA backend.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // VITC_COMPILER_LOWERING_PASSES
