#include "engine/smtp/dot_stuffing.h"

#include <cstdint>
#include <cstring>

namespace salvo::smtp {

bool IsWireReady(std::string_view c) {
  if (!c.empty() && c[0] == '.') return false;
  const char* p = c.data();
  const char* end = p + c.size();
  while (true) {
    const char* lf = static_cast<const char*>(std::memchr(p, '\n', end - p));
    if (lf == nullptr) break;
    if (lf == c.data() || lf[-1] != '\r') return false;
    if (lf + 1 < end && lf[1] == '.') return false;
    p = lf + 1;
  }
  // A bare CR anywhere is not a line ending: also rewrite.
  for (const char* q = c.data(); (q = static_cast<const char*>(std::memchr(q, '\r', end - q)));
       ++q) {
    if (q + 1 >= end || q[1] != '\n') return false;
  }
  return true;
}

void AppendDotStuffed(std::string_view c, std::string& out) {
  out.reserve(out.size() + c.size() + c.size() / 32 + 8);
  bool line_start = true;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (line_start && ch == '.') out += '.';
    line_start = false;
    if (ch == '\r') {
      if (i + 1 < c.size() && c[i + 1] == '\n') ++i;
      out += "\r\n";
      line_start = true;
    } else if (ch == '\n') {
      out += "\r\n";
      line_start = true;
    } else {
      out += ch;
    }
  }
}

std::array<std::string_view, 2> DataPayload(std::string_view content, std::string& scratch) {
  static constexpr std::string_view kEnd = ".\r\n";
  static constexpr std::string_view kCrlfEnd = "\r\n.\r\n";
  std::string_view body = content;
  if (!IsWireReady(content)) {
    scratch.clear();
    AppendDotStuffed(content, scratch);
    body = scratch;
  }
  bool ends_crlf = body.size() >= 2 && body.substr(body.size() - 2) == "\r\n";
  return {body, ends_crlf || body.empty() ? kEnd : kCrlfEnd};
}

bool Has8Bit(std::string_view bytes) {
  // Eight bytes at a time: every message body on the send path passes here.
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t any = 0;
  for (; n >= 32; p += 32, n -= 32) {
    uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    any |= w[0] | w[1] | w[2] | w[3];
    if (any & 0x8080808080808080ULL) return true;
  }
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    any |= w;
  }
  for (; n > 0; ++p, --n) any |= static_cast<unsigned char>(*p);
  return (any & 0x8080808080808080ULL) != 0;
}

}  // namespace salvo::smtp
