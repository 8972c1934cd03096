//===- Tensors.cpp - ONNX TensorProto to MLIR attributes --------------------===//
//
// Weights become `dense_resource` blobs so a 330 MB model never inflates the
// IR and imports in seconds: inline raw_data is moved into the blob without
// a copy, external data is read straight into a heap blob. Small integer
// tensors (shapes, axes), scalars and tiny float tensors stay plain dense
// attributes so that the vt folders can evaluate them.
//
//===----------------------------------------------------------------------===//
#include "ImporterImpl.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cstring>

using namespace mlir;
using namespace vitc::onnx_import;
using ::onnx::TensorProto;

/// Float tensors up to this many elements stay dense (biases of tiny layers,
/// scalars such as the 1/sqrt(d) of attention), so folders see them.
static constexpr int64_t kMaxDenseFloatElements = 16;
/// Integer and bool tensors up to this many elements stay dense (shapes,
/// axes, index tables); larger ones become blobs.
static constexpr int64_t kMaxDenseIntElements = 4096;
/// Alignment of heap blobs: enough for any element type and for vector loads.
static constexpr size_t kBlobAlignment = 64;

Type vitc::onnx_import::convertElementType(MLIRContext *ctx, int32_t onnxType) {
  Builder b(ctx);
  switch (onnxType) {
  case TensorProto::FLOAT:
    return b.getF32Type();
  case TensorProto::DOUBLE:
    return b.getF64Type();
  case TensorProto::FLOAT16:
    return b.getF16Type();
  case TensorProto::BFLOAT16:
    return b.getBF16Type();
  case TensorProto::BOOL:
    return b.getI1Type();
  case TensorProto::INT8:
    return b.getI8Type();
  case TensorProto::INT16:
    return b.getI16Type();
  case TensorProto::INT32:
    return b.getI32Type();
  case TensorProto::INT64:
    return b.getI64Type();
  // Unsigned types keep their signedness in the type: their division,
  // comparison and casts differ from the signed ones.
  case TensorProto::UINT8:
    return IntegerType::get(ctx, 8, IntegerType::Unsigned);
  case TensorProto::UINT16:
    return IntegerType::get(ctx, 16, IntegerType::Unsigned);
  case TensorProto::UINT32:
    return IntegerType::get(ctx, 32, IntegerType::Unsigned);
  case TensorProto::UINT64:
    return IntegerType::get(ctx, 64, IntegerType::Unsigned);
  default:
    return {};
  }
}

std::string vitc::onnx_import::dataTypeName(int32_t onnxType) {
  std::string name;
  if (TensorProto::DataType_IsValid(onnxType))
    name = TensorProto::DataType_Name((TensorProto::DataType)onnxType);
  return name.empty() ? "data type " + std::to_string(onnxType) : name;
}

/// Bytes per element in ONNX's raw layout (bool is one byte).
static int64_t byteWidth(Type elt) {
  return std::max<int64_t>(1, elt.getIntOrFloatBitWidth() / 8);
}

/// A resource key from a tensor name: MLIR keys are identifiers.
static std::string sanitizeKey(llvm::StringRef name) {
  std::string key;
  for (char c : name)
    key.push_back(llvm::isAlnum(c) || c == '_' || c == '.' ? c : '_');
  if (key.empty() || llvm::isDigit(key[0]))
    key.insert(key.begin(), '_');
  return key;
}

static std::string describe(const TensorProto &t) {
  return t.name().empty() ? std::string("constant tensor")
                          : "initializer '" + t.name() + "'";
}

/// Reads external data (`location`, `offset`, `length` entries, the location
/// relative to the model's directory) straight into a heap blob.
static FailureOr<AsmResourceBlob> readExternal(const TensorProto &t,
                                               llvm::StringRef modelDir,
                                               int64_t nbytes, size_t align,
                                               Location loc) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : t.external_data()) {
    long long v = 0;
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      if (llvm::StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return emitError(loc) << describe(t) << ": bad external data "
                              << entry.key() << " '" << entry.value() << "'";
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (location.empty())
    return emitError(loc) << describe(t)
                          << ": external data without a 'location'";
  if (length >= 0 && length != nbytes)
    return emitError(loc) << describe(t) << ": external data length " << length
                          << " does not match its type (" << nbytes
                          << " bytes)";
  llvm::SmallString<256> path(location);
  if (!llvm::sys::path::is_absolute(path)) {
    path = modelDir;
    llvm::sys::path::append(path, location);
  }
  if (!llvm::sys::fs::exists(path))
    return emitError(loc) << describe(t) << ": external data file '" << path
                          << "' not found";
  // Check the size first: mapping past the end of a file would fault later.
  uint64_t fileSize = 0;
  if (std::error_code ec = llvm::sys::fs::file_size(path, fileSize))
    return emitError(loc) << describe(t) << ": cannot read external data file '"
                          << path << "': " << ec.message();
  if ((uint64_t)(offset + nbytes) > fileSize)
    return emitError(loc) << describe(t) << ": external data file '" << path
                          << "' holds " << fileSize << " bytes, needs "
                          << offset + nbytes << " (offset " << offset << ")";
  auto file = llvm::MemoryBuffer::getFileSlice(path, nbytes, offset,
                                               /*IsVolatile=*/false);
  if (!file)
    return emitError(loc) << describe(t) << ": cannot read external data file '"
                          << path << "': " << file.getError().message();
  llvm::MemoryBuffer *buffer = file->release();
  ArrayRef<char> data(buffer->getBufferStart(), buffer->getBufferSize());
  if (reinterpret_cast<uintptr_t>(data.data()) % align != 0) {
    // An offset that is not a multiple of the element size: copy once.
    AsmResourceBlob copy =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(data, kBlobAlignment);
    delete buffer;
    return copy;
  }
  // getFileSlice maps large slices; the blob owns the mapping, so weights
  // are paged in from disk rather than copied.
  return AsmResourceBlob(data, align,
                         [buffer](void *, size_t, size_t) { delete buffer; },
                         /*dataIsMutable=*/false);
}

/// Moves inline raw_data into a blob (no copy when the string is aligned).
static AsmResourceBlob takeRawData(TensorProto &t, size_t align) {
  std::string *raw = t.release_raw_data();
  if (reinterpret_cast<uintptr_t>(raw->data()) % align != 0) {
    AsmResourceBlob copy = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(raw->data(), raw->size()), kBlobAlignment);
    delete raw;
    return copy;
  }
  return AsmResourceBlob(ArrayRef<char>(raw->data(), raw->size()), align,
                         [raw](void *, size_t, size_t) { delete raw; },
                         /*dataIsMutable=*/false);
}

/// Packs the typed repeated fields (float_data, int32_data, ...) into ONNX's
/// raw little-endian layout.
static FailureOr<AsmResourceBlob> packTypedFields(const TensorProto &t,
                                                  Type elt, int64_t numel,
                                                  Location loc) {
  int64_t width = byteWidth(elt);
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocate(numel * width, kBlobAlignment);
  char *out = blob.getMutableData().data();
  auto check = [&](int64_t have) -> LogicalResult {
    if (have == numel)
      return success();
    return emitError(loc) << describe(t) << ": holds " << have
                          << " values, its shape needs " << numel;
  };
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    if (failed(check(t.float_data_size())))
      return failure();
    std::memcpy(out, t.float_data().data(), numel * 4);
    break;
  case TensorProto::DOUBLE:
    if (failed(check(t.double_data_size())))
      return failure();
    std::memcpy(out, t.double_data().data(), numel * 8);
    break;
  case TensorProto::INT64:
    if (failed(check(t.int64_data_size())))
      return failure();
    std::memcpy(out, t.int64_data().data(), numel * 8);
    break;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    if (failed(check(t.uint64_data_size())))
      return failure();
    for (int64_t i = 0; i < numel; ++i) {
      uint64_t v = t.uint64_data(i);
      std::memcpy(out + i * width, &v, width); // little-endian truncation
    }
    break;
  default:
    // int32_data carries every narrower type (and fp16/bf16 bit patterns).
    if (failed(check(t.int32_data_size())))
      return failure();
    for (int64_t i = 0; i < numel; ++i) {
      int32_t v = t.int32_data(i);
      std::memcpy(out + i * width, &v, width);
    }
  }
  return blob;
}

FailureOr<ElementsAttr>
vitc::onnx_import::convertTensor(TensorProto &t, llvm::StringRef modelDir,
                                 llvm::StringRef name, Location loc) {
  MLIRContext *ctx = loc.getContext();
  Type elt = convertElementType(ctx, t.data_type());
  if (!elt)
    return emitError(loc) << describe(t) << ": unsupported data type "
                          << dataTypeName(t.data_type());
  SmallVector<int64_t> shape;
  int64_t numel = 1;
  for (int64_t d : t.dims()) {
    if (d < 0)
      return emitError(loc) << describe(t) << ": negative dim " << d;
    shape.push_back(d);
    numel *= d;
  }
  auto type = RankedTensorType::get(shape, elt);
  int64_t nbytes = numel * byteWidth(elt);
  size_t align = byteWidth(elt);

  FailureOr<AsmResourceBlob> blob = failure();
  if (t.data_location() == TensorProto::EXTERNAL) {
    blob = readExternal(t, modelDir, nbytes, align, loc);
  } else if (t.has_raw_data()) {
    if ((int64_t)t.raw_data().size() != nbytes)
      return emitError(loc) << describe(t) << ": raw_data holds "
                            << t.raw_data().size() << " bytes, its type "
                            << type << " needs " << nbytes;
    blob = takeRawData(t, align);
  } else {
    blob = packTypedFields(t, elt, numel, loc);
  }
  if (failed(blob))
    return failure();

  bool isFloat = isa<FloatType>(elt);
  bool dense = isFloat ? numel <= kMaxDenseFloatElements
                       : (numel <= kMaxDenseIntElements || elt.isInteger(1));
  if (dense) {
    ArrayRef<char> bytes = blob->getData();
    if (elt.isInteger(1)) {
      SmallVector<bool> bits;
      for (char c : bytes)
        bits.push_back(c != 0);
      return cast<ElementsAttr>(DenseElementsAttr::get(type, bits));
    }
    return cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(type, bytes));
  }
  return cast<ElementsAttr>(
      DenseResourceElementsAttr::get(type, sanitizeKey(name), std::move(*blob)));
}
