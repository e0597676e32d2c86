#include "engine/imap/mime_message.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "engine/base/strings.h"

namespace salvo::imap {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(b));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits at the first empty line; header includes the empty line.
std::pair<std::string_view, std::string_view> SplitHeader(std::string_view text) {
  if (text.substr(0, 2) == "\r\n") return {text.substr(0, 2), text.substr(2)};
  if (text.substr(0, 1) == "\n") return {text.substr(0, 1), text.substr(1)};
  size_t crlf = text.find("\r\n\r\n");
  size_t lf = text.find("\n\n");
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    return {text.substr(0, crlf + 4), text.substr(crlf + 4)};
  }
  if (lf != std::string_view::npos) return {text.substr(0, lf + 2), text.substr(lf + 2)};
  return {text, std::string_view()};
}

std::vector<HeaderField> ParseFields(std::string_view header) {
  std::vector<HeaderField> fields;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = pos;
    // A field runs until a line that does not start with WSP.
    for (;;) {
      size_t lf = header.find('\n', end);
      end = lf == std::string_view::npos ? header.size() : lf + 1;
      if (end >= header.size() || (header[end] != ' ' && header[end] != '\t')) break;
    }
    std::string_view raw = header.substr(pos, end - pos);
    pos = end;
    size_t colon = raw.find(':');
    if (colon == std::string_view::npos || Trim(raw).empty()) continue;
    HeaderField f;
    f.raw = raw;
    f.name = Trim(raw.substr(0, colon));
    std::string value;
    for (char c : raw.substr(colon + 1)) {
      if (c == '\r' || c == '\n') continue;
      value += c == '\t' ? ' ' : c;
    }
    f.value = std::string(Trim(value));
    fields.push_back(std::move(f));
  }
  return fields;
}

// "text/plain; charset=us-ascii; name=\"a b\"" -> type, subtype, params.
void ParseContentType(std::string_view v, MimePart& part) {
  std::vector<std::string> pieces;
  std::string cur;
  bool quoted = false;
  for (char c : v) {
    if (c == '"') quoted = !quoted;
    if (c == ';' && !quoted) {
      pieces.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  pieces.push_back(cur);
  std::string_view t = Trim(pieces[0]);
  size_t slash = t.find('/');
  if (slash != std::string_view::npos && slash > 0 && slash + 1 < t.size()) {
    part.type = absl::AsciiStrToLower(ToAbsl(Trim(t.substr(0, slash))));
    part.subtype = absl::AsciiStrToLower(ToAbsl(Trim(t.substr(slash + 1))));
  }
  for (size_t i = 1; i < pieces.size(); ++i) {
    std::string_view p = Trim(pieces[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name = absl::AsciiStrToLower(ToAbsl(Trim(p.substr(0, eq))));
    std::string_view value = Trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    part.params.emplace_back(std::move(name), std::string(value));
  }
}

void SplitMultipart(std::string_view body, std::string_view boundary, MimePart& part, int depth,
                    size_t* parts) {
  std::string delim = "--" + std::string(boundary);
  std::vector<std::string_view> bodies;
  size_t pos = 0;
  size_t start = std::string_view::npos;
  while (pos <= body.size()) {
    size_t lf = body.find('\n', pos);
    size_t end = lf == std::string_view::npos ? body.size() : lf + 1;
    std::string_view line = body.substr(pos, end - pos);
    if (absl::StartsWith(ToAbsl(line), delim)) {
      std::string_view rest = Trim(line.substr(delim.size()));
      bool last = rest.substr(0, 2) == "--";
      if (rest.empty() || last) {
        if (start != std::string_view::npos) {
          // The CRLF before the delimiter belongs to the delimiter.
          size_t stop = pos;
          if (stop > start && body[stop - 1] == '\n') --stop;
          if (stop > start && body[stop - 1] == '\r') --stop;
          bodies.push_back(body.substr(start, stop - start));
        }
        if (last) break;
        start = end;
      }
    }
    if (lf == std::string_view::npos) break;
    pos = end;
  }
  if (bodies.empty()) return;
  for (std::string_view b : bodies) {
    if (*parts >= MimeMessage::kMaxParts) break;
    MimePart child;
    ParsePart(b, child, depth + 1, parts, part.subtype == "digest");
    part.children.push_back(std::move(child));
  }
}

}  // namespace

std::optional<std::string_view> MimePart::Field(std::string_view name) const {
  for (const HeaderField& f : fields) {
    if (IEquals(f.name, name)) return std::string_view(f.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> MimePart::Param(std::string_view name) const {
  for (const auto& [n, v] : params) {
    if (IEquals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

size_t MimePart::BodyLines() const {
  size_t n = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  if (!body.empty() && body.back() != '\n') ++n;
  return n;
}

void ParsePart(std::string_view text, MimePart& part, int depth, size_t* parts,
               bool default_rfc822) {
  ++*parts;
  auto [header, body] = SplitHeader(text);
  part.header = header;
  part.body = body;
  part.fields = ParseFields(header);
  if (default_rfc822) {
    part.type = "message";
    part.subtype = "rfc822";
  }
  if (auto ct = part.Field("Content-Type")) ParseContentType(*ct, part);
  if (part.multipart() && part.params.empty() && !part.Param("boundary")) {
    part.type = "text";
    part.subtype = "plain";
  }
  if (depth >= MimeMessage::kMaxDepth || *parts >= MimeMessage::kMaxParts) return;
  if (part.multipart()) {
    std::optional<std::string_view> boundary = part.Param("boundary");
    if (boundary && !boundary->empty()) SplitMultipart(body, *boundary, part, depth, parts);
    if (part.children.empty()) {
      // Unparseable multipart: one empty text part, as most servers show it.
      MimePart empty;
      part.children.push_back(std::move(empty));
    }
  } else if (part.type == "message" && part.subtype == "rfc822") {
    part.embedded = std::make_unique<MimePart>();
    ParsePart(body, *part.embedded, depth + 1, parts);
  }
}

std::string FilterHeader(const MimePart& part, const std::vector<std::string>& names,
                         bool exclude) {
  std::string out;
  for (const HeaderField& f : part.fields) {
    bool listed = std::any_of(names.begin(), names.end(),
                              [&](const std::string& n) { return IEquals(n, f.name); });
    if (listed != exclude) {
      out.append(f.raw);
      if (out.back() != '\n') out += "\r\n";
    }
  }
  out += "\r\n";
  return out;
}

MimeMessage::MimeMessage(std::string_view content) : content_(content) {
  ParsePart(content, root_, 0, &parts_);
}

std::optional<std::string> MimeMessage::Section(std::string_view section) const {
  const MimePart* node = &root_;
  bool numbered = false;
  std::string upper = absl::AsciiStrToUpper(ToAbsl(section));
  std::string_view rest = upper;
  std::string_view original = section;
  bool missing = false;
  while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
    size_t dot = rest.find('.');
    std::string_view num = rest.substr(0, dot);
    uint32_t n = 0;
    if (!absl::SimpleAtoi(ToAbsl(num), &n) || n == 0) return std::nullopt;
    if (!missing) {
      if (numbered && node->embedded) node = node->embedded.get();
      if (node->multipart()) {
        if (n > node->children.size()) {
          missing = true;
        } else {
          node = &node->children[n - 1];
        }
      } else if (n != 1) {
        missing = true;
      }
    }
    numbered = true;
    size_t skip = dot == std::string_view::npos ? rest.size() : dot + 1;
    rest.remove_prefix(skip);
    original.remove_prefix(skip);
  }
  if (rest.empty()) {
    if (missing) return std::string();
    if (!numbered) return std::string(node->header) + std::string(node->body);
    return std::string(node->body);
  }
  if (rest == "MIME") {
    if (!numbered) return std::nullopt;
    return missing ? std::string() : std::string(node->header);
  }
  // A part that is absent or not message/rfc822 has empty HEADER/TEXT, but
  // the specifier must be valid all the same: validity cannot depend on the
  // message (the session checks sections on an empty one; found by fuzzing:
  // "3.MMME" was accepted).
  const MimePart* message = node;
  bool absent = numbered && (missing || !node->embedded);
  if (numbered && !absent) message = node->embedded.get();
  if (rest == "HEADER") return absent ? std::string() : std::string(message->header);
  if (rest == "TEXT") return absent ? std::string() : std::string(message->body);
  bool exclude = absl::StartsWith(ToAbsl(rest), "HEADER.FIELDS.NOT");
  if (!exclude && !absl::StartsWith(ToAbsl(rest), "HEADER.FIELDS")) return std::nullopt;
  std::string_view list = original.substr(exclude ? 17 : 13);
  list = Trim(list);
  if (list.size() < 2 || list.front() != '(' || list.back() != ')') return std::nullopt;
  std::vector<std::string> names;
  for (absl::string_view n :
       absl::StrSplit(ToAbsl(list.substr(1, list.size() - 2)), ' ', absl::SkipEmpty())) {
    std::string name(n);
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
    }
    names.push_back(std::move(name));
  }
  if (names.empty()) return std::nullopt;
  if (absent) return std::string();
  return FilterHeader(*message, names, exclude);
}

}  // namespace salvo::imap
