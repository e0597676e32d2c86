// Time-ordered 128-bit ids for spool records (UUIDv7 layout, RFC 9562):
//   48 bits Unix time in ms | 4 bits version (7) | 12 bits sequence |
//   2 bits variant | 62 bits random.
// Serialised big-endian, so the byte order of keys is the order of creation:
// a RocksDB iterator walks recipients and events oldest first. Within one
// thread ids are strictly increasing (the 12-bit sequence counts within a
// millisecond and borrows the next millisecond when it overflows); across
// threads they are ordered to the millisecond and unique by their 62 random
// bits.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace salvo::queue {

template <typename Tag>
class Id128 {
 public:
  static constexpr size_t kBytes = 16;

  constexpr Id128() = default;
  constexpr Id128(uint64_t hi, uint64_t lo) : hi_(hi), lo_(lo) {}

  uint64_t hi() const { return hi_; }
  uint64_t lo() const { return lo_; }
  bool empty() const { return hi_ == 0 && lo_ == 0; }
  // Creation time in ms since the Unix epoch (from the UUIDv7 time field).
  int64_t unix_ms() const { return static_cast<int64_t>(hi_ >> 16); }

  // 16 bytes, big-endian.
  void AppendTo(std::string* out) const {
    char b[kBytes];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(hi_ >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<char>(lo_ >> (56 - 8 * i));
    out->append(b, kBytes);
  }
  std::string Bytes() const {
    std::string s;
    AppendTo(&s);
    return s;
  }
  static std::optional<Id128> FromBytes(std::string_view b) {
    if (b.size() != kBytes) return std::nullopt;
    uint64_t hi = 0, lo = 0;
    for (int i = 0; i < 8; ++i) hi = (hi << 8) | static_cast<uint8_t>(b[i]);
    for (int i = 0; i < 8; ++i) lo = (lo << 8) | static_cast<uint8_t>(b[8 + i]);
    return Id128(hi, lo);
  }

  // Canonical UUID text: 8-4-4-4-12 lowercase hex.
  std::string ToString() const;
  // Accepts the canonical form or 32 bare hex digits.
  static std::optional<Id128> Parse(std::string_view text);

  friend auto operator<=>(const Id128&, const Id128&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Id128& id) {
    return H::combine(std::move(h), id.hi_, id.lo_);
  }

 private:
  uint64_t hi_ = 0;
  uint64_t lo_ = 0;
};

struct RecipientIdTag {};
struct ContentIdTag {};
struct EventIdTag {};

using RecipientId = Id128<RecipientIdTag>;
// A single message and a campaign both own one content record; their ids
// share the content key space.
using ContentId = Id128<ContentIdTag>;
using MessageId = ContentId;
using CampaignId = ContentId;
using EventId = Id128<EventIdTag>;

namespace internal {
// Next UUIDv7 (hi, lo) from the calling thread's generator.
void NextUuid7(int64_t now_ms, uint64_t* hi, uint64_t* lo);
int64_t NowUnixMs();
std::string UuidText(uint64_t hi, uint64_t lo);
bool ParseUuidText(std::string_view text, uint64_t* hi, uint64_t* lo);
}  // namespace internal

template <typename Id>
Id NewId(int64_t now_ms = internal::NowUnixMs()) {
  uint64_t hi, lo;
  internal::NextUuid7(now_ms, &hi, &lo);
  return Id(hi, lo);
}

template <typename Tag>
std::string Id128<Tag>::ToString() const {
  return internal::UuidText(hi_, lo_);
}

template <typename Tag>
std::optional<Id128<Tag>> Id128<Tag>::Parse(std::string_view text) {
  uint64_t hi, lo;
  if (!internal::ParseUuidText(text, &hi, &lo)) return std::nullopt;
  return Id128(hi, lo);
}

}  // namespace salvo::queue
