#include "engine/config/domain_pattern.h"

#include <cctype>

#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo {
namespace {

bool IsLdh(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::Status CheckDomainName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        fmt::format("\"{}\" is not a valid domain name: {}", name, why));
  };
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty()) return bad("it is empty");
  if (name.size() > 253) return bad("longer than 253 characters");
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty()) return bad("empty label");
    if (label.size() > 63) return bad("a label is longer than 63 characters");
    for (char c : label) {
      if (!IsLdh(c)) return bad(fmt::format("character '{}' is not allowed", c));
    }
    if (label.front() == '-' || label.back() == '-') return bad("a label starts or ends with '-'");
    start = dot + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<DomainPattern> DomainPattern::Parse(std::string_view text) {
  DomainPattern p;
  std::string_view name = text;
  if (name.starts_with("*.")) {
    p.wildcard_ = true;
    name.remove_prefix(2);
  }
  if (absl::Status s = CheckDomainName(name); !s.ok()) {
    return absl::InvalidArgumentError(
        fmt::format("bad pattern \"{}\": {} (write \"example.com\" or \"*.example.com\")", text,
                    std::string_view(s.message().data(), s.message().size())));
  }
  if (name.back() == '.') name.remove_suffix(1);
  p.suffix_ = AsciiLower(name);
  p.text_ = p.wildcard_ ? "*." + p.suffix_ : p.suffix_;
  return p;
}

bool DomainPattern::Matches(std::string_view name) const {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (suffix_.empty()) return false;
  if (!wildcard_) return EqualsIgnoreCase(name, suffix_);
  if (name.size() <= suffix_.size() + 1) return false;
  std::string_view tail = name.substr(name.size() - suffix_.size());
  return name[name.size() - suffix_.size() - 1] == '.' && EqualsIgnoreCase(tail, suffix_);
}

}  // namespace salvo
