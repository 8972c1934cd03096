//===- Npy.cpp - read and write NumPy .npy files --------------------------===//
#include "Npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace vitc::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct FileCloser {
  void operator()(FILE *file) const { std::fclose(file); }
};
using File = std::unique_ptr<FILE, FileCloser>;

/// The text after `'key':` in the header dict, with leading spaces skipped.
const char *findKey(const std::string &header, const char *key) {
  std::string quoted = std::string("'") + key + "'";
  size_t at = header.find(quoted);
  if (at == std::string::npos)
    return nullptr;
  at = header.find(':', at + quoted.size());
  if (at == std::string::npos)
    return nullptr;
  const char *p = header.c_str() + at + 1;
  while (*p == ' ')
    ++p;
  return p;
}

struct DescrInfo {
  const char *descr;
  rt::DType dtype;
};
// Byte order '<' (little), '|' (not applicable) and '=' (native, which is
// little-endian on every host the runtime supports).
constexpr DescrInfo kDescrs[] = {
    {"f4", rt::DType::F32}, {"f8", rt::DType::F64}, {"f2", rt::DType::F16},
    {"i8", rt::DType::I64}, {"i4", rt::DType::I32}, {"i1", rt::DType::I8},
    {"u1", rt::DType::U8},  {"b1", rt::DType::I1},
};

bool parseDescr(const std::string &descr, rt::DType &dtype,
                std::string &problem) {
  if (descr.size() < 2) {
    problem = "unsupported dtype '" + descr + "'";
    return false;
  }
  char order = descr[0];
  std::string code = descr.substr(1);
  if (order == '>' && code != "u1" && code != "i1" && code != "b1") {
    problem = "big-endian data ('" + descr + "') is not supported";
    return false;
  }
  for (const DescrInfo &info : kDescrs)
    if (code == info.descr) {
      dtype = info.dtype;
      return true;
    }
  problem = "unsupported dtype '" + descr +
            "' (supported: float32, float64, float16, int64, int32, int8, "
            "uint8, bool)";
  return false;
}

bool parseHeader(const std::string &header, Array &array,
                 std::string &problem) {
  const char *descr = findKey(header, "descr");
  const char *fortran = findKey(header, "fortran_order");
  const char *shape = findKey(header, "shape");
  if (!descr || !fortran || !shape || *descr != '\'' || *shape != '(') {
    problem = "malformed header";
    return false;
  }
  const char *end = std::strchr(descr + 1, '\'');
  if (!end) {
    problem = "malformed header";
    return false;
  }
  if (!parseDescr(std::string(descr + 1, end), array.dtype, problem))
    return false;
  if (std::strncmp(fortran, "True", 4) == 0) {
    problem = "Fortran-order arrays are not supported (save with "
              "numpy.ascontiguousarray)";
    return false;
  }
  if (std::strncmp(fortran, "False", 5) != 0) {
    problem = "malformed header";
    return false;
  }
  array.shape.clear();
  const char *p = shape + 1;
  while (true) {
    while (*p == ' ' || *p == ',')
      ++p;
    if (*p == ')')
      break;
    char *next;
    errno = 0;
    long long dim = std::strtoll(p, &next, 10);
    if (next == p || errno || dim < 0) {
      problem = "malformed shape in header";
      return false;
    }
    array.shape.push_back(dim);
    p = next;
  }
  return true;
}

} // namespace

rt::StatusOr<Array> readNpy(const std::string &path) {
  File file(std::fopen(path.c_str(), "rb"));
  if (!file)
    return rt::Status::error("cannot open '" + path +
                             "': " + std::strerror(errno));
  auto bad = [&](const std::string &problem) {
    return rt::Status::error("'" + path +
                             "' is not a valid .npy file: " + problem);
  };
  unsigned char prefix[kMagicSize + 2];
  if (std::fread(prefix, 1, sizeof(prefix), file.get()) != sizeof(prefix) ||
      std::memcmp(prefix, kMagic, kMagicSize) != 0)
    return bad("bad magic");
  unsigned major = prefix[kMagicSize];
  uint64_t headerLength = 0;
  if (major == 1) {
    unsigned char length[2];
    if (std::fread(length, 1, 2, file.get()) != 2)
      return bad("truncated header");
    headerLength = length[0] | (length[1] << 8);
  } else if (major == 2 || major == 3) {
    unsigned char length[4];
    if (std::fread(length, 1, 4, file.get()) != 4)
      return bad("truncated header");
    headerLength = length[0] | (length[1] << 8) | (length[2] << 16) |
                   (static_cast<uint64_t>(length[3]) << 24);
  } else {
    return bad("unsupported format version " + std::to_string(major));
  }
  if (headerLength > (1u << 24))
    return bad("header too large");
  std::string header(headerLength, '\0');
  if (std::fread(header.data(), 1, headerLength, file.get()) != headerLength)
    return bad("truncated header");
  Array array;
  std::string problem;
  if (!parseHeader(header, array, problem)) {
    if (problem.rfind("malformed", 0) == 0)
      return bad(problem);
    return rt::Status::error("'" + path + "': " + problem);
  }
  uint64_t count = 1;
  for (int64_t dim : array.shape) {
    if (dim != 0 && count > (uint64_t(1) << 40) / static_cast<uint64_t>(dim))
      return bad("shape too large");
    count *= static_cast<uint64_t>(dim);
  }
  uint64_t bytes = count * rt::dtypeSize(array.dtype);
  array.data.resize(bytes);
  if (bytes && std::fread(array.data.data(), 1, bytes, file.get()) != bytes)
    return bad("truncated data (expected " + std::to_string(bytes) +
               " bytes for shape " + rt::shapeString(array.shape) + ")");
  return array;
}

rt::Status writeNpy(const std::string &path, rt::DType dtype,
                    const std::vector<int64_t> &shape, const void *data) {
  const char *descr = nullptr;
  switch (dtype) {
  case rt::DType::F32: descr = "<f4"; break;
  case rt::DType::F64: descr = "<f8"; break;
  case rt::DType::F16: descr = "<f2"; break;
  case rt::DType::I64: descr = "<i8"; break;
  case rt::DType::I32: descr = "<i4"; break;
  case rt::DType::I8: descr = "|i1"; break;
  case rt::DType::U8: descr = "|u1"; break;
  case rt::DType::I1: descr = "|b1"; break;
  case rt::DType::BF16: break;
  }
  if (!descr)
    return rt::Status::error("cannot write '" + path + "': " +
                             rt::dtypeName(dtype) + " has no .npy dtype");
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (";
  uint64_t count = 1;
  for (int64_t dim : shape) {
    dict += std::to_string(dim) + ", ";
    count *= static_cast<uint64_t>(dim);
  }
  // "(2, 3)", but "(2,)" for one dimension, as Python writes tuples.
  if (shape.size() > 1)
    dict.erase(dict.size() - 2);
  else if (shape.size() == 1)
    dict.erase(dict.size() - 1);
  dict += "), }";
  // Pad with spaces and end with '\n' so the data starts 64-byte aligned.
  bool v2 = dict.size() + 11 > 65535;
  size_t prefix = kMagicSize + 2 + (v2 ? 4 : 2);
  size_t total = (prefix + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefix - dict.size() - 1, ' ');
  dict += '\n';

  File file(std::fopen(path.c_str(), "wb"));
  if (!file)
    return rt::Status::error("cannot write '" + path +
                             "': " + std::strerror(errno));
  std::string head(kMagic, kMagicSize);
  head += static_cast<char>(v2 ? 2 : 1);
  head += '\0';
  uint64_t length = dict.size();
  for (int i = 0; i < (v2 ? 4 : 2); ++i)
    head += static_cast<char>((length >> (8 * i)) & 0xff);
  head += dict;
  uint64_t bytes = count * rt::dtypeSize(dtype);
  bool ok = std::fwrite(head.data(), 1, head.size(), file.get()) == head.size() &&
            (bytes == 0 ||
             std::fwrite(data, 1, bytes, file.get()) == bytes);
  ok = (std::fclose(file.release()) == 0) && ok;
  if (!ok)
    return rt::Status::error("cannot write '" + path +
                             "': " + std::strerror(errno));
  return rt::Status::ok();
}

} // namespace vitc::npy
