#include "engine/imap/imap_string.h"

#include "fmt/format.h"

namespace salvo::imap {
namespace {

constexpr size_t kMaxQuoted = 1024;

bool NeedsLiteral(std::string_view s) {
  if (s.size() > kMaxQuoted) return true;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u == '\r' || u == '\n' || u == 0 || u >= 0x80) return true;
  }
  return false;
}

bool IsAtom(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '(' || c == ')' || c == '{' || c == '%' || c == '*' ||
        c == '"' || c == '\\' || c == '[' || c == ']') {
      return false;
    }
  }
  // '[' may be in an atom, but quoting it spares readers that take "BODY["
  // for a fetch section. NIL in any case reads as nil, not as the string
  // (RFC 3501 §9: case-insensitive).
  return !(s.size() == 3 && (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l');
}

}  // namespace

void AppendLiteral(std::string& out, std::string_view s) {
  out += fmt::format("{{{}}}\r\n", s.size());
  out.append(s);
}

void AppendString(std::string& out, std::string_view s) {
  if (NeedsLiteral(s)) {
    AppendLiteral(out, s);
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void AppendNString(std::string& out, std::optional<std::string_view> s, bool empty_is_nil) {
  if (!s || (empty_is_nil && s->empty())) {
    out += "NIL";
    return;
  }
  AppendString(out, *s);
}

void AppendAString(std::string& out, std::string_view s) {
  if (IsAtom(s)) {
    out.append(s);
  } else {
    AppendString(out, s);
  }
}

}  // namespace salvo::imap
