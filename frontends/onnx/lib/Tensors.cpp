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
#include "llvm/Support/MathExtras.h"
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

std::optional<int64_t>
vitc::onnx_import::staticByteSize(ArrayRef<int64_t> shape, Type elt) {
  // Zero dims do not excuse the others: later stages multiply dims in
  // order, so [2^40, 2^40, 0] would overflow there.
  int64_t bytes = byteWidth(elt);
  for (int64_t d : shape)
    if (d > 0 && llvm::MulOverflow(bytes, d, bytes))
      return std::nullopt;
  return llvm::is_contained(shape, 0) ? 0 : bytes;
}

namespace {
/// An external data file, resolved.
struct ExternalFile {
  std::string path;
  uint64_t size;
};
} // namespace

/// Resolves an external data `location` to a regular file inside the
/// model's directory. As the ONNX checker and onnxruntime do, a location
/// that is absolute, has a `..` component, or resolves (through symlinks)
/// to a file outside the directory is refused: a model must not make the
/// compiler read files it did not ship with and bake them into an artifact.
/// Both sides are canonicalised (realpath), and the file is then read by its
/// canonical path, so a symlink cannot be swapped in between.
static FailureOr<ExternalFile> resolveExternal(const TensorProto &t,
                                               llvm::StringRef location,
                                               llvm::StringRef modelDir,
                                               Location loc) {
  namespace fs = llvm::sys::fs;
  namespace path = llvm::sys::path;
  auto refuse = [&]() {
    return emitError(loc) << describe(t) << ": external data location '"
                          << location << "' ";
  };
  if (location.empty())
    return emitError(loc) << describe(t)
                          << ": external data without a 'location'";
  // The OS would see the path up to the first NUL, not what was checked.
  if (location.contains('\0'))
    return refuse() << "contains a NUL byte";
  if (path::is_absolute(location) || path::has_root_name(location))
    return refuse() << "is an absolute path; it must be relative to the "
                       "model's directory";
  for (llvm::StringRef part :
       llvm::make_range(path::begin(location), path::end(location)))
    if (part == "..")
      return refuse() << "leaves the model's directory ('..')";

  llvm::SmallString<256> joined(modelDir), dir, real;
  path::append(joined, location);
  if (!fs::exists(joined))
    return emitError(loc) << describe(t) << ": external data file '" << joined
                          << "' not found";
  if (std::error_code ec = fs::real_path(modelDir, dir))
    return emitError(loc) << describe(t) << ": cannot resolve the model's "
                          << "directory '" << modelDir << "': " << ec.message();
  if (std::error_code ec = fs::real_path(joined, real))
    return emitError(loc) << describe(t) << ": cannot resolve external data "
                          << "file '" << joined << "': " << ec.message();
  llvm::StringRef inner = real;
  bool inside =
      inner.consume_front(dir) && !inner.empty() &&
      (path::is_separator(inner.front()) || path::is_separator(dir.back()));
  if (!inside)
    return refuse() << "resolves to '" << real
                    << "', outside the model's directory '" << dir << "'";
  // Not a FIFO or device (a read could block or never end), nor a folder.
  fs::file_status status;
  if (std::error_code ec = fs::status(real, status))
    return emitError(loc) << describe(t) << ": cannot read external data "
                          << "file '" << joined << "': " << ec.message();
  if (!fs::is_regular_file(status))
    return refuse() << "is not a regular file";
  return ExternalFile{real.str().str(), status.getSize()};
}

/// Reads external data (`location`, `offset`, `length` entries, the location
/// relative to the model's directory) straight into a heap blob. Every
/// number is checked against the tensor's type and the file's size before
/// anything is mapped: mapping past the end of a file would fault later.
static FailureOr<AsmResourceBlob> readExternal(const TensorProto &t,
                                               llvm::StringRef modelDir,
                                               int64_t nbytes, size_t align,
                                               Location loc) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : t.external_data()) {
    int64_t v = 0;
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      if (llvm::StringRef(entry.value()).getAsInteger(10, v) || v < 0)
        return emitError(loc)
               << describe(t) << ": bad external data " << entry.key() << " '"
               << entry.value() << "' (not a non-negative integer)";
      (entry.key() == "offset" ? offset : length) = v;
    }
  }
  if (length >= 0 && length != nbytes)
    return emitError(loc) << describe(t) << ": external data length " << length
                          << " does not match its type (" << nbytes
                          << " bytes)";
  FailureOr<ExternalFile> file = resolveExternal(t, location, modelDir, loc);
  if (failed(file))
    return failure();
  // Unsigned, and compared without adding: no sum can wrap.
  if ((uint64_t)offset > file->size ||
      (uint64_t)nbytes > file->size - (uint64_t)offset)
    return emitError(loc) << describe(t) << ": external data file '" << location
                          << "' (" << file->size << " bytes) is too short for "
                          << nbytes << " bytes at offset " << offset;
  auto slice = llvm::MemoryBuffer::getFileSlice(file->path, nbytes, offset,
                                                /*IsVolatile=*/false);
  if (!slice)
    return emitError(loc) << describe(t) << ": cannot read external data file '"
                          << location << "': " << slice.getError().message();
  llvm::MemoryBuffer *buffer = slice->release();
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

/// How many values the typed field that carries `t`'s data type holds.
static int64_t typedFieldSize(const TensorProto &t) {
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    return t.float_data_size();
  case TensorProto::DOUBLE:
    return t.double_data_size();
  case TensorProto::INT64:
    return t.int64_data_size();
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    return t.uint64_data_size();
  default:
    // int32_data carries every narrower type (and fp16/bf16 bit patterns).
    return t.int32_data_size();
  }
}

/// Packs the typed repeated fields (float_data, int32_data, ...) into ONNX's
/// raw little-endian layout. The count is checked first: the blob is sized
/// by the values present, never by the dims alone.
static FailureOr<AsmResourceBlob> packTypedFields(const TensorProto &t,
                                                  Type elt, int64_t numel,
                                                  Location loc) {
  int64_t have = typedFieldSize(t);
  if (have != numel)
    return emitError(loc) << describe(t) << ": holds " << have
                          << " values, its shape needs " << numel;
  int64_t width = byteWidth(elt);
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocate(numel * width, kBlobAlignment);
  if (numel == 0) // empty fields have no data pointer to copy from
    return blob;
  char *out = blob.getMutableData().data();
  switch (t.data_type()) {
  case TensorProto::FLOAT:
    std::memcpy(out, t.float_data().data(), numel * 4);
    break;
  case TensorProto::DOUBLE:
    std::memcpy(out, t.double_data().data(), numel * 8);
    break;
  case TensorProto::INT64:
    std::memcpy(out, t.int64_data().data(), numel * 8);
    break;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    for (int64_t i = 0; i < numel; ++i) {
      uint64_t v = t.uint64_data(i);
      std::memcpy(out + i * width, &v, width); // little-endian truncation
    }
    break;
  default:
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
  SmallVector<int64_t> shape(t.dims().begin(), t.dims().end());
  if ((int64_t)shape.size() > kMaxRank)
    return emitError(loc) << describe(t) << ": rank " << shape.size()
                          << " is above the importer's limit of " << kMaxRank;
  for (int64_t d : shape)
    if (d < 0)
      return emitError(loc) << describe(t) << ": negative dim " << d;
  // Every size below derives from these dims: none may overflow, and each
  // is checked against the data actually present before anything is
  // allocated (a crafted model may declare terabytes over a few bytes).
  std::optional<int64_t> size = staticByteSize(shape, elt);
  if (!size)
    return emitError(loc) << describe(t) << ": dims ["
                          << llvm::make_range(shape.begin(), shape.end())
                          << "] overflow a 64-bit byte size";
  int64_t nbytes = *size;
  int64_t numel = nbytes / byteWidth(elt);
  auto type = RankedTensorType::get(shape, elt);
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
