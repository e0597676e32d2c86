#include "engine/imap/sequence_set.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

// 0 for '*'; nullopt for junk or zero.
std::optional<uint32_t> ParseNumber(std::string_view s) {
  if (s == "*") return 0;
  if (s.empty() || s.size() > 10 || s[0] == '0') return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<uint32_t>(v);
}

}  // namespace

std::optional<SequenceSet> SequenceSet::Parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  SequenceSet set;
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), ',')) {
    std::string_view p = ToStd(part);
    size_t colon = p.find(':');
    std::optional<uint32_t> low = ParseNumber(p.substr(0, colon));
    std::optional<uint32_t> high =
        colon == std::string_view::npos ? low : ParseNumber(p.substr(colon + 1));
    if (!low || !high) return std::nullopt;
    set.ranges_.push_back({*low, *high});
  }
  return set;
}

SequenceSet SequenceSet::Of(const std::vector<uint32_t>& numbers) {
  SequenceSet set;
  std::vector<uint32_t> sorted = numbers;
  std::sort(sorted.begin(), sorted.end());
  for (uint32_t n : sorted) {
    if (n == 0) continue;
    if (!set.ranges_.empty() && set.ranges_.back().high + 1 == n) {
      set.ranges_.back().high = n;
    } else if (set.ranges_.empty() || set.ranges_.back().high != n) {
      set.ranges_.push_back({n, n});
    }
  }
  return set;
}

bool SequenceSet::Contains(uint32_t n, uint32_t largest) const {
  for (const Range& r : ranges_) {
    uint32_t a = r.low == 0 ? largest : r.low;
    uint32_t b = r.high == 0 ? largest : r.high;
    if (a > b) std::swap(a, b);
    if (n >= a && n <= b) return true;
  }
  return false;
}

std::vector<size_t> SequenceSet::Select(const std::vector<uint32_t>& sorted) const {
  std::vector<size_t> out;
  if (sorted.empty()) return out;
  uint32_t largest = sorted.back();
  for (const Range& r : ranges_) {
    uint32_t a = r.low == 0 ? largest : r.low;
    uint32_t b = r.high == 0 ? largest : r.high;
    if (a > b) std::swap(a, b);
    auto first = std::lower_bound(sorted.begin(), sorted.end(), a);
    auto last = std::upper_bound(sorted.begin(), sorted.end(), b);
    for (auto it = first; it < last; ++it) out.push_back(static_cast<size_t>(it - sorted.begin()));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<uint32_t> SequenceSet::Expand(uint32_t count) const {
  std::vector<uint32_t> out;
  for (const Range& r : ranges_) {
    uint32_t a = r.low == 0 ? count : r.low;
    uint32_t b = r.high == 0 ? count : r.high;
    if (a > b) std::swap(a, b);
    b = std::min(b, count);
    for (uint32_t n = a; n >= 1 && n <= b; ++n) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string SequenceSet::ToString() const {
  std::string out;
  for (const Range& r : ranges_) {
    if (!out.empty()) out += ',';
    auto num = [](uint32_t v) { return v == 0 ? std::string("*") : std::to_string(v); };
    out += r.low == r.high ? num(r.low) : num(r.low) + ":" + num(r.high);
  }
  return out;
}

}  // namespace salvo::imap
