#include "engine/smtp/server/address_parser.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/base/strings.h"

namespace salvo::smtp {
namespace {

constexpr size_t kMaxLocalPart = 64;
constexpr size_t kMaxDomain = 255;
constexpr size_t kMaxPath = 256;

bool IsAtext(unsigned char c) {
  if (absl::ascii_isalnum(c) || c >= 0x80) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '/':
    case '=':
    case '?':
    case '^':
    case '_':
    case '`':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsLabelChar(unsigned char c) { return absl::ascii_isalnum(c) || c == '-' || c >= 0x80; }

bool HasHighBit(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return true;
  }
  return false;
}

// Length of the local part at the start of `s` (up to '@' or '>'), or an
// error. Quoted strings keep their quotes.
absl::StatusOr<size_t> LocalPartLength(std::string_view s) {
  if (s.empty()) return absl::InvalidArgumentError("empty local part");
  size_t i = 0;
  if (s[0] == '"') {
    for (i = 1; i < s.size(); ++i) {
      unsigned char c = s[i];
      if (c == '\\') {
        if (++i >= s.size() || static_cast<unsigned char>(s[i]) < 0x20) break;
        continue;
      }
      if (c == '"') return i + 1;
      if (c < 0x20 || c == 0x7f) break;
    }
    return absl::InvalidArgumentError("unterminated or invalid quoted local part");
  }
  while (i < s.size() && (IsAtext(s[i]) || s[i] == '.')) ++i;
  if (i == 0 || s[0] == '.') return absl::InvalidArgumentError("invalid local part");
  return i;
}

}  // namespace

bool IsAddressLiteral(std::string_view d) {
  if (d.size() < 3 || d.front() != '[' || d.back() != ']') return false;
  std::string inner(d.substr(1, d.size() - 2));
  unsigned char buf[16];
  if (absl::StartsWithIgnoreCase(inner, "IPv6:")) {
    return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  }
  return inet_pton(AF_INET, inner.c_str(), buf) == 1;
}

bool IsValidDomain(std::string_view d) {
  if (d.empty() || d.size() > kMaxDomain) return false;
  if (d.front() == '[') return IsAddressLiteral(d);
  size_t label = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    unsigned char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    if (!IsLabelChar(c) || (label == 0 && c == '-') || ++label > 63) return false;
  }
  // A trailing dot (root) is not allowed in SMTP; a trailing '-' neither.
  return label > 0 && d.back() != '-';
}

absl::StatusOr<ParsedPath> ParsePath(std::string_view text, PathKind kind) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.empty() || text.front() != '<') {
    return absl::InvalidArgumentError("address must be enclosed in <>");
  }
  size_t close = text.find('>');
  // A quoted local part may contain '>': find the closing bracket after it.
  if (text.size() > 1 && text[1] == '"') {
    auto n = LocalPartLength(text.substr(1));
    if (!n.ok()) return n.status();
    close = text.find('>', 1 + *n);
  }
  if (close == std::string_view::npos) return absl::InvalidArgumentError("missing closing '>'");
  ParsedPath out;
  out.rest = text.substr(close + 1);
  if (!out.rest.empty() && out.rest.front() != ' ') {
    return absl::InvalidArgumentError("garbage after the address");
  }
  std::string_view path = text.substr(1, close - 1);
  if (path.size() > kMaxPath) return absl::InvalidArgumentError("address too long");
  if (path.empty()) {
    if (kind == PathKind::kForward) return absl::InvalidArgumentError("empty recipient address");
    return out;
  }
  // Source route "@a,@b:": accepted and ignored (RFC 5321 §4.1.1.3, C.).
  if (path.front() == '@') {
    size_t colon = path.find(':');
    if (colon == std::string_view::npos) return absl::InvalidArgumentError("bad source route");
    path.remove_prefix(colon + 1);
  }
  auto local_len = LocalPartLength(path);
  if (!local_len.ok()) return local_len.status();
  std::string_view local = path.substr(0, *local_len);
  if (local.size() > kMaxLocalPart) return absl::InvalidArgumentError("local part too long");
  std::string_view after = path.substr(*local_len);
  if (after.empty()) {
    if (kind == PathKind::kForward && absl::EqualsIgnoreCase(ToAbsl(local), "postmaster")) {
      out.address = std::string(local);
      return out;
    }
    return absl::InvalidArgumentError("address must contain a domain");
  }
  if (after.front() != '@') return absl::InvalidArgumentError("invalid character in local part");
  std::string_view domain = after.substr(1);
  if (!IsValidDomain(domain)) return absl::InvalidArgumentError("invalid domain");
  out.address = std::string(path);
  out.domain = std::string(domain);
  out.has_utf8 = HasHighBit(path);
  return out;
}

}  // namespace salvo::smtp
