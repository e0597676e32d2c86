#include "engine/dkim/from_domain.h"

#include <fmt/format.h>

namespace salvo::dkim {
namespace {

// `value` without comments and line ends; quoted strings are replaced by a
// placeholder so that their '@', '<' or ',' do not count.
absl::StatusOr<std::string> Strip(std::string_view value) {
  std::string out;
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '\r' || c == '\n') continue;
    if (quoted) {
      if (c == '\\') ++i;
      if (c == '"') quoted = false;
      continue;
    }
    if (depth > 0) {
      if (c == '\\') ++i;
      if (c == '(') ++depth;
      if (c == ')') --depth;
      continue;
    }
    if (c == '(') {
      ++depth;
    } else if (c == '"') {
      quoted = true;
      out.push_back('q');
    } else {
      out.push_back(c);
    }
  }
  if (quoted || depth > 0) return absl::InvalidArgumentError("unbalanced From header");
  return out;
}

}  // namespace

absl::StatusOr<std::string> FromDomain(std::string_view value) {
  auto stripped = Strip(value);
  if (!stripped.ok()) return stripped.status();
  std::string_view s = *stripped;
  if (s.find(',') != std::string_view::npos) {
    return absl::InvalidArgumentError("From header names more than one mailbox");
  }
  size_t lt = s.rfind('<');
  if (lt != std::string_view::npos) {
    size_t gt = s.find('>', lt);
    if (gt == std::string_view::npos) return absl::InvalidArgumentError("From: missing '>'");
    s = s.substr(lt + 1, gt - lt - 1);
  }
  size_t at = s.rfind('@');
  if (at == std::string_view::npos) return absl::InvalidArgumentError("From: no address");
  std::string domain;
  for (char c : s.substr(at + 1)) {
    if (c == ' ' || c == '\t') continue;
    if (c == '[') return absl::InvalidArgumentError("From: domain literal");
    domain.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
  }
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  if (domain.empty()) return absl::InvalidArgumentError("From: empty domain");
  return domain;
}

}  // namespace salvo::dkim
