//===- VtFuse.cpp - group vt ops into vt.fusion kernels ---------------------===//
//
// Greedy producer/consumer fusion on the vt graph, driven by each op's
// FusionKindOpInterface:
//
//   * elementwise and movement ops join the group of a fusible producer;
//   * a reduction joins its producer's group (taking the elementwise
//     prologue) and its elementwise consumers join it (the epilogue), so a
//     decomposed softmax or layer-norm becomes one kernel; the reductions of
//     one group must share their reduction domain (input shape and axes), so
//     a group stays one row-wise kernel;
//   * anchors (matmul, conv, pools) and opaque ops never join a group: the
//     elementwise ops after an anchor start the next group.
//
// A merge is refused when it would make the group non-convex, i.e. when a
// value leaves the group, flows through an outside op and comes back: the
// fused op would then depend on itself. Groups of a single op stay unfused.
// Small dense constants used by a group are cloned into its region.
//
// The pass is target independent: the CPU and CUDA backends lower the same
// vt.fusion regions.
//
//===----------------------------------------------------------------------===//
#include "compiler/Graph/Passes.h"
#include "vitc/Dialect/Vt/VtOps.h"

#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/EquivalenceClasses.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallPtrSet.h"

namespace vitc {
#define GEN_PASS_DEF_VTFUSE
#include "compiler/Graph/Passes.h.inc"

using namespace mlir;

namespace {

/// Constants with at most this many elements (or any splat) are cloned into
/// the regions that use them instead of becoming region inputs.
constexpr int64_t kMaxClonedConstantElements = 16;

vt::FusionKind getKind(Operation *op) {
  if (auto iface = dyn_cast<vt::FusionKindOpInterface>(op))
    return iface.getFusionKind();
  return vt::FusionKind::Opaque;
}

/// The iteration domain of a reduction: the reduced tensor's type and the
/// reduced axes. Two reductions fit in one kernel when these are equal.
struct ReductionDomain {
  Type inputType;
  SmallVector<int64_t> axes;
  bool operator==(const ReductionDomain &o) const {
    return inputType == o.inputType && axes == o.axes;
  }
};

std::optional<ReductionDomain> getReductionDomain(Operation *op) {
  Value input = op->getOperand(0);
  auto type = dyn_cast<RankedTensorType>(input.getType());
  if (!type)
    return std::nullopt;
  ReductionDomain domain{type, {}};
  if (isa<vt::ReduceSumOp, vt::ReduceMaxOp, vt::ReduceMinOp, vt::ReduceMeanOp>(
          op)) {
    auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes");
    domain.axes.assign(axes.asArrayRef().begin(), axes.asArrayRef().end());
  } else if (auto argmax = dyn_cast<vt::ArgMaxOp>(op)) {
    domain.axes.push_back(argmax.getAxis());
  } else if (auto softmax = dyn_cast<vt::SoftmaxOp>(op)) {
    domain.axes.push_back(softmax.getAxis());
  } else if (auto norm = dyn_cast<vt::LayerNormOp>(op)) {
    for (int64_t d = norm.getAxis(); d < type.getRank(); ++d)
      domain.axes.push_back(d);
  } else {
    return std::nullopt; // Unknown reduction: it gets a kernel of its own.
  }
  return domain;
}

/// A small dense constant that is cheaper to rematerialise in a region than
/// to pass in (scalars, splats, shape vectors).
bool isClonableConstant(Value v) {
  Operation *def = v.getDefiningOp();
  if (!def || !def->hasTrait<OpTrait::ConstantLike>() ||
      def->getNumResults() != 1 || def->getNumOperands() != 0)
    return false;
  auto type = dyn_cast<ShapedType>(v.getType());
  if (!type)
    return true; // Scalar constant.
  auto value = def->getAttrOfType<DenseElementsAttr>("value");
  if (!value)
    return false; // dense_resource weights and the like stay inputs.
  return value.isSplat() || value.getNumElements() <= kMaxClonedConstantElements;
}

/// Values that only feed shape operands (of reshape/expand) are host-side
/// shape arithmetic, not kernel work: the ops computing them stay unfused.
llvm::SmallPtrSet<Operation *, 16> findShapeComputations(Block &block) {
  llvm::SmallPtrSet<Operation *, 16> shapeOps;
  auto isShapeUse = [&](OpOperand &use) {
    Operation *user = use.getOwner();
    if (isa<vt::ReshapeOp, vt::ExpandOp>(user))
      return use.getOperandNumber() == 1;
    return shapeOps.contains(user);
  };
  for (Operation &op : llvm::reverse(block)) {
    if (isa<vt::ShapeOfOp>(op)) {
      shapeOps.insert(&op);
      continue;
    }
    if (op.getNumResults() == 0 || op.use_empty())
      continue;
    bool onlyShapeUses = llvm::all_of(op.getResults(), [&](Value r) {
      return llvm::all_of(r.getUses(), isShapeUse);
    });
    if (onlyShapeUses)
      shapeOps.insert(&op);
  }
  return shapeOps;
}

/// The grouping state of one block.
class FusionPlanner {
public:
  explicit FusionPlanner(Block &block) : block(block) {
    unsigned i = 0;
    for (Operation &op : block)
      position[&op] = i++;
    shapeOps = findShapeComputations(block);
  }

  /// Assigns every fusible op of the block to a group.
  void run() {
    for (Operation &op : block) {
      if (!isFusible(&op))
        continue;
      groupOf[&op] = &op;
      members[&op].push_back(&op);
      if (auto domain = reductionDomainOf(&op))
        domains[&op] = *domain;
      else if (getKind(&op) == vt::FusionKind::Reduction)
        opaqueReductionGroups.insert(&op);
      if (isScalar(&op))
        scalarGroups.insert(&op);
      tryJoinProducers(&op);
    }
  }

  /// The groups of at least two ops, each in program order.
  SmallVector<SmallVector<Operation *>> getFusedGroups() const {
    SmallVector<SmallVector<Operation *>> groups;
    for (Operation &op : block) {
      auto it = members.find(&op);
      if (it == members.end() || groupOf.lookup(&op) != &op ||
          it->second.size() < 2)
        continue;
      SmallVector<Operation *> group = it->second;
      llvm::sort(group, [&](Operation *a, Operation *b) {
        return position.lookup(a) < position.lookup(b);
      });
      groups.push_back(std::move(group));
    }
    return groups;
  }

private:
  bool isFusible(Operation *op) const {
    if (shapeOps.contains(op) || op->getNumRegions() != 0 ||
        op->getNumResults() == 0)
      return false;
    vt::FusionKind kind = getKind(op);
    return kind == vt::FusionKind::Elementwise ||
           kind == vt::FusionKind::Movement ||
           kind == vt::FusionKind::Reduction;
  }

  std::optional<ReductionDomain> reductionDomainOf(Operation *op) const {
    if (getKind(op) != vt::FusionKind::Reduction)
      return std::nullopt;
    return getReductionDomain(op);
  }

  /// The leaders of the groups that produce `op`'s (non-shape) operands,
  /// most recently extended first.
  SmallVector<Operation *> producerGroups(Operation *op) const {
    llvm::SetVector<Operation *> leaders;
    for (OpOperand &operand : op->getOpOperands()) {
      if (isa<vt::ReshapeOp, vt::ExpandOp>(op) &&
          operand.getOperandNumber() == 1)
        continue;
      Operation *def = operand.get().getDefiningOp();
      if (!def || def->getBlock() != &block)
        continue;
      if (Operation *leader = groupOf.lookup(def))
        leaders.insert(leader);
    }
    SmallVector<Operation *> result = leaders.takeVector();
    llvm::stable_sort(result, [&](Operation *a, Operation *b) {
      return lastPosition(a) > lastPosition(b);
    });
    return result;
  }

  unsigned lastPosition(Operation *leader) const {
    unsigned last = 0;
    for (Operation *m : members.find(leader)->second)
      last = std::max(last, position.lookup(m));
    return last;
  }

  static bool isScalar(Operation *op) {
    return llvm::all_of(op->getResultTypes(), [](Type type) {
      auto ranked = dyn_cast<RankedTensorType>(type);
      return ranked && ranked.getRank() == 0;
    });
  }

  /// `op` starts as a group of its own; merge it with all its producer
  /// groups if that is legal, else with the first one that is.
  ///
  /// Scalar groups (a learning-rate factor, AdamW's bias corrections, the
  /// clipping coefficient) join only scalar consumers. They feed many
  /// tensor groups, every parameter's update: merged into the first, they
  /// made it a producer of all the others, which then merged into one group
  /// growing with each parameter, its convexity checked from every member
  /// at each merge (quadratic: 1.4 of EfficientNet-B0's 1.5 s in this pass
  /// with AdamW, 0.08 s with SGD). Alone they are one small kernel.
  void tryJoinProducers(Operation *op) {
    SmallVector<Operation *> producers = producerGroups(op);
    if (!scalarGroups.contains(op))
      llvm::erase_if(producers, [&](Operation *leader) {
        return scalarGroups.contains(leader);
      });
    if (producers.empty())
      return;
    SmallVector<Operation *> all(producers);
    all.push_back(op);
    if (producers.size() > 1 && canMerge(all)) {
      merge(all);
      return;
    }
    for (Operation *leader : producers) {
      if (canMerge({leader, op}, /*newest=*/op)) {
        merge({leader, op});
        return;
      }
    }
  }

  /// Whether the union of the given groups is one legal kernel. `newest`:
  /// the last of them is the single op just visited (see isConvex).
  bool canMerge(ArrayRef<Operation *> leaders,
                Operation *newest = nullptr) const {
    // Reductions of one group share their domain; a reduction without a
    // known domain stays alone with its elementwise neighbours.
    std::optional<ReductionDomain> domain;
    unsigned numReductionGroups = 0;
    for (Operation *leader : leaders) {
      if (opaqueReductionGroups.contains(leader)) {
        if (++numReductionGroups > 1)
          return false;
        continue;
      }
      auto it = domains.find(leader);
      if (it == domains.end())
        continue;
      if (!domain)
        domain = it->second;
      else if (!(*domain == it->second))
        return false;
    }
    if (numReductionGroups && domain)
      return false;
    return isConvex(leaders, newest);
  }

  /// A set of ops is convex when no path leaves it and comes back. Every
  /// such path ends in an edge from an outside op into the set, so it is
  /// enough to check the outside producers of the members: none may depend
  /// on a member.
  ///
  /// With `newest` (one existing group and the op just visited) only that
  /// op's producers need the check: the groups form an acyclic graph (each
  /// merge checked it, other groups counting as nodes), edges in a block only
  /// go forward, and `newest` comes after every grouped op, so a new cycle
  /// must enter the set at `newest`. This keeps the pass linear in practice:
  /// the members' own producers are not walked again at every merge, which
  /// in a backward graph, where a group's members span the whole step, made
  /// the pass quadratic.
  bool isConvex(ArrayRef<Operation *> leaders, Operation *newest) const {
    llvm::SmallPtrSet<Operation *, 32> set;
    unsigned firstPos = ~0u;
    for (Operation *leader : leaders)
      for (Operation *m : members.find(leader)->second) {
        set.insert(m);
        firstPos = std::min(firstPos, position.lookup(m));
      }
    llvm::SmallPtrSet<Operation *, 32> visited;
    SmallVector<Operation *> entries;
    if (newest)
      entries.push_back(newest);
    else
      entries.append(set.begin(), set.end());
    for (Operation *m : entries)
      for (Value operand : m->getOperands()) {
        Operation *def = operand.getDefiningOp();
        if (def && !set.contains(def) &&
            dependsOn(def, set, firstPos, visited))
          return false;
      }
    return true;
  }

  /// Whether `op` transitively uses a result of an op in `set`. Another
  /// group counts as one node (its fused op will read all its members'
  /// inputs): two groups that each feed the other would otherwise be
  /// convex one by one and still form a cycle once outlined. Ops before
  /// `firstPos` cannot depend on the set, so the walk stops there.
  /// `visited` holds outside ops already known not to depend on the set.
  bool dependsOn(Operation *op, const llvm::SmallPtrSetImpl<Operation *> &set,
                 unsigned firstPos,
                 llvm::SmallPtrSetImpl<Operation *> &visited) const {
    SmallVector<Operation *> worklist{op};
    while (!worklist.empty()) {
      Operation *cur = worklist.pop_back_val();
      if (set.contains(cur))
        return true;
      if (cur->getBlock() != &block || !visited.insert(cur).second)
        continue;
      if (Operation *leader = groupOf.lookup(cur)) {
        for (Operation *m : members.find(leader)->second)
          if (m != cur && !set.contains(m))
            worklist.push_back(m);
      }
      if (position.lookup(cur) < firstPos)
        continue;
      for (Value operand : cur->getOperands())
        if (Operation *def = operand.getDefiningOp())
          worklist.push_back(def);
    }
    return false;
  }

  void merge(ArrayRef<Operation *> leaders) {
    Operation *target = leaders.front();
    for (Operation *leader : leaders.drop_front()) {
      SmallVector<Operation *> moved = std::move(members[leader]);
      members.erase(leader);
      for (Operation *m : moved) {
        groupOf[m] = target;
        members[target].push_back(m);
      }
      if (auto it = domains.find(leader); it != domains.end()) {
        // Take the value out first: inserting may grow the map, which
        // would leave `it` and its value dangling.
        ReductionDomain domain = std::move(it->second);
        domains.erase(it);
        domains.try_emplace(target, std::move(domain));
      }
      if (opaqueReductionGroups.erase(leader))
        opaqueReductionGroups.insert(target);
      if (!scalarGroups.erase(leader))
        scalarGroups.erase(target);
    }
  }

  Block &block;
  llvm::DenseMap<Operation *, unsigned> position;
  llvm::SmallPtrSet<Operation *, 16> shapeOps;
  /// Each fusible op's group, named by its leader op.
  llvm::DenseMap<Operation *, Operation *> groupOf;
  llvm::DenseMap<Operation *, SmallVector<Operation *>> members;
  /// The reduction domain of the groups that hold reductions.
  llvm::DenseMap<Operation *, ReductionDomain> domains;
  /// Groups holding a reduction whose domain is unknown.
  llvm::SmallPtrSet<Operation *, 4> opaqueReductionGroups;
  /// Groups whose ops all compute scalars (rank-0 results).
  llvm::SmallPtrSet<Operation *, 16> scalarGroups;
};

/// Moves the ops between the group's first member and `fusion` that depend
/// on a member to just after `fusion`, in order. Convexity guarantees none
/// of them feeds a member, so this keeps every use dominated by its def.
void sinkDependentsBelow(ArrayRef<Operation *> group, Operation *fusion) {
  llvm::SmallPtrSet<Operation *, 32> tainted(group.begin(), group.end());
  SmallVector<Operation *> toMove;
  for (Operation *op = group.front()->getNextNode(); op && op != fusion;
       op = op->getNextNode()) {
    if (tainted.contains(op))
      continue;
    bool dependent = false;
    op->walk([&](Operation *nested) {
      for (Value v : nested->getOperands())
        if (Operation *def = v.getDefiningOp(); def && tainted.contains(def))
          dependent = true;
    });
    if (dependent) {
      tainted.insert(op);
      toMove.push_back(op);
    }
  }
  Operation *after = fusion;
  for (Operation *op : toMove) {
    op->moveAfter(after);
    after = op;
  }
}

/// Replaces the ops of `group` (in program order) by one vt.fusion.
void outlineGroup(SmallVector<Operation *> group, bool hasReduction) {
  // Earlier outlining may have sunk some members: take the current order.
  llvm::sort(group, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  llvm::SmallPtrSet<Operation *, 32> inGroup(group.begin(), group.end());

  llvm::SetVector<Value> inputs, clonedConstants;
  SmallVector<Value> results;
  for (Operation *op : group) {
    for (Value operand : op->getOperands()) {
      Operation *def = operand.getDefiningOp();
      if (def && inGroup.contains(def))
        continue;
      if (isClonableConstant(operand))
        clonedConstants.insert(operand);
      else
        inputs.insert(operand);
    }
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !inGroup.contains(user);
          }))
        results.push_back(result);
  }

  // The fusion replaces the last member; ops in between that depend on
  // earlier members move after it.
  Operation *last = group.back();
  OpBuilder builder(last);
  SmallVector<Location> locs;
  for (Operation *op : group)
    locs.push_back(op->getLoc());
  Location loc = builder.getFusedLoc(locs);
  SmallVector<Type> resultTypes;
  for (Value r : results)
    resultTypes.push_back(r.getType());
  auto fusion = vt::FusionOp::create(
      builder, loc, resultTypes, inputs.getArrayRef(),
      hasReduction ? StringRef("reduction") : StringRef("elementwise"));

  Block *body = builder.createBlock(&fusion.getBody());
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  for (Value constant : clonedConstants)
    builder.clone(*constant.getDefiningOp(), mapping);
  for (Operation *op : group)
    builder.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value r : results)
    yielded.push_back(mapping.lookup(r));
  vt::YieldOp::create(builder, loc, yielded);

  // Move the fusion after the last member, then fix up the ops in between.
  fusion->moveAfter(last);
  sinkDependentsBelow(group, fusion);
  for (auto [oldResult, newResult] : llvm::zip(results, fusion.getResults()))
    oldResult.replaceUsesWithIf(newResult, [&](OpOperand &use) {
      return !inGroup.contains(use.getOwner());
    });
  for (Operation *op : llvm::reverse(group)) {
    op->dropAllUses(); // Only uses by later members remain.
    op->erase();
  }
  for (Value constant : clonedConstants)
    if (constant.use_empty())
      constant.getDefiningOp()->erase();
}

struct VtFusePass : impl::VtFuseBase<VtFusePass> {
  using Base::Base;

  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      FusionPlanner planner(block);
      planner.run();
      SmallVector<std::pair<SmallVector<Operation *>, bool>> groups;
      for (SmallVector<Operation *> &group : planner.getFusedGroups()) {
        bool hasReduction = llvm::any_of(group, [](Operation *op) {
          return getKind(op) == vt::FusionKind::Reduction;
        });
        groups.emplace_back(std::move(group), hasReduction);
      }
      for (auto &[group, hasReduction] : groups)
        outlineGroup(group, hasReduction);
      // Sinking ops below one fusion can leave them below a later-outlined
      // fusion that reads them (backward graphs, where one group's members
      // are spread over the whole step). The fused graph is acyclic
      // (groups are convex), so a topological order always exists.
      sortTopologically(&block, block.without_terminator());
    }
  }
};

} // namespace
} // namespace vitc
