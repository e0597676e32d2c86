#include "engine/imap/command_parser.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

bool IsCtl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// Literal marker at the end of a line: "{123}" or "{123+}".
struct LiteralMarker {
  uint64_t size = 0;
  bool non_sync = false;
};

std::optional<LiteralMarker> TrailingLiteral(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view inner = line.substr(open + 1, line.size() - open - 2);
  LiteralMarker m;
  if (!inner.empty() && inner.back() == '+') {
    m.non_sync = true;
    inner.remove_suffix(1);
  }
  if (inner.empty() || inner.size() > 19) return std::nullopt;
  for (char c : inner) {
    if (c < '0' || c > '9') return std::nullopt;
    m.size = m.size * 10 + static_cast<uint64_t>(c - '0');
  }
  return m;
}

class Tokenizer {
 public:
  Tokenizer(const std::vector<std::string>& segments, const ImapLimits& limits)
      : segs_(segments), limits_(limits) {}

  std::optional<ImapCommand> Run(std::string* error) {
    ImapCommand c;
    if (!ReadTag(&c.tag) || !Space() || !ReadAtomText(&c.name)) {
      *error = error_.empty() ? "missing tag or command" : error_;
      return std::nullopt;
    }
    absl::AsciiStrToUpper(&c.name);
    while (!AtEnd()) {
      if (!Space()) return Fail(error, "expected a space between arguments");
      if (AtEnd()) break;  // a trailing space is tolerated
      ImapArg arg;
      if (!ReadValue(0, &arg)) return Fail(error, error_);
      c.args.push_back(std::move(arg));
    }
    if (c.name == "UID" && !c.args.empty() && c.args[0].kind == ImapArg::kAtom) {
      c.name = "UID " + absl::AsciiStrToUpper(c.args[0].text);
      c.args.erase(c.args.begin());
    }
    return c;
  }

 private:
  std::optional<ImapCommand> Fail(std::string* error, std::string why) {
    *error = why.empty() ? "syntax error" : std::move(why);
    return std::nullopt;
  }
  const std::string& seg() const { return segs_[seg_]; }
  bool AtEnd() const { return seg_ + 1 >= segs_.size() && pos_ >= seg().size(); }
  int Peek() const { return pos_ < seg().size() ? static_cast<unsigned char>(seg()[pos_]) : -1; }

  bool Space() {
    if (Peek() != ' ') return false;
    while (Peek() == ' ') ++pos_;
    return true;
  }
  bool Count() {
    if (++tokens_ > limits_.max_arguments) {
      error_ = "too many arguments";
      return false;
    }
    return true;
  }
  bool ReadTag(std::string* tag) {
    while (Peek() > 0x20 && Peek() != '(' && Peek() != ')' && Peek() != '{' && Peek() != '"' &&
           Peek() != '%' && Peek() != '*' && Peek() != '+' && Peek() != 0x7f) {
      tag->push_back(seg()[pos_++]);
    }
    return !tag->empty();
  }
  static bool AtomChar(int c) {
    return c > 0x20 && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
  }
  // Fetch attributes whose "[...]" is a section that may hold spaces and
  // parentheses (RFC 3501 §6.4.5, RFC 3516). Anywhere else '[' is an
  // ordinary atom character ("SELECT a[b" names the folder "a[b").
  static bool OpensSection(std::string_view atom) {
    for (std::string_view name : {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"}) {
      if (absl::EqualsIgnoreCase(absl::string_view(atom.data(), atom.size()),
                                 absl::string_view(name.data(), name.size()))) {
        return true;
      }
    }
    return false;
  }
  // An atom, with bracketed sections ("BODY[HEADER.FIELDS (A B)]") kept whole.
  bool ReadAtomText(std::string* out) {
    while (AtomChar(Peek())) {
      char c = seg()[pos_++];
      if (c != '[' || !OpensSection(*out)) {
        out->push_back(c);
        continue;
      }
      out->push_back(c);
      while (Peek() != ']') {
        if (Peek() < 0 || (IsCtl(static_cast<char>(Peek())))) {
          error_ = "unterminated [";
          return false;
        }
        out->push_back(seg()[pos_++]);
      }
      out->push_back(seg()[pos_++]);
    }
    if (out->empty()) error_ = "expected an atom";
    return !out->empty();
  }
  bool ReadQuoted(std::string* out) {
    ++pos_;  // the opening quote
    for (;;) {
      int c = Peek();
      if (c < 0) {
        error_ = "unterminated quoted string";
        return false;
      }
      ++pos_;
      if (c == '"') return true;
      if (c == '\\') {
        int e = Peek();
        if (e != '\\' && e != '"') {
          error_ = "bad escape in quoted string";
          return false;
        }
        ++pos_;
        c = e;
      } else if (c == 0) {
        error_ = "NUL in quoted string";
        return false;
      }
      out->push_back(static_cast<char>(c));
    }
  }
  bool ReadLiteral(std::string* out) {
    // The line ends with the marker; the next segment is the literal.
    if (!TrailingLiteral(std::string_view(seg()).substr(pos_)) || seg_ + 2 >= segs_.size()) {
      error_ = "bad literal";
      return false;
    }
    *out = segs_[seg_ + 1];
    seg_ += 2;
    pos_ = 0;
    return true;
  }
  bool ReadValue(int depth, ImapArg* arg) {
    if (!Count()) return false;
    int c = Peek();
    if (c == '(') {
      if (depth + 1 > limits_.max_nesting) {
        error_ = "lists nested too deeply";
        return false;
      }
      ++pos_;
      arg->kind = ImapArg::kList;
      while (Peek() != ')') {
        if (Peek() < 0) {
          error_ = "unterminated list";
          return false;
        }
        if (!arg->list.empty() && !Space()) {
          error_ = "expected a space in a list";
          return false;
        }
        if (Peek() == ')') break;
        ImapArg item;
        if (!ReadValue(depth + 1, &item)) return false;
        arg->list.push_back(std::move(item));
      }
      ++pos_;
      return true;
    }
    if (c == '"') {
      arg->kind = ImapArg::kString;
      return ReadQuoted(&arg->text);
    }
    if (c == '{') {
      arg->kind = ImapArg::kString;
      arg->literal = true;
      return ReadLiteral(&arg->text);
    }
    arg->kind = ImapArg::kAtom;
    return ReadAtomText(&arg->text);
  }

  const std::vector<std::string>& segs_;
  const ImapLimits& limits_;
  size_t seg_ = 0;
  size_t pos_ = 0;
  size_t tokens_ = 0;
  std::string error_;
};

}  // namespace

bool ImapArg::IsAtom(std::string_view upper) const {
  return kind == kAtom &&
         absl::EqualsIgnoreCase(text, absl::string_view(upper.data(), upper.size()));
}

std::string TagOf(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && n < 64) {
    char c = line[n];
    if (c <= 0x20 || c == 0x7f || c == '(' || c == ')' || c == '{' || c == '"' || c == '%' ||
        c == '*' || c == '+') {
      break;
    }
    ++n;
  }
  if (n == 0 || n >= 64 || (n < line.size() && line[n] != ' ')) return "*";
  return std::string(line.substr(0, n));
}

std::optional<ImapCommand> Tokenize(const std::vector<std::string>& segments,
                                    const ImapLimits& limits, std::string* error) {
  Tokenizer t(segments, limits);
  return t.Run(error);
}

void CommandParser::Reset() {
  segments_.clear();
  line_.clear();
  literal_left_ = 0;
  in_literal_ = false;
  discarding_ = false;
  command_bytes_ = 0;
}

bool CommandParser::IsAppend() const {
  std::string_view first = segments_.empty() ? std::string_view(line_) : segments_[0];
  size_t sp = first.find(' ');
  if (sp == std::string_view::npos) return false;
  std::string_view rest = first.substr(sp + 1);
  return rest.size() >= 7 && absl::EqualsIgnoreCase(absl::string_view(rest.data(), 7), "APPEND ");
}

ParseStep CommandParser::Fail(size_t consumed, std::string message, bool fatal, bool too_big) {
  error_ = ParseError();
  error_.tag = TagOf(segments_.empty() ? std::string_view(line_) : segments_[0]);
  error_.message = std::move(message);
  error_.fatal = fatal;
  error_.too_big = too_big;
  Reset();
  return {consumed, ParseEvent::kError};
}

ParseStep CommandParser::Feed(std::string_view bytes) {
  size_t used = 0;
  while (used < bytes.size()) {
    if (in_literal_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(literal_left_, bytes.size() - used));
      segments_.back().append(bytes.substr(used, n));
      used += n;
      literal_left_ -= n;
      if (literal_left_ == 0) in_literal_ = false;
      continue;
    }
    ParseStep s = FeedLine(bytes.substr(used));
    used += s.consumed;
    if (s.event != ParseEvent::kNeedMore) return {used, s.event};
  }
  return {used, ParseEvent::kNeedMore};
}

ParseStep CommandParser::FeedLine(std::string_view bytes) {
  size_t lf = bytes.find('\n');
  std::string_view piece = lf == std::string_view::npos ? bytes : bytes.substr(0, lf);
  size_t consumed = lf == std::string_view::npos ? bytes.size() : lf + 1;
  if (!discarding_) {
    if (line_.size() + piece.size() > limits_.max_line + 1) {  // +1: the CR
      // Keep the start for the tag, drop the rest up to LF.
      line_.append(piece.substr(0, std::min<size_t>(piece.size(), 64)));
      line_.resize(std::min<size_t>(line_.size(), 64));
      discarding_ = true;
    } else {
      line_.append(piece);
    }
  }
  if (lf == std::string_view::npos) return {consumed, ParseEvent::kNeedMore};
  return EndOfLine(consumed);
}

ParseStep CommandParser::EndOfLine(size_t consumed) {
  if (discarding_) {
    return Fail(consumed, fmt::format("line too long (max {} octets)", limits_.max_line), false,
                true);
  }
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  if (line_.find('\0') != std::string::npos) return Fail(consumed, "NUL in command");
  if (segments_.empty() && line_.empty()) return {consumed, ParseEvent::kNeedMore};
  command_bytes_ += line_.size();
  if (command_bytes_ > limits_.max_command) {
    bool pending_literal = TrailingLiteral(line_).has_value();
    bool fatal = pending_literal && TrailingLiteral(line_)->non_sync;
    return Fail(consumed, "command too long", fatal, true);
  }
  if (std::optional<LiteralMarker> m = TrailingLiteral(line_)) {
    bool append = IsAppend();
    uint64_t limit = append ? limits_.max_append : limits_.max_literal;
    if (m->size > limit) {
      // A synchronizing literal was never invited: the client is waiting
      // for our answer. A non-synchronizing one is on its way: give up.
      return Fail(consumed, fmt::format("literal too big (max {} octets)", limit), m->non_sync,
                  true);
    }
    if (!append) command_bytes_ += m->size;
    if (command_bytes_ > limits_.max_command) {
      return Fail(consumed, "command too long", m->non_sync, true);
    }
    segments_.push_back(std::move(line_));
    segments_.emplace_back();
    line_.clear();
    literal_left_ = m->size;
    in_literal_ = m->size > 0;
    return {consumed, m->non_sync ? ParseEvent::kNeedMore : ParseEvent::kContinue};
  }
  segments_.push_back(std::move(line_));
  line_.clear();
  std::string why;
  std::optional<ImapCommand> c = Tokenize(segments_, limits_, &why);
  if (!c) return Fail(consumed, why);
  command_ = std::move(*c);
  Reset();
  return {consumed, ParseEvent::kCommand};
}

}  // namespace salvo::imap
