// The tag-length-value wire format under every spool value (codec.h).
//
// A value is one format-version byte followed by fields; each field is a
// varint key (number << 3 | wire type) and then a varint (type 0) or a
// varint length and that many bytes (type 2). Fixed 64- and 32-bit fields
// (types 1 and 5) are skipped when read, so a later Salvo may use them.
// Readers skip fields they do not know and keep defaults for fields that are
// missing: that is what lets a newer Salvo read an older spool (and an older
// one read a newer spool's records as long as the version byte allows).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace salvo::queue::wire {

enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kBytes = 2, kFixed32 = 5 };

void PutVarint(std::string* out, uint64_t v);
// Reads a varint from the front of `in`, consuming it.
bool GetVarint(std::string_view* in, uint64_t* v);

class FieldWriter {
 public:
  explicit FieldWriter(std::string* out) : out_(out) {}
  void Varint(uint32_t field, uint64_t v) {
    PutVarint(out_, (uint64_t{field} << 3) | kVarint);
    PutVarint(out_, v);
  }
  // Writes nothing for 0 (the default a reader assumes).
  void VarintIfSet(uint32_t field, uint64_t v) {
    if (v != 0) Varint(field, v);
  }
  void Bytes(uint32_t field, std::string_view b) {
    PutVarint(out_, (uint64_t{field} << 3) | kBytes);
    PutVarint(out_, b.size());
    out_->append(b.data(), b.size());
  }
  void BytesIfSet(uint32_t field, std::string_view b) {
    if (!b.empty()) Bytes(field, b);
  }
  // A nested message: `fill(FieldWriter&)` writes its fields.
  template <typename Fill>
  void Nested(uint32_t field, Fill fill) {
    std::string inner;
    FieldWriter w(&inner);
    fill(w);
    Bytes(field, inner);
  }

 private:
  std::string* out_;
};

struct Field {
  uint32_t number = 0;
  WireType type = kVarint;
  uint64_t varint = 0;
  std::string_view bytes;
};

class FieldReader {
 public:
  explicit FieldReader(std::string_view in) : in_(in) {}
  // Next known-shaped field; false at the end or on malformed input (then
  // status() says which).
  bool Next(Field* f);
  const absl::Status& status() const { return status_; }

 private:
  std::string_view in_;
  absl::Status status_;
};

}  // namespace salvo::queue::wire
