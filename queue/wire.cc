#include "queue/wire.h"

namespace salvo::queue::wire {

void PutVarint(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; i < 10 && i < static_cast<int>(in->size()); ++i, shift += 7) {
    uint8_t byte = static_cast<uint8_t>((*in)[i]);
    result |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

bool FieldReader::Next(Field* f) {
  while (!in_.empty()) {
    uint64_t key;
    if (!GetVarint(&in_, &key) || (key >> 3) == 0 || (key >> 3) > UINT32_MAX) {
      status_ = absl::DataLossError("spool record: bad field key");
      return false;
    }
    f->number = static_cast<uint32_t>(key >> 3);
    f->type = static_cast<WireType>(key & 7);
    switch (f->type) {
      case kVarint:
        if (!GetVarint(&in_, &f->varint)) break;
        return true;
      case kBytes: {
        uint64_t len;
        if (!GetVarint(&in_, &len) || len > in_.size()) break;
        f->bytes = in_.substr(0, len);
        in_.remove_prefix(len);
        return true;
      }
      case kFixed64:
      case kFixed32: {  // not used by this version: skip
        size_t n = f->type == kFixed64 ? 8 : 4;
        if (in_.size() < n) break;
        in_.remove_prefix(n);
        continue;
      }
      default:
        status_ = absl::DataLossError("spool record: unknown wire type");
        return false;
    }
    status_ = absl::DataLossError("spool record: truncated field");
    return false;
  }
  return false;
}

}  // namespace salvo::queue::wire
