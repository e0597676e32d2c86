// A stored record of the spool or the mailbox: one format-version byte, then
// wire fields (wire.h). The helpers every codec of queue/ shares: the version
// check, the walk over fields, and typed field reads.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "queue/wire.h"

namespace salvo::queue::wire {

class RecordFormat {
 public:
  // `store` names the owner in errors ("spool", "mailbox").
  constexpr RecordFormat(const char* store, uint8_t version) : store_(store), version_(version) {}

  absl::Status Damaged(const char* what, const char* why) const {
    return absl::DataLossError(fmt::format("{} {} record: {}", store_, what, why));
  }
  // Checks the version byte and returns the fields after it.
  absl::StatusOr<std::string_view> Fields(std::string_view value, const char* what) const {
    if (value.empty()) return Damaged(what, "empty value");
    uint8_t version = static_cast<uint8_t>(value[0]);
    if (version == 0) return Damaged(what, "format version 0");
    if (version > version_) {
      return absl::FailedPreconditionError(
          fmt::format("{} {} record has format v{}, newer than this Salvo reads (v{})", store_,
                      what, version, version_));
    }
    return value.substr(1);
  }
  // A new value: its version byte.
  std::string Begin() const { return std::string(1, static_cast<char>(version_)); }

  // Walks the fields of `body`, calling `on(field)` for each; `on` returns
  // false for a known field of the wrong wire type.
  template <typename On>
  absl::Status ForEachField(std::string_view body, const char* what, On on) const {
    FieldReader r(body);
    Field f;
    while (r.Next(&f)) {
      if (!on(f)) return Damaged(what, "field of the wrong type");
    }
    return r.status();
  }

 private:
  const char* store_;
  uint8_t version_;
};

inline bool Str(const Field& f, std::string* out) {
  if (f.type != kBytes) return false;
  out->assign(f.bytes.data(), f.bytes.size());
  return true;
}
template <typename Int>
bool Num(const Field& f, Int* out) {
  if (f.type != kVarint) return false;
  *out = static_cast<Int>(f.varint);
  return true;
}

}  // namespace salvo::queue::wire
