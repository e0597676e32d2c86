#include "engine/imap/envelope.h"

#include "absl/strings/ascii.h"
#include "engine/base/strings.h"
#include "engine/imap/imap_string.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Splits at commas outside quotes, angle brackets and comments.
std::vector<std::string> SplitAddresses(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  int angle = 0, comment = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted && c == '\\' && i + 1 < text.size()) {
      cur += c;
      cur += text[++i];
      continue;
    }
    if (c == '"' && comment == 0) quoted = !quoted;
    if (!quoted) {
      if (c == '(') ++comment;
      if (c == ')' && comment > 0) --comment;
      if (c == '<' && comment == 0) ++angle;
      if (c == '>' && comment == 0 && angle > 0) --angle;
      if ((c == ',' || c == ';') && angle == 0 && comment == 0) {
        out.push_back(cur);
        cur.clear();
        continue;
      }
      if (c == ':' && angle == 0 && comment == 0) {  // group name: dropped
        cur.clear();
        continue;
      }
    }
    cur += c;
  }
  out.push_back(cur);
  return out;
}

std::string Unquote(std::string_view s) {
  std::string t = Trimmed(s);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < t.size(); ++i) {
      if (t[i] == '\\' && i + 2 < t.size()) ++i;
      out += t[i];
    }
    return out;
  }
  return t;
}

std::string StripComments(std::string_view s, std::string* comment) {
  std::string out;
  int depth = 0;
  for (char c : s) {
    if (c == '(') {
      if (depth++ == 0) continue;
    } else if (c == ')' && depth > 0) {
      if (--depth == 0) continue;
    }
    if (depth > 0) {
      *comment += c;
    } else {
      out += c;
    }
  }
  return out;
}

void AppendAddresses(std::string& out, std::optional<std::string_view> field) {
  if (!field) {
    out += "NIL";
    return;
  }
  std::vector<Address> list = ParseAddressList(*field);
  if (list.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  for (const Address& a : list) {
    out += '(';
    AppendNString(out, a.name, true);
    out += " NIL ";
    AppendNString(out, a.mailbox, true);
    out += ' ';
    AppendNString(out, a.host, true);
    out += ')';
  }
  out += ')';
}

void AppendParams(std::string& out, const MimePart& part) {
  if (part.params.empty()) {
    out += "NIL";
    return;
  }
  out += '(';
  bool first = true;
  for (const auto& [name, value] : part.params) {
    if (!first) out += ' ';
    first = false;
    AppendString(out, absl::AsciiStrToUpper(name));
    out += ' ';
    AppendString(out, value);
  }
  out += ')';
}

void AppendDisposition(std::string& out, const MimePart& part) {
  std::optional<std::string_view> d = part.Field("Content-Disposition");
  if (!d) {
    out += "NIL";
    return;
  }
  std::string_view v = *d;
  size_t semi = v.find(';');
  std::string kind = Trimmed(v.substr(0, semi));
  // The parameters have Content-Type's syntax: parse them as such.
  MimePart params;
  if (semi != std::string_view::npos) {
    std::string header = "Content-Type: x/x" + std::string(v.substr(semi)) + "\r\n\r\n";
    size_t parts = 0;
    MimePart p;
    ParsePart(header, p, MimeMessage::kMaxDepth, &parts);
    params.params = std::move(p.params);
  }
  out += '(';
  AppendString(out, absl::AsciiStrToUpper(kind));
  out += ' ';
  AppendParams(out, params);
  out += ')';
}

}  // namespace

std::vector<Address> ParseAddressList(std::string_view text) {
  std::vector<Address> out;
  for (const std::string& piece : SplitAddresses(text)) {
    std::string comment;
    std::string s = Trimmed(StripComments(piece, &comment));
    if (s.empty()) continue;
    Address a;
    std::string spec;
    size_t lt = s.rfind('<');
    size_t gt = s.rfind('>');
    if (lt != std::string::npos && gt != std::string::npos && gt > lt) {
      a.name = Unquote(s.substr(0, lt));
      spec = Trimmed(s.substr(lt + 1, gt - lt - 1));
    } else {
      spec = s;
      a.name = Trimmed(comment);
    }
    size_t colon = spec.find(':');  // source route "@a,@b:x@y"
    if (!spec.empty() && spec[0] == '@' && colon != std::string::npos)
      spec = spec.substr(colon + 1);
    size_t at = spec.rfind('@');
    if (at == std::string::npos) {
      a.mailbox = Unquote(spec);
    } else {
      a.mailbox = Unquote(spec.substr(0, at));
      a.host = spec.substr(at + 1);
    }
    if (a.mailbox.empty() && a.host.empty()) continue;
    out.push_back(std::move(a));
  }
  return out;
}

void AppendEnvelope(std::string& out, const MimePart& m) {
  out += '(';
  AppendNString(out, m.Field("Date"));
  out += ' ';
  AppendNString(out, m.Field("Subject"));
  std::optional<std::string_view> from = m.Field("From");
  std::optional<std::string_view> sender = m.Field("Sender");
  std::optional<std::string_view> reply_to = m.Field("Reply-To");
  out += ' ';
  AppendAddresses(out, from);
  out += ' ';
  AppendAddresses(out, sender ? sender : from);
  out += ' ';
  AppendAddresses(out, reply_to ? reply_to : from);
  for (const char* f : {"To", "Cc", "Bcc"}) {
    out += ' ';
    AppendAddresses(out, m.Field(f));
  }
  out += ' ';
  AppendNString(out, m.Field("In-Reply-To"));
  out += ' ';
  AppendNString(out, m.Field("Message-ID"));
  out += ')';
}

void AppendBodyStructure(std::string& out, const MimePart& part, bool extended) {
  out += '(';
  if (part.multipart()) {
    for (const MimePart& child : part.children) AppendBodyStructure(out, child, extended);
    out += ' ';
    AppendString(out, absl::AsciiStrToUpper(part.subtype));
    if (extended) {
      out += ' ';
      AppendParams(out, part);
      out += ' ';
      AppendDisposition(out, part);
      out += " NIL NIL";
    }
    out += ')';
    return;
  }
  AppendString(out, absl::AsciiStrToUpper(part.type));
  out += ' ';
  AppendString(out, absl::AsciiStrToUpper(part.subtype));
  out += ' ';
  if (part.params.empty() && part.type == "text") {
    out += "(\"CHARSET\" \"US-ASCII\")";
  } else {
    AppendParams(out, part);
  }
  out += ' ';
  AppendNString(out, part.Field("Content-ID"));
  out += ' ';
  AppendNString(out, part.Field("Content-Description"));
  out += ' ';
  std::optional<std::string_view> cte = part.Field("Content-Transfer-Encoding");
  AppendString(out, cte ? absl::AsciiStrToUpper(ToAbsl(*cte)) : std::string("7BIT"));
  out += fmt::format(" {}", part.body.size());
  if (part.embedded) {
    out += ' ';
    AppendEnvelope(out, *part.embedded);
    out += ' ';
    AppendBodyStructure(out, *part.embedded, extended);
    out += fmt::format(" {}", part.BodyLines());
  } else if (part.type == "text") {
    out += fmt::format(" {}", part.BodyLines());
  }
  if (extended) {
    out += ' ';
    AppendNString(out, part.Field("Content-MD5"));
    out += ' ';
    AppendDisposition(out, part);
    out += " NIL NIL";
  }
  out += ')';
}

}  // namespace salvo::imap
