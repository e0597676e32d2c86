#include "engine/dkim/canonicalization.h"

#include <fmt/format.h>

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "engine/base/strings.h"

namespace salvo::dkim {
namespace {

bool IsWsp(char c) { return c == ' ' || c == '\t'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Calls fn(line) for each line of `text` without its line end (CRLF or LF);
// a final segment without a line end is passed too when non-empty.
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t lf = text.find('\n', pos);
    if (lf == std::string_view::npos) {
      fn(text.substr(pos));
      return;
    }
    size_t end = (lf > pos && text[lf - 1] == '\r') ? lf - 1 : lf;
    fn(text.substr(pos, end - pos));
    pos = lf + 1;
  }
}

// True when relaxed canonicalization leaves `text` (a line without its line
// end and trailing WSP) as it is: it has no tab and no two spaces in a row.
// Sixteen bytes at a time where SSE2 is there (every x86-64).
bool RelaxedLeavesAsIs(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool prev_space = false;
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  unsigned carry = 0;  // 1 when the byte before this block is a space
  for (; end - p >= 16; p += 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto spaces = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, space)));
    auto tabs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, tab)));
    if ((tabs | (spaces & ((spaces << 1) | carry))) != 0) return false;
    carry = spaces >> 15;
  }
  prev_space = carry != 0;
#endif
  for (; p < end; ++p) {
    if (*p == '\t' || (*p == ' ' && prev_space)) return false;
    prev_space = *p == ' ';
  }
  return true;
}

// Hands canonical output on, joining pieces that lie next to each other in
// the body into one.
class PieceWriter {
 public:
  explicit PieceWriter(absl::FunctionRef<void(std::string_view)> put) : put_(put) {}

  // [begin, end) of the body, unchanged.
  void Body(const char* begin, const char* end) {
    if (begin == end) return;
    if (begin != run_end_) {
      Flush();
      run_begin_ = begin;
    }
    run_end_ = end;
    wrote_ = true;
  }
  // Text that is not in the body (a line end, a rewritten line); it need
  // only stay valid during the call.
  void Text(std::string_view text) {
    Flush();
    put_(text);
    wrote_ = true;
  }
  void Flush() {
    if (run_begin_ != run_end_) put_(std::string_view(run_begin_, run_end_ - run_begin_));
    run_begin_ = run_end_ = nullptr;
  }
  bool wrote() const { return wrote_; }

 private:
  absl::FunctionRef<void(std::string_view)> put_;
  const char* run_begin_ = nullptr;
  const char* run_end_ = nullptr;
  bool wrote_ = false;
};

constexpr std::string_view kCrlf = "\r\n";

// Lines up to this long are rewritten into a buffer on the stack; longer
// ones (not seen in rendered mail: RFC 5321 limits lines to 1,000 octets)
// are passed on in pieces by WriteRelaxedRuns.
constexpr size_t kMaxRewrittenLine = 1024;

// Writes relaxed line [p, end) (no trailing WSP) to `out`, each WSP run as
// one SP, and returns the length written. `out` must hold end - p bytes.
// Where SSE2 is there, 16-byte blocks without a tab or two spaces in a row
// are copied whole; a block is stored before it is looked at, which stays
// inside `out` because the output never runs ahead of the input.
size_t CompressWspRuns(const char* p, const char* end, char* out) {
  char* o = out;
  bool after_wsp = false;  // the input byte before p is WSP, its SP written
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  while (end - p >= 16) {
    __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    auto spaces = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, space)));
    auto tabs = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(block, tab)));
    unsigned change = tabs | (spaces & ((spaces << 1) | (after_wsp ? 1u : 0u)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), block);
    if (change == 0) {
      o += 16;
      p += 16;
      after_wsp = (spaces >> 15) != 0;
      continue;
    }
    // Bytes before the first change are as they were; at it a WSP run
    // either goes on (its SP is written) or starts with a tab.
    auto k = static_cast<unsigned>(__builtin_ctz(change));
    o += k;
    p += k;
    bool run_written = k > 0 ? p[-1] == ' ' : after_wsp;
    if (!run_written) *o++ = ' ';
    while (p < end && IsWsp(*p)) ++p;
    after_wsp = true;
  }
#endif
  for (; p < end; ++p) {
    bool wsp = IsWsp(*p);
    if (!wsp) {
      *o++ = *p;
    } else if (!after_wsp) {
      *o++ = ' ';
    }
    after_wsp = wsp;
  }
  return static_cast<size_t>(o - out);
}

// Relaxed line [p, end) (no trailing WSP): each WSP run becomes one SP.
void WriteRelaxedRuns(const char* p, const char* end, PieceWriter& w) {
  while (p < end) {
    const char* wsp = p;
    while (wsp < end && !IsWsp(*wsp)) ++wsp;
    w.Body(p, wsp);
    if (wsp == end) return;
    const char* after = wsp;
    while (after < end && IsWsp(*after)) ++after;
    if (after - wsp == 1 && *wsp == ' ') {
      w.Body(wsp, after);
    } else {
      w.Text(" ");
    }
    p = after;
  }
}

void RelaxedHeader(const HeaderField& field, std::string& out) {
  for (char c : field.name) out.push_back(Lower(c));
  out.push_back(':');
  std::string_view value = field.raw.substr(field.raw.find(':') + 1);
  // Unfold: drop line ends; WSP runs (including those a fold created) become
  // one SP; WSP at the start and end of the value goes. Runs of other
  // characters are copied whole.
  auto plain = [](char c) { return !IsWsp(c) && c != '\r' && c != '\n'; };
  bool pending_space = false;
  bool started = false;
  size_t i = 0;
  while (i < value.size()) {
    char c = value[i];
    if (!plain(c)) {
      if (IsWsp(c)) pending_space = started;
      ++i;
      continue;
    }
    size_t run_end = i + 1;
    while (run_end < value.size() && plain(value[run_end])) ++run_end;
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.append(value.substr(i, run_end - i));
    i = run_end;
  }
}

}  // namespace

std::string_view CanonicalizationName(Canonicalization c) {
  return c == Canonicalization::kSimple ? "simple" : "relaxed";
}

bool SameFieldName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

absl::StatusOr<MessageParts> SplitMessage(std::string_view message) {
  MessageParts parts;
  size_t pos = 0;
  size_t field_start = std::string_view::npos;
  size_t field_end = 0;  // end of the last line of the current field, before its line end
  auto close_field = [&] {
    if (field_start == std::string_view::npos) return;
    std::string_view raw = message.substr(field_start, field_end - field_start);
    std::string_view name = raw.substr(0, raw.find(':'));
    while (!name.empty() && IsWsp(name.back())) name.remove_suffix(1);
    parts.headers.push_back({name, raw});
    field_start = std::string_view::npos;
  };
  while (pos < message.size()) {
    size_t lf = message.find('\n', pos);
    size_t next = lf == std::string_view::npos ? message.size() : lf + 1;
    size_t end = lf == std::string_view::npos ? message.size()
                                              : (lf > pos && message[lf - 1] == '\r' ? lf - 1 : lf);
    std::string_view line = message.substr(pos, end - pos);
    if (line.empty()) {  // the empty line: the body follows
      close_field();
      parts.body = message.substr(next);
      return parts;
    }
    if (IsWsp(line[0])) {
      if (field_start == std::string_view::npos) {
        return absl::InvalidArgumentError("message starts with a continuation line");
      }
      field_end = end;
    } else {
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return absl::InvalidArgumentError(
            fmt::format("header line without a field name: '{}'", line.substr(0, 60)));
      }
      size_t name_end = colon;  // obsolete syntax allows WSP before the colon
      while (name_end > 0 && IsWsp(line[name_end - 1])) --name_end;
      for (size_t i = 0; i < name_end; ++i) {
        unsigned char c = static_cast<unsigned char>(line[i]);
        if (c <= 32 || c >= 127) {
          return absl::InvalidArgumentError(
              fmt::format("bad header field name: '{}'", line.substr(0, colon)));
        }
      }
      close_field();
      field_start = pos;
      field_end = end;
    }
    pos = next;
  }
  close_field();  // headers only, no body
  return parts;
}

void CanonicalizeHeaderNoEol(const HeaderField& field, Canonicalization c, std::string& out) {
  if (c == Canonicalization::kRelaxed) {
    RelaxedHeader(field, out);
    return;
  }
  // simple: as is, but line ends inside a folded field are CRLF on the wire.
  bool first = true;
  ForEachLine(field.raw, [&](std::string_view line) {
    if (!first) out.append("\r\n");
    first = false;
    out.append(line);
  });
}

void CanonicalizeHeader(const HeaderField& field, Canonicalization c, std::string& out) {
  CanonicalizeHeaderNoEol(field, c, out);
  out.append("\r\n");
}

void CanonicalizeBody(std::string_view body, Canonicalization c,
                      absl::FunctionRef<void(std::string_view)> put) {
  const bool relaxed = c == Canonicalization::kRelaxed;
  PieceWriter w(put);
  // Empty lines wait until a non-empty one follows: both algorithms drop the
  // empty lines at the end of a body.
  size_t held = 0;
  const char* held_from = nullptr;  // where the held lines start
  bool held_as_is = true;           // every held line is a bare CRLF in the body
  const char* p = body.data();
  const char* const end = p + body.size();
  while (p < end) {
    const auto* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* next = lf == nullptr ? end : lf + 1;
    const char* text_end = lf == nullptr ? end : (lf > p && lf[-1] == '\r' ? lf - 1 : lf);
    const bool crlf = lf != nullptr && text_end != lf;
    const char* kept_end = text_end;
    if (relaxed) {
      while (kept_end > p && IsWsp(kept_end[-1])) --kept_end;
    }
    if (kept_end == p) {
      if (held++ == 0) {
        held_from = p;
        held_as_is = true;
      }
      held_as_is = held_as_is && crlf && text_end == p;
      p = next;
      continue;
    }
    if (held > 0) {
      if (held_as_is) {
        w.Body(held_from, p);
      } else {
        for (size_t i = 0; i < held; ++i) w.Text(kCrlf);
      }
      held = 0;
    }
    if (!relaxed || RelaxedLeavesAsIs(std::string_view(p, static_cast<size_t>(kept_end - p)))) {
      if (crlf && kept_end == text_end) {
        w.Body(p, next);
      } else {
        w.Body(p, kept_end);
        w.Text(kCrlf);
      }
    } else if (static_cast<size_t>(kept_end - p) <= kMaxRewrittenLine) {
      char line[kMaxRewrittenLine + 2];
      size_t n = CompressWspRuns(p, kept_end, line);
      line[n++] = '\r';
      line[n++] = '\n';
      w.Text(std::string_view(line, n));
    } else {
      WriteRelaxedRuns(p, kept_end, w);
      w.Text(kCrlf);
    }
    p = next;
  }
  w.Flush();
  // simple turns an empty body into one CRLF; relaxed leaves it empty.
  if (!relaxed && !w.wrote()) put(kCrlf);
}

void CanonicalizeBody(std::string_view body, Canonicalization c, std::string& out) {
  CanonicalizeBody(body, c, [&out](std::string_view piece) { out.append(piece); });
}

}  // namespace salvo::dkim
