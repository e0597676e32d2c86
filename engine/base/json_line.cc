#include "engine/base/json_line.h"

#include <fmt/format.h>

namespace salvo {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Bytes copied as they are: printable ASCII other than '"' and '\\', and
// DEL (RFC 8259 requires escaping only below 0x20).
bool Plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

void AppendEscapedAscii(unsigned char c, std::string& out) {
  switch (c) {
    case '"':
      out.append("\\\"");
      return;
    case '\\':
      out.append("\\\\");
      return;
    case '\b':
      out.append("\\b");
      return;
    case '\f':
      out.append("\\f");
      return;
    case '\n':
      out.append("\\n");
      return;
    case '\r':
      out.append("\\r");
      return;
    case '\t':
      out.append("\\t");
      return;
    default:
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
  }
}

// The well-formed UTF-8 sequence a lead byte starts (RFC 3629 §4): its
// length and the range its second byte must fall in; length 0 for a byte
// that starts none (a continuation byte, C0, C1, F5..FF).
struct Lead {
  int length;
  unsigned char second_min;
  unsigned char second_max;
};

Lead LeadOf(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};  // no overlong forms
  if (c == 0xED) return {3, 0x80, 0x9F};  // no surrogates
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};  // no overlong forms
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};  // not above U+10FFFF
  return {0, 0, 0};
}

}  // namespace

void AppendJsonString(std::string_view value, std::string& out) {
  out.push_back('"');
  const auto* s = reinterpret_cast<const unsigned char*>(value.data());
  const size_t n = value.size();
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && Plain(s[run])) ++run;
    out.append(value.substr(i, run - i));
    i = run;
    if (i == n) break;
    if (s[i] < 0x80) {
      AppendEscapedAscii(s[i], out);
      ++i;
      continue;
    }
    Lead lead = LeadOf(s[i]);
    if (lead.length == 0) {
      out.append(kReplacement);
      ++i;
      continue;
    }
    int good = 1;  // bytes of the sequence checked so far
    while (good < lead.length && i + good < n) {
      unsigned char b = s[i + good];
      bool ok =
          good == 1 ? (b >= lead.second_min && b <= lead.second_max) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++good;
    }
    if (good == lead.length) {
      out.append(value.substr(i, static_cast<size_t>(good)));
    } else {
      out.append(kReplacement);  // the byte that broke it (if any) is read again
    }
    i += static_cast<size_t>(good);
  }
  out.push_back('"');
}

void JsonLine::Key(std::string_view key) {
  if (!first_) out_.push_back(',');
  first_ = false;
  AppendJsonString(key, out_);
  out_.push_back(':');
}

JsonLine& JsonLine::Str(std::string_view key, std::string_view value) {
  Key(key);
  AppendJsonString(value, out_);
  return *this;
}

JsonLine& JsonLine::Int(std::string_view key, int64_t value) {
  Key(key);
  fmt::format_to(std::back_inserter(out_), "{}", value);
  return *this;
}

JsonLine& JsonLine::Bool(std::string_view key, bool value) {
  Key(key);
  out_.append(value ? "true" : "false");
  return *this;
}

}  // namespace salvo
