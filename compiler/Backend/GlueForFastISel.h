//===- GlueForFastISel.h - the -O0 glue kept on FastISel ------*- C++ -*-===//
//
// A training step's glue (what vitc-outline-loop-nests leaves of each step:
// a straight line of kernel calls) is compiled without optimisation. At -O0
// instruction selection is FastISel, which selects a block bottom-up and
// hands the block's remaining instructions to SelectionDAG at the first one
// it cannot select; SelectionDAG's combiner and scheduler are superlinear
// in a block's size, and the glue is one block of tens of thousands of
// instructions. This rewrites the glue module so FastISel selects it.
//
//===----------------------------------------------------------------------===//
#ifndef VITC_BACKEND_GLUEFORFASTISEL_H
#define VITC_BACKEND_GLUEFORFASTISEL_H

#include "llvm/ADT/StringSet.h"
#include "llvm/IR/Module.h"

namespace vitc::backend {

/// Inlines the functions of `inlineOnce` (steps called once, from their
/// C-interface wrappers) into their callers, then, in every defined
/// function of `glue`: scalarises aggregate loads, stores and extracts,
/// isolates aggregate returns in blocks of their own, turns llvm.pow into
/// libm calls and cuts blocks to a bounded size.
void shapeGlueForFastISel(llvm::Module &glue,
                          const llvm::StringSet<> &inlineOnce);

} // namespace vitc::backend

#endif // VITC_BACKEND_GLUEFORFASTISEL_H
