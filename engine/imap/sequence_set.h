// IMAP sequence sets (RFC 3501 §9 "sequence-set"): "1,3:5,7:*", for
// message sequence numbers or UIDs. '*' is the largest number in use (the
// last MSN, or the highest UID); a range's ends may come in either order.
// An I/O-free value type, with no limit on the text beyond the command's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace salvo::imap {

class SequenceSet {
 public:
  // nullopt for a malformed set (empty, zero, junk). "$" (RFC 5182) is not
  // supported.
  static std::optional<SequenceSet> Parse(std::string_view text);
  // A set from explicit numbers (for COPYUID and friends).
  static SequenceSet Of(const std::vector<uint32_t>& numbers);

  // True if `n` is in the set when '*' means `largest`.
  bool Contains(uint32_t n, uint32_t largest) const;
  // The set's numbers that exist in `sorted` (ascending), when '*' is the
  // last of `sorted` (0 if empty); as indexes into `sorted`.
  std::vector<size_t> Select(const std::vector<uint32_t>& sorted) const;
  // The set's numbers from 1 to `count` (message sequence numbers), ascending.
  std::vector<uint32_t> Expand(uint32_t count) const;
  // "1:3,5" (compact, ranges merged); "" when empty.
  std::string ToString() const;

 private:
  struct Range {
    uint32_t low = 0;  // 0 here means '*'
    uint32_t high = 0;
  };
  std::vector<Range> ranges_;
};

}  // namespace salvo::imap
