// Domain names and the patterns that select destinations in the config:
// "example.com" matches that name only; "*.example.com" matches any name
// below it (a.example.com, a.b.example.com) but not example.com itself.
// Matching is case-insensitive and ignores one trailing dot. Names are
// checked as LDH host names (RFC 1123 labels; '_' refused); patterns and
// names are stored lowercase.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace salvo {

// OK if `name` is a syntactically valid host or domain name.
absl::Status CheckDomainName(std::string_view name);

class DomainPattern {
 public:
  DomainPattern() = default;
  static absl::StatusOr<DomainPattern> Parse(std::string_view text);

  bool Matches(std::string_view name) const;
  const std::string& text() const { return text_; }
  bool wildcard() const { return wildcard_; }

  friend bool operator==(const DomainPattern&, const DomainPattern&) = default;

 private:
  std::string text_;    // as written, lowercased: "*.example.com"
  std::string suffix_;  // "example.com"
  bool wildcard_ = false;
};

}  // namespace salvo
