#include "engine/dkim/canonicalization.h"

#include <fmt/format.h>

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

// Relaxed line: WSP runs to one SP, trailing WSP removed.
void AppendRelaxedLine(std::string_view line, std::string& out) {
  size_t end = line.size();
  while (end > 0 && IsWsp(line[end - 1])) --end;
  bool in_wsp = false;
  for (size_t i = 0; i < end; ++i) {
    if (IsWsp(line[i])) {
      in_wsp = true;
      continue;
    }
    if (in_wsp) out.push_back(' ');
    in_wsp = false;
    out.push_back(line[i]);
  }
}

void RelaxedHeader(const HeaderField& field, std::string& out) {
  for (char c : field.name) out.push_back(Lower(c));
  out.push_back(':');
  std::string_view value = field.raw.substr(field.raw.find(':') + 1);
  // Unfold: drop line ends; WSP runs (including those a fold created) become
  // one SP; WSP at the start and end of the value goes.
  bool pending_space = false;
  bool started = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;
    if (IsWsp(c)) {
      pending_space = started;
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    started = true;
    out.push_back(c);
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

void CanonicalizeBody(std::string_view body, Canonicalization c, std::string& out) {
  const size_t start = out.size();
  size_t content_end = start;  // just after the CRLF of the last non-empty line
  ForEachLine(body, [&](std::string_view line) {
    size_t before = out.size();
    if (c == Canonicalization::kRelaxed) {
      AppendRelaxedLine(line, out);
    } else {
      out.append(line);
    }
    bool empty = out.size() == before;
    out.append("\r\n");
    if (!empty) content_end = out.size();
  });
  out.resize(content_end);  // both algorithms drop trailing empty lines
  // simple turns an empty body into one CRLF; relaxed leaves it empty.
  if (c == Canonicalization::kSimple && out.size() == start) out.append("\r\n");
}

}  // namespace salvo::dkim
