//===- OpsEinsum.cpp - import rule for ONNX Einsum ------------------------===//
//
// Einsum has no vt op of its own: it is decomposed into vt ops that already
// fuse, lower and differentiate (transpose, reshape, matmul, mul,
// reduce_sum; equal and cast for diagonals), so models that use it
// (torchvision's MaxViT computes attention with `B G H I D, B G H J D ->
// B G H I J`) compile and train with no new kernel or gradient rule; there
// the whole Einsum becomes one batched vt.matmul (and a transpose).
//
// The equation gives each dim of each input a label: a letter, or one of the
// broadcast dims that `...` stands for. Ellipses are right-aligned across the
// inputs as in numpy, ONNX's reference, so ellipses of different ranks
// broadcast. Then:
//  1. repeated labels within one input (`ii`) take a diagonal: the input is
//     multiplied by a mask equal(range, range) and one of the two dims summed;
//  2. the inputs are contracted left to right, two at a time. A label both
//     sides have is a batch dim while something later needs it (the output or
//     a later input), else it is contracted; a label one side has is a free
//     dim of that side, or summed out first (reduce_sum) when nothing later
//     needs it. Each side is transposed and reshaped to [batch..., M, K] and
//     [batch..., K, N] for one vt.matmul (a broadcasting vt.mul when nothing
//     is contracted), whose result is reshaped to [batch..., lhs free...,
//     rhs free...];
//  3. a transpose puts the labels in the output's order.
// Batch dims stay separate dims (vt.matmul takes any number of them), so a
// dynamic batch that both sides have is never multiplied into another dim;
// where merged free or contracted dims are dynamic (an ellipsis on one side
// only), the reshapes get their sizes at run time from vt.shape_of.
//
// Size-1 dims broadcast as ONNX specifies: where a label the two sides share
// has a static 1 on one side, that side's dim is dropped and the label
// belongs to the other side alone. A dynamic dim is taken to match the other
// side's size (it cannot be known to be a broadcast 1 at compile time).
//
//===----------------------------------------------------------------------===//
#include "OpHelpers.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace vitc;
using namespace vitc::onnx_import;

static constexpr int64_t kDyn = ShapedType::kDynamic;

namespace {

/// A dim label. Letters are numbered in ASCII order (A-Z = 0..25, a-z =
/// 26..51), so that the implicit output's "alphabetical" order is numpy's;
/// the broadcast dims of `...` follow: kEllipsis + e is dim e of the widest
/// ellipsis.
using Label = int64_t;
constexpr Label kNumLetters = 52;
constexpr Label kEllipsis = kNumLetters;
/// Where a parsed term has its `...`, before it is expanded to labels.
constexpr Label kEllipsisMarker = -1;

/// A parsed equation: the labels of each input's dims and of the output's.
struct Equation {
  SmallVector<SmallVector<Label>> inputs;
  SmallVector<Label> output;
};

/// A tensor and the label of each of its dims.
struct Term {
  Value value;
  SmallVector<Label> labels;
};

/// One dim of a reshape's result: the product of the sizes of `dims` of
/// `source` (1 when there are none).
struct MergedDim {
  Value source;
  SmallVector<int64_t> dims;
};

} // namespace

static Label letterLabel(char c) { return c <= 'Z' ? c - 'A' : c - 'a' + 26; }

static std::string labelName(Label label) {
  if (label >= kEllipsis)
    return "dim " + std::to_string(label - kEllipsis) + " of '...'";
  char c = label < 26 ? 'A' + label : 'a' + (label - 26);
  return std::string("'") + c + "'";
}

static int64_t positionOf(ArrayRef<Label> labels, Label label) {
  auto it = llvm::find(labels, label);
  return it == labels.end() ? -1 : it - labels.begin();
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

/// Parses one term: letters and at most one `...` (kEllipsisMarker).
static FailureOr<SmallVector<Label>>
parseTerm(NodeImporter &n, StringRef equation, StringRef term) {
  SmallVector<Label> labels;
  bool ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    char c = term[i];
    if (llvm::isAlpha(c)) {
      labels.push_back(letterLabel(c));
    } else if (term.substr(i).starts_with("...")) {
      if (ellipsis)
        return n.error() << "equation '" << equation << "': term '" << term
                         << "' has more than one '...'";
      ellipsis = true;
      labels.push_back(kEllipsisMarker);
      i += 2;
    } else {
      auto diag = n.error();
      diag << "equation '" << equation << "': term '" << term << "' has ";
      if (llvm::isPrint(c))
        diag << "'" << c << "'";
      else
        diag << "byte 0x" << llvm::utohexstr((uint8_t)c);
      return diag << ", which is neither a letter nor part of '...'";
    }
  }
  return labels;
}

/// Parses `text` against the inputs' ranks: each input's labels with its
/// `...` expanded to its trailing broadcast dims, and the output's labels
/// (explicit after `->`, else numpy's implicit order: the broadcast dims,
/// then the letters used once, alphabetically).
static FailureOr<Equation> parseEquation(NodeImporter &n, StringRef text,
                                         ArrayRef<Value> inputs) {
  // ONNX allows whitespace anywhere ("bij, bjk -> bik").
  std::string compact;
  for (char c : text)
    if (!llvm::isSpace(c))
      compact.push_back(c);
  StringRef eq(compact);
  auto [lhs, rhs] = eq.split("->");
  bool explicitOutput = eq.contains("->");
  if (rhs.contains("->"))
    return n.error() << "equation '" << text << "' has more than one '->'";
  SmallVector<StringRef> termTexts;
  lhs.split(termTexts, ',');
  if (termTexts.size() != inputs.size())
    return n.error() << "equation '" << text << "' has " << termTexts.size()
                     << " input terms for " << inputs.size() << " inputs";

  SmallVector<SmallVector<Label>> parsed;
  SmallVector<int64_t> ellipsisRanks;
  int64_t ellipsisRank = 0;
  for (auto [i, termText] : llvm::enumerate(termTexts)) {
    auto term = parseTerm(n, text, termText);
    if (failed(term))
      return failure();
    int64_t rank = tensorType(inputs[i]).getRank();
    bool hasEllipsis = llvm::is_contained(*term, kEllipsisMarker);
    int64_t letters = term->size() - (hasEllipsis ? 1 : 0);
    if (hasEllipsis ? letters > rank : letters != rank)
      return n.error() << "equation '" << text << "': input " << i
                       << " has rank " << rank << ", but its term '" << termText
                       << "' names " << letters
                       << (hasEllipsis ? " dims besides '...'" : " dims");
    ellipsisRanks.push_back(hasEllipsis ? rank - letters : 0);
    ellipsisRank = std::max(ellipsisRank, ellipsisRanks.back());
    parsed.push_back(std::move(*term));
  }

  Equation result;
  SmallVector<int64_t> uses(kNumLetters, 0);
  for (auto [term, rank] : llvm::zip(parsed, ellipsisRanks)) {
    SmallVector<Label> &labels = result.inputs.emplace_back();
    for (Label l : term) {
      if (l != kEllipsisMarker) {
        labels.push_back(l);
        ++uses[l];
        continue;
      }
      // A shorter ellipsis broadcasts against the trailing dims of the
      // widest one, as numpy aligns shapes.
      for (int64_t e = ellipsisRank - rank; e < ellipsisRank; ++e)
        labels.push_back(kEllipsis + e);
    }
  }

  if (!explicitOutput) {
    for (int64_t e = 0; e < ellipsisRank; ++e)
      result.output.push_back(kEllipsis + e);
    for (Label l = 0; l < kNumLetters; ++l)
      if (uses[l] == 1)
        result.output.push_back(l);
  } else {
    auto term = parseTerm(n, text, rhs);
    if (failed(term))
      return failure();
    for (Label l : *term) {
      if (l == kEllipsisMarker) {
        for (int64_t e = 0; e < ellipsisRank; ++e)
          result.output.push_back(kEllipsis + e);
        continue;
      }
      if (!uses[l])
        return n.error() << "equation '" << text << "': output label "
                         << labelName(l) << " is in no input";
      if (llvm::is_contained(result.output, l))
        return n.error() << "equation '" << text << "': output label "
                         << labelName(l) << " appears twice";
      result.output.push_back(l);
    }
    if (ellipsisRank > 0 && !llvm::is_contained(*term, kEllipsisMarker))
      return n.error() << "equation '" << text << "': the inputs' '...' "
                       << "stands for " << ellipsisRank
                       << " dims, which the output must keep with '...'";
  }
  if ((int64_t)result.output.size() > kMaxRank)
    return n.error() << "equation '" << text << "': the output's rank "
                     << result.output.size() << " is above the importer's "
                     << "limit of " << kMaxRank;
  return result;
}

/// Checks the static sizes of each label: the dims of a repeated label in
/// one input (a diagonal) must be equal; across inputs, sizes other than 1
/// (which broadcasts) must agree.
static LogicalResult checkSizes(NodeImporter &n, StringRef text,
                                const Equation &eq, ArrayRef<Value> inputs) {
  // Per label, the first size other than 1 and the input it is from.
  llvm::DenseMap<Label, std::pair<int64_t, size_t>> sizes;
  for (auto [i, labels] : llvm::enumerate(eq.inputs)) {
    ArrayRef<int64_t> shape = tensorType(inputs[i]).getShape();
    llvm::DenseMap<Label, int64_t> within;
    for (auto [l, size] : llvm::zip(labels, shape)) {
      if (size == kDyn)
        continue;
      auto [it, first] = within.try_emplace(l, size);
      if (!first && it->second != size)
        return n.error() << "equation '" << text << "': label " << labelName(l)
                         << " repeats in input " << i << " with sizes "
                         << it->second << " and " << size;
      if (size == 1)
        continue;
      auto [jt, firstInput] = sizes.try_emplace(l, size, i);
      if (!firstInput && jt->second.first != size)
        return n.error() << "equation '" << text << "': label " << labelName(l)
                         << " has size " << jt->second.first << " in input "
                         << jt->second.second << " but " << size << " in input "
                         << i;
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

namespace {

/// Builds the vt ops of one Einsum node, term by term.
class EinsumBuilder {
public:
  explicit EinsumBuilder(NodeImporter &n) : n(n) {}

  /// Takes the diagonal of every label repeated within `t`.
  FailureOr<Term> diagonals(Term t);
  /// Sums out the dims of `t` whose labels are not in `keep`.
  FailureOr<Term> sumOutAllBut(Term t, ArrayRef<Label> keep);
  /// Transposes `t` to the label order `order` (a permutation of its own).
  FailureOr<Term> permute(Term t, ArrayRef<Label> order);
  /// Contracts two terms; `later` holds the labels that the output or a
  /// later input still needs.
  FailureOr<Term> contract(Term lhs, Term rhs, ArrayRef<Label> later);

private:
  FailureOr<Value> diagonal(Value x, int64_t p, int64_t q);
  FailureOr<Term> dropDims(Term t, ArrayRef<int64_t> positions);
  FailureOr<Value> reshapeTo(Value x, ArrayRef<MergedDim> result);
  Value shapeOf(Value x);

  NodeImporter &n;
  llvm::DenseMap<Value, Value> shapes;
};

} // namespace

Value EinsumBuilder::shapeOf(Value x) {
  Value &shape = shapes[x];
  if (!shape) {
    OpBuilder &b = n.builder();
    shape = vt::ShapeOfOp::create(
        b, n.loc(),
        RankedTensorType::get({tensorType(x).getRank()}, b.getI64Type()), x);
  }
  return shape;
}

/// The diagonal of dims p < q (of equal size) of `x`, as dim p: x times the
/// mask (i == j) over those dims, summed over q. Only elementwise ops and a
/// reduction, so it differentiates; the mask folds to a constant where the
/// size is static, and comes from vt.shape_of where it is not.
FailureOr<Value> EinsumBuilder::diagonal(Value x, int64_t p, int64_t q) {
  OpBuilder &b = n.builder();
  Type i64 = b.getI64Type();
  auto type = tensorType(x);
  int64_t rank = type.getRank();
  int64_t size = type.isDynamicDim(p) ? type.getDimSize(q) : type.getDimSize(p);
  Value limit;
  if (size != kDyn) {
    limit = n.scalar(i64, size);
  } else {
    auto dim = n.build<vt::GatherOp>(shapeOf(x), n.scalar(i64, p),
                                     b.getI64IntegerAttr(0));
    if (failed(dim))
      return failure();
    limit = *dim;
  }
  Value range =
      vt::RangeOp::create(b, n.loc(), RankedTensorType::get({size}, i64),
                          n.scalar(i64, 0), limit, n.scalar(i64, 1));
  auto along = [&](int64_t d) {
    SmallVector<int64_t> dims(rank, 1);
    dims[d] = -1;
    return n.reshapeToDims(range, dims);
  };
  auto rows = along(p), cols = along(q);
  if (failed(rows) || failed(cols))
    return failure();
  auto equal = n.build<vt::EqualOp>(*rows, *cols);
  if (failed(equal))
    return failure();
  auto masked = n.build<vt::MulOp>(x, n.castTo(*equal, type.getElementType()));
  if (failed(masked))
    return failure();
  return n.build<vt::ReduceSumOp>(*masked, ArrayRef<int64_t>{q}, false);
}

FailureOr<Term> EinsumBuilder::diagonals(Term t) {
  for (int64_t p = 0; p < (int64_t)t.labels.size(); ++p) {
    // Each repeat of labels[p] after it collapses onto p in turn.
    for (int64_t q = p + 1; q < (int64_t)t.labels.size();) {
      if (t.labels[q] != t.labels[p]) {
        ++q;
        continue;
      }
      auto diag = diagonal(t.value, p, q);
      if (failed(diag))
        return failure();
      t.value = *diag;
      t.labels.erase(t.labels.begin() + q);
    }
  }
  return t;
}

FailureOr<Term> EinsumBuilder::sumOutAllBut(Term t, ArrayRef<Label> keep) {
  SmallVector<int64_t> axes;
  SmallVector<Label> kept;
  for (auto [d, l] : llvm::enumerate(t.labels)) {
    if (llvm::is_contained(keep, l))
      kept.push_back(l);
    else
      axes.push_back(d);
  }
  if (axes.empty())
    return t;
  auto sum = n.build<vt::ReduceSumOp>(t.value, axes, false);
  if (failed(sum))
    return failure();
  return Term{*sum, kept};
}

FailureOr<Term> EinsumBuilder::permute(Term t, ArrayRef<Label> order) {
  SmallVector<int64_t> perm;
  for (Label l : order)
    perm.push_back(positionOf(t.labels, l));
  if (llvm::equal(perm, llvm::seq<int64_t>(0, perm.size())))
    return t;
  auto transposed = n.build<vt::TransposeOp>(t.value, perm);
  if (failed(transposed))
    return failure();
  return Term{*transposed, SmallVector<Label>(order)};
}

/// Removes dims (of static size 1) at `positions`.
FailureOr<Term> EinsumBuilder::dropDims(Term t, ArrayRef<int64_t> positions) {
  if (positions.empty())
    return t;
  SmallVector<int64_t> dims;
  SmallVector<Label> labels;
  for (auto [d, l] : llvm::enumerate(t.labels)) {
    if (llvm::is_contained(positions, (int64_t)d))
      continue;
    dims.push_back(-((int64_t)d + 1));
    labels.push_back(l);
  }
  auto reshaped = n.reshapeToDims(t.value, dims);
  if (failed(reshaped))
    return failure();
  return Term{*reshaped, labels};
}

/// Reshapes `x` so that result dim i is the product of `result[i]`'s dims.
/// A constant shape (or NodeImporter::reshapeToDims' copies of x's own
/// dims) where it can; otherwise the dynamic sizes come from vt.shape_of and
/// are multiplied at run time. No op when the shape stays as it is.
FailureOr<Value> EinsumBuilder::reshapeTo(Value x, ArrayRef<MergedDim> result) {
  auto type = tensorType(x);
  bool identity = (int64_t)result.size() == type.getRank();
  for (auto [i, r] : llvm::enumerate(result))
    identity &= r.source == x && r.dims.size() == 1 && r.dims[0] == (int64_t)i;
  if (identity)
    return x;

  SmallVector<int64_t> shape, dims;
  bool simple = true;
  for (const MergedDim &r : result) {
    int64_t product = 1;
    bool dynamic = false;
    for (int64_t d : r.dims) {
      int64_t size = tensorType(r.source).getDimSize(d);
      if (size == kDyn)
        dynamic = true;
      else if (llvm::MulOverflow(product, size, product))
        return n.error() << "merging dims for a matmul overflows a 64-bit size";
    }
    shape.push_back(dynamic ? kDyn : product);
    if (!dynamic)
      dims.push_back(product);
    else if (r.source == x && r.dims.size() == 1)
      dims.push_back(-(r.dims[0] + 1));
    else
      simple = false;
  }
  if (simple)
    return n.reshapeToDims(x, dims);

  OpBuilder &b = n.builder();
  SmallVector<Value> pieces;
  SmallVector<int64_t> run;
  auto flush = [&] {
    if (!run.empty())
      pieces.push_back(n.constI64(run));
    run.clear();
  };
  for (auto [r, size] : llvm::zip(result, shape)) {
    if (size != kDyn) {
      run.push_back(size);
      continue;
    }
    flush();
    Value product;
    int64_t factor = 1; // cannot overflow: checked with the dims above
    for (int64_t d : r.dims) {
      int64_t s = tensorType(r.source).getDimSize(d);
      if (s != kDyn) {
        factor *= s;
        continue;
      }
      auto dim = n.build<vt::GatherOp>(shapeOf(r.source), n.constI64({d}),
                                       b.getI64IntegerAttr(0));
      if (failed(dim))
        return failure();
      product = product ? *n.build<vt::MulOp>(product, *dim) : *dim;
    }
    if (factor != 1)
      product = *n.build<vt::MulOp>(product, n.constI64({factor}));
    pieces.push_back(product);
  }
  flush();
  Value shapeValue = pieces.front();
  if (pieces.size() > 1) {
    auto concat = n.build<vt::ConcatOp>(pieces, b.getI64IntegerAttr(0));
    if (failed(concat))
      return failure();
    shapeValue = *concat;
  }
  return vt::ReshapeOp::create(
             b, n.loc(), RankedTensorType::get(shape, type.getElementType()), x,
             shapeValue)
      .getResult();
}

FailureOr<Term> EinsumBuilder::contract(Term lhs, Term rhs,
                                        ArrayRef<Label> later) {
  // Broadcasting: a shared label with a static 1 on one side belongs to the
  // other side alone (summed out there below unless needed later).
  SmallVector<int64_t> dropLhs, dropRhs;
  for (auto [i, l] : llvm::enumerate(lhs.labels)) {
    int64_t j = positionOf(rhs.labels, l);
    if (j < 0)
      continue;
    int64_t sizeL = tensorType(lhs.value).getDimSize(i);
    int64_t sizeR = tensorType(rhs.value).getDimSize(j);
    if (sizeL == 1 && sizeR != 1)
      dropLhs.push_back(i);
    else if (sizeR == 1)
      dropRhs.push_back(j);
  }
  auto l = dropDims(lhs, dropLhs);
  auto r = dropDims(rhs, dropRhs);
  if (failed(l) || failed(r))
    return failure();

  // Labels one side has and nothing later needs are summed out first, so
  // the matmul only contracts labels both sides have.
  auto neededBesides = [&](const Term &other) {
    SmallVector<Label> keep(later);
    llvm::append_range(keep, other.labels);
    return keep;
  };
  l = sumOutAllBut(*l, neededBesides(*r));
  if (failed(l))
    return failure();
  r = sumOutAllBut(*r, neededBesides(*l));
  if (failed(r))
    return failure();

  SmallVector<Label> batch, contracted, lhsFree, rhsFree;
  for (Label x : l->labels) {
    if (!llvm::is_contained(r->labels, x))
      lhsFree.push_back(x);
    else if (llvm::is_contained(later, x))
      batch.push_back(x);
    else
      contracted.push_back(x);
  }
  for (Label x : r->labels)
    if (!llvm::is_contained(l->labels, x))
      rhsFree.push_back(x);
  SmallVector<Label> resultLabels(batch);
  llvm::append_range(resultLabels, lhsFree);
  llvm::append_range(resultLabels, rhsFree);
  if ((int64_t)resultLabels.size() > kMaxRank)
    return n.error() << "an intermediate product has rank "
                     << resultLabels.size()
                     << ", above the importer's limit of " << kMaxRank;

  SmallVector<Label> lhsOrder(batch), rhsOrder(batch);
  llvm::append_range(lhsOrder, lhsFree);
  llvm::append_range(lhsOrder, contracted);
  llvm::append_range(rhsOrder, contracted);
  llvm::append_range(rhsOrder, rhsFree);
  l = permute(*l, lhsOrder);
  if (failed(l))
    return failure();
  r = permute(*r, rhsOrder);
  if (failed(r))
    return failure();
  Value a = l->value, c = r->value;
  int64_t nb = batch.size(), nl = lhsFree.size(), nk = contracted.size(),
          nr = rhsFree.size();
  auto span = [](Value v, int64_t from, int64_t count) {
    return MergedDim{v,
                     llvm::to_vector(llvm::seq<int64_t>(from, from + count))};
  };
  SmallVector<MergedDim> lhsDims, rhsDims;
  for (int64_t i = 0; i < nb; ++i) {
    lhsDims.push_back(span(a, i, 1));
    rhsDims.push_back(span(c, i, 1));
  }

  if (contracted.empty()) {
    // Nothing to sum: a broadcasting multiply of [batch, lhs free, 1...]
    // and [batch, 1..., rhs free], which fuses as elementwise.
    for (int64_t i = 0; i < nl; ++i) {
      lhsDims.push_back(span(a, nb + i, 1));
      rhsDims.push_back(span(c, 0, 0));
    }
    for (int64_t i = 0; i < nr; ++i) {
      lhsDims.push_back(span(a, 0, 0));
      rhsDims.push_back(span(c, nb + i, 1));
    }
    auto x = reshapeTo(a, lhsDims);
    auto y = reshapeTo(c, rhsDims);
    if (failed(x) || failed(y))
      return failure();
    auto product = n.build<vt::MulOp>(*x, *y);
    if (failed(product))
      return failure();
    return Term{*product, resultLabels};
  }

  // [batch, M, K] x [batch, K, N] with M, K, N the products of the lhs free,
  // contracted and rhs free dims (1 where there are none).
  lhsDims.push_back(span(a, nb, nl));
  lhsDims.push_back(span(a, nb + nl, nk));
  rhsDims.push_back(span(c, nb, nk));
  rhsDims.push_back(span(c, nb + nk, nr));
  auto x = reshapeTo(a, lhsDims);
  auto y = reshapeTo(c, rhsDims);
  if (failed(x) || failed(y))
    return failure();
  auto product = n.build<vt::MatmulOp>(*x, *y);
  if (failed(product))
    return failure();
  // Back to separate dims; a lone free dim is the matmul's M or N itself.
  Value p = *product;
  SmallVector<MergedDim> outDims;
  for (int64_t i = 0; i < nb; ++i)
    outDims.push_back(span(p, i, 1));
  for (int64_t i = 0; i < nl; ++i)
    outDims.push_back(nl == 1 ? span(p, nb, 1) : span(a, nb + i, 1));
  for (int64_t i = 0; i < nr; ++i)
    outDims.push_back(nr == 1 ? span(p, nb + 1, 1) : span(c, nb + nk + i, 1));
  auto result = reshapeTo(p, outDims);
  if (failed(result))
    return failure();
  return Term{*result, resultLabels};
}

//===----------------------------------------------------------------------===//
// The rule
//===----------------------------------------------------------------------===//

/// Einsum-12: one or more inputs of one element type, `equation`.
static LogicalResult importEinsum(NodeImporter &n) {
  if (n.numInputs() == 0)
    return n.error() << "expects at least one input";
  if (failed(n.expectInputs(n.numInputs())))
    return failure();
  if (!n.hasAttr("equation"))
    return n.error() << "missing attribute 'equation'";
  std::string text = n.attrString("equation", "");
  SmallVector<Value> inputs = n.inputs();
  for (Value v : inputs)
    if (tensorType(v).getElementType() !=
        tensorType(inputs[0]).getElementType())
      return n.error() << "inputs must share one element type, got "
                       << inputs[0].getType() << " and " << v.getType();
  auto eq = parseEquation(n, text, inputs);
  if (failed(eq) || failed(checkSizes(n, text, *eq, inputs)))
    return failure();

  EinsumBuilder builder(n);
  SmallVector<Term> terms;
  for (auto [v, labels] : llvm::zip(inputs, eq->inputs)) {
    auto t = builder.diagonals(Term{v, labels});
    if (failed(t))
      return failure();
    terms.push_back(*t);
  }
  FailureOr<Term> acc = terms.front();
  if (terms.size() == 1)
    acc = builder.sumOutAllBut(*acc, eq->output);
  for (size_t i = 1; i < terms.size() && succeeded(acc); ++i) {
    SmallVector<Label> later(eq->output);
    for (const Term &t : llvm::drop_begin(terms, i + 1))
      llvm::append_range(later, t.labels);
    acc = builder.contract(*acc, terms[i], later);
  }
  if (failed(acc))
    return failure();
  acc = builder.permute(*acc, eq->output);
  if (failed(acc))
    return failure();
  n.setResult(0, acc->value);
  return success();
}

void vitc::onnx_import::registerOpsEinsum(OpRegistry &r) {
  r.add("Einsum", 12, importEinsum);
}
