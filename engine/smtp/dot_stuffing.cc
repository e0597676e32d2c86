#include "engine/smtp/dot_stuffing.h"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace salvo::smtp {

LineEnds ScanLineEnds(std::string_view c) {
  LineEnds r;
  const auto* p = reinterpret_cast<const unsigned char*>(c.data());
  const auto* const end = p + c.size();
  r.dot_at_line_start = !c.empty() && c[0] == '.';
  bool prev_cr = false;  // the byte before p is CR
  bool prev_lf = false;  // the byte before p is LF
#if defined(__SSE2__)
  // Sixteen bytes at a time: bit i of each mask is byte i. An LF needs a CR
  // just before it, a CR an LF just after it (the last byte's is checked
  // with the next block), and no '.' may follow an LF.
  const __m128i cr_byte = _mm_set1_epi8('\r');
  const __m128i lf_byte = _mm_set1_epi8('\n');
  const __m128i dot_byte = _mm_set1_epi8('.');
  unsigned high = 0;  // the high bits of every byte so far
  for (; end - p >= 16; p += 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    high |= static_cast<unsigned>(_mm_movemask_epi8(block));
    auto cr = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, cr_byte)));
    auto lf = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, lf_byte)));
    if (prev_cr && (lf & 1u) == 0) r.crlf_only = false;
    if ((cr | lf) != 0 || prev_lf) {
      unsigned cr_before = (cr << 1) | (prev_cr ? 1u : 0u);
      if ((lf & ~cr_before) != 0 || (cr & ~(lf >> 1) & 0x7FFFu) != 0) r.crlf_only = false;
      unsigned lf_before = ((lf << 1) | (prev_lf ? 1u : 0u)) & 0xFFFFu;
      if (lf_before != 0) {
        auto dots = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, dot_byte)));
        if ((dots & lf_before) != 0) r.dot_at_line_start = true;
      }
    }
    prev_cr = (cr >> 15) != 0;
    prev_lf = (lf >> 15) != 0;
  }
  r.eight_bit = high != 0;
#endif
  for (; p < end; ++p) {
    if ((*p & 0x80) != 0) r.eight_bit = true;
    if (prev_cr && *p != '\n') r.crlf_only = false;
    if (*p == '\n' && !prev_cr) r.crlf_only = false;
    if (*p == '.' && prev_lf) r.dot_at_line_start = true;
    prev_cr = *p == '\r';
    prev_lf = *p == '\n';
  }
  if (prev_cr) r.crlf_only = false;  // a CR as the last byte
  return r;
}

bool IsWireReady(std::string_view c) {
  LineEnds ends = ScanLineEnds(c);
  return ends.crlf_only && !ends.dot_at_line_start;
}

namespace {

// Every CR, LF and CRLF as one CRLF; with `stuff_dots`, a '.' doubled at the
// start of every line.
void AppendNormalized(std::string_view c, bool stuff_dots, std::string& out) {
  out.reserve(out.size() + c.size() + c.size() / 32 + 8);
  bool line_start = true;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (stuff_dots && line_start && ch == '.') out += '.';
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

}  // namespace

void AppendDotStuffed(std::string_view c, std::string& out) { AppendNormalized(c, true, out); }

std::string_view BdatPayload(std::string_view content, const LineEnds& ends, std::string& scratch) {
  bool ends_crlf = content.empty() || content.ends_with("\r\n");
  if (ends.crlf_only && ends_crlf) return content;
  scratch.clear();
  AppendNormalized(content, false, scratch);
  if (!scratch.ends_with("\r\n")) scratch += "\r\n";
  return scratch;
}

std::array<std::string_view, 2> DataPayload(std::string_view content, std::string& scratch) {
  return DataPayload(content, ScanLineEnds(content), scratch);
}

std::array<std::string_view, 2> DataPayload(std::string_view content, const LineEnds& ends,
                                            std::string& scratch) {
  static constexpr std::string_view kEnd = ".\r\n";
  static constexpr std::string_view kCrlfEnd = "\r\n.\r\n";
  std::string_view body = content;
  if (!ends.crlf_only || ends.dot_at_line_start) {
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
