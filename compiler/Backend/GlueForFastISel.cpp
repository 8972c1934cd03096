//===- GlueForFastISel.cpp - the -O0 glue kept on FastISel ----------------===//
//
// See GlueForFastISel.h. Measured on EfficientNet-B0's training step: the
// glue's code generation went from 7.7 s to 0.6 s (docs/performance.md).
//
//===----------------------------------------------------------------------===//
#include "compiler/Backend/GlueForFastISel.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/Transforms/Utils/Cloning.h"

#include <functional>

namespace vitc::backend {
namespace {

/// At -O0 the glue goes through FastISel, which selects a block bottom-up
/// and hands the block's remaining instructions to SelectionDAG at the first
/// it cannot select. It cannot select aggregate values, and an entry
/// function returns its results as one: the `ret` (or the store of the
/// struct in a C-interface wrapper) sent the whole step, a block of tens of
/// thousands of instructions, to SelectionDAG, whose combiner and scheduler
/// are superlinear in a block's size. Moving each returned aggregate's
/// construction (insertvalue chain, store, ret) into a block of its own
/// keeps the rest on FastISel.
void isolateAggregateReturns(llvm::Function &function) {
  llvm::SmallVector<llvm::BasicBlock *> exits;
  for (llvm::BasicBlock &block : function)
    if (llvm::isa_and_nonnull<llvm::ReturnInst>(block.getTerminator()))
      exits.push_back(&block);
  for (llvm::BasicBlock *exit : exits) {
    llvm::BasicBlock &block = *exit;
    llvm::Instruction *term = block.getTerminator();
    llvm::Instruction *first = term;
    // `store %aggregate, %out; ret void` (C-interface wrappers).
    if (auto *store = llvm::dyn_cast_or_null<llvm::StoreInst>(term->getPrevNode()))
      if (store->getValueOperand()->getType()->isAggregateType())
        first = store;
    llvm::Value *returned = first == term
                                ? llvm::cast<llvm::ReturnInst>(term)->getReturnValue()
                                : llvm::cast<llvm::StoreInst>(first)->getValueOperand();
    if (!returned || !returned->getType()->isAggregateType())
      continue;
    // The insertvalue tree that builds it (the result struct of memref
    // descriptors, each its own chain), operands before users: each link
    // feeds only the next, so all of it can move down.
    llvm::SmallVector<llvm::Instruction *> tree;
    std::function<void(llvm::Value *)> gather = [&](llvm::Value *value) {
      auto *link = llvm::dyn_cast<llvm::InsertValueInst>(value);
      if (!link || link->getParent() != &block || !link->hasOneUse())
        return;
      gather(link->getAggregateOperand());
      gather(link->getInsertedValueOperand());
      tree.push_back(link);
    };
    gather(returned);
    llvm::BasicBlock *tail = block.splitBasicBlock(first, "return");
    llvm::Instruction *insertPoint = &*tail->getFirstInsertionPt();
    for (llvm::Instruction *link : tree)
      link->moveBefore(insertPoint->getIterator());
  }
}

/// The leaf index paths of an aggregate type (a struct of arrays: the
/// memref descriptors), in order.
void leafPaths(llvm::Type *type, llvm::SmallVector<unsigned> &prefix,
               llvm::SmallVectorImpl<llvm::SmallVector<unsigned>> &out) {
  auto recurse = [&](unsigned i, llvm::Type *element) {
    prefix.push_back(i);
    leafPaths(element, prefix, out);
    prefix.pop_back();
  };
  if (auto *structType = llvm::dyn_cast<llvm::StructType>(type))
    for (unsigned i = 0; i < structType->getNumElements(); ++i)
      recurse(i, structType->getElementType(i));
  else if (auto *arrayType = llvm::dyn_cast<llvm::ArrayType>(type))
    for (unsigned i = 0; i < arrayType->getNumElements(); ++i)
      recurse(i, arrayType->getElementType());
  else
    out.push_back(prefix);
}

/// Stores and loads of whole memref descriptors (what the lowering emits
/// around library calls) become stores and loads of their fields, and
/// extractvalue of an insertvalue chain becomes the inserted value: FastISel
/// selects neither aggregates nor insertvalue, and each one sent the rest
/// of the glue's block to SelectionDAG (see isolateAggregateReturns).
void scalarizeAggregates(llvm::Function &function) {
  llvm::IRBuilder<> b(function.getContext());
  auto fieldPointer = [&](llvm::Type *type, llvm::Value *base,
                          llvm::ArrayRef<unsigned> path) {
    llvm::SmallVector<llvm::Value *> indices{b.getInt32(0)};
    for (unsigned i : path)
      indices.push_back(b.getInt32(i));
    return b.CreateInBoundsGEP(type, base, indices);
  };
  auto collect = [&](auto predicate) {
    llvm::SmallVector<llvm::Instruction *> found;
    for (llvm::Instruction &inst : llvm::instructions(function))
      if (predicate(inst))
        found.push_back(&inst);
    return found;
  };
  // Whole-aggregate stores -> one store per leaf.
  for (llvm::Instruction *inst : collect([](llvm::Instruction &inst) {
         auto *store = llvm::dyn_cast<llvm::StoreInst>(&inst);
         return store && store->isSimple() &&
                store->getValueOperand()->getType()->isAggregateType();
       })) {
    auto *store = llvm::cast<llvm::StoreInst>(inst);
    b.SetInsertPoint(store);
    llvm::Value *value = store->getValueOperand();
    llvm::SmallVector<unsigned> prefix;
    llvm::SmallVector<llvm::SmallVector<unsigned>> paths;
    leafPaths(value->getType(), prefix, paths);
    for (auto &path : paths) {
      llvm::Value *field =
          llvm::FindInsertedValue(value, path, store->getIterator());
      if (!field)
        field = b.CreateExtractValue(value, path);
      b.CreateStore(field, fieldPointer(value->getType(),
                                        store->getPointerOperand(), path));
    }
    store->eraseFromParent();
  }
  // Whole-aggregate loads whose uses each take one leaf -> leaf loads.
  for (llvm::Instruction *inst : collect([](llvm::Instruction &inst) {
         auto *load = llvm::dyn_cast<llvm::LoadInst>(&inst);
         return load && load->isSimple() &&
                load->getType()->isAggregateType() &&
                llvm::all_of(load->users(), [](llvm::User *user) {
                  auto *extract = llvm::dyn_cast<llvm::ExtractValueInst>(user);
                  return extract && !extract->getType()->isAggregateType();
                });
       })) {
    auto *load = llvm::cast<llvm::LoadInst>(inst);
    for (llvm::User *user : llvm::make_early_inc_range(load->users())) {
      auto *extract = llvm::cast<llvm::ExtractValueInst>(user);
      b.SetInsertPoint(extract);
      llvm::Value *field = b.CreateLoad(
          extract->getType(), fieldPointer(load->getType(),
                                           load->getPointerOperand(),
                                           extract->getIndices()));
      extract->replaceAllUsesWith(field);
      extract->eraseFromParent();
    }
    load->eraseFromParent();
  }
  // extractvalue of an insertvalue chain -> the inserted value.
  for (llvm::Instruction *inst : collect([](llvm::Instruction &inst) {
         return llvm::isa<llvm::ExtractValueInst>(inst);
       })) {
    auto *extract = llvm::cast<llvm::ExtractValueInst>(inst);
    if (auto *insert = llvm::dyn_cast<llvm::InsertValueInst>(
            extract->getAggregateOperand()))
      if (llvm::Value *field = llvm::FindInsertedValue(
              insert, extract->getIndices(), extract->getIterator()))
        if (field != extract)
          extract->replaceAllUsesWith(field);
  }
  // What fed only the scalarised stores and extracts is dead now.
  llvm::SmallVector<llvm::Instruction *> dead;
  for (llvm::Instruction &inst : llvm::instructions(function))
    if ((llvm::isa<llvm::InsertValueInst, llvm::ExtractValueInst>(inst)) &&
        inst.use_empty())
      dead.push_back(&inst);
  while (!dead.empty()) {
    llvm::Instruction *inst = dead.pop_back_val();
    llvm::SmallVector<llvm::Instruction *> operands;
    for (llvm::Value *operand : inst->operands())
      if (auto *def = llvm::dyn_cast<llvm::Instruction>(operand))
        operands.push_back(def);
    inst->eraseFromParent();
    for (llvm::Instruction *def : operands)
      if (def->use_empty() &&
          llvm::isa<llvm::InsertValueInst, llvm::ExtractValueInst>(def))
        dead.push_back(def);
  }
}

/// Inlines each function of `names` into its one caller and deletes it. A
/// step's glue function takes and returns every parameter as expanded memref
/// descriptors (thousands of arguments, a struct of thousands of fields),
/// which SelectionDAG lowers at -O0 in time superlinear in their count;
/// inlined into its C-interface wrapper, they become loads and stores
/// through the wrapper's few pointers, which FastISel selects.
void inlineIntoWrappers(llvm::Module &glue, const llvm::StringSet<> &names) {
  for (const auto &name : names) {
    llvm::Function *function = glue.getFunction(name.getKey());
    if (!function || function->isDeclaration() || !function->hasOneUse())
      continue;
    auto *call = llvm::dyn_cast<llvm::CallInst>(function->user_back());
    if (!call)
      continue;
    llvm::InlineFunctionInfo info;
    if (llvm::InlineFunction(*call, info).isSuccess() && function->use_empty())
      function->eraseFromParent();
  }
}

/// Bounds what one FastISel miss costs in the glue: blocks are cut every
/// kGlueBlockSize instructions, so SelectionDAG only ever gets the start of
/// one piece (a miss hands it the block's instructions above the miss).
/// llvm.pow, which FastISel cannot lower (the optimizer's bias
/// correction), becomes a call of libm's pow, which it can.
constexpr unsigned kGlueBlockSize = 2048;

void boundGlueBlocks(llvm::Function &function) {
  llvm::Module &module = *function.getParent();
  for (llvm::Instruction &inst :
       llvm::make_early_inc_range(llvm::instructions(function))) {
    auto *call = llvm::dyn_cast<llvm::IntrinsicInst>(&inst);
    if (!call || call->getIntrinsicID() != llvm::Intrinsic::pow)
      continue;
    llvm::Type *type = call->getType();
    if (!type->isFloatTy() && !type->isDoubleTy())
      continue;
    llvm::FunctionCallee pow = module.getOrInsertFunction(
        type->isFloatTy() ? "powf" : "pow", type, type, type);
    llvm::IRBuilder<> b(call);
    call->replaceAllUsesWith(
        b.CreateCall(pow, {call->getArgOperand(0), call->getArgOperand(1)}));
    call->eraseFromParent();
  }
  llvm::SmallVector<llvm::BasicBlock *> blocks;
  for (llvm::BasicBlock &block : function)
    blocks.push_back(&block);
  for (llvm::BasicBlock *block : blocks) {
    llvm::SmallVector<llvm::Instruction *> cuts;
    unsigned count = 0;
    for (llvm::Instruction &inst : llvm::make_range(
             block->getFirstInsertionPt(), block->end())) {
      if (++count < kGlueBlockSize || inst.isTerminator() ||
          llvm::isa<llvm::AllocaInst>(inst))
        continue;
      cuts.push_back(&inst);
      count = 1;
    }
    // Last cut first: a split moves everything below its point into the
    // new block, so cutting top-down moved the rest of a step's block
    // again at every cut (quadratic: 0.6 s of EfficientNet-B0's glue).
    for (llvm::Instruction *cut : llvm::reverse(cuts))
      block->splitBasicBlock(cut, "glue");
  }
}

} // namespace

void shapeGlueForFastISel(llvm::Module &glue,
                          const llvm::StringSet<> &inlineOnce) {
  inlineIntoWrappers(glue, inlineOnce);
  for (llvm::Function &function : glue)
    if (!function.isDeclaration()) {
      scalarizeAggregates(function);
      isolateAggregateReturns(function);
      boundGlueBlocks(function);
    }
}

} // namespace vitc::backend
