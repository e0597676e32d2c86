#include "engine/smtp/server/command_parser.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/base/strings.h"
#include "engine/smtp/server/address_parser.h"
#include "engine/smtp/server/server_reply.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

constexpr size_t kMaxEnvid = 100;  // RFC 3461 §4.4
constexpr size_t kMaxOrcpt = 500;

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(ToAbsl(a), ToAbsl(b));
}

bool ConsumePrefixNoCase(std::string_view& s, std::string_view prefix) {
  if (s.size() < prefix.size() || !EqualsNoCase(s.substr(0, prefix.size()), prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

std::string Upper(std::string_view s) { return absl::AsciiStrToUpper(ToAbsl(s)); }

SmtpReply SyntaxError(std::string_view text) { return MakeReply(501, "5.5.4", text); }

// Parses a decimal number of at most 20 digits without overflow.
std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = c - '0';
    if (v > (UINT64_MAX - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

struct Param {
  std::string_view keyword;
  std::string_view value;
  bool has_value = false;
};

// Splits "K1=V1 K2" into parameters; nullopt on a malformed one.
std::optional<SmtpReply> SplitParams(std::string_view s, std::vector<Param>* out) {
  while (!s.empty()) {
    if (s.front() == ' ') {
      s.remove_prefix(1);
      continue;
    }
    size_t end = s.find(' ');
    std::string_view item = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view() : s.substr(end);
    Param p;
    size_t eq = item.find('=');
    p.keyword = item.substr(0, eq);
    if (eq != std::string_view::npos) {
      p.value = item.substr(eq + 1);
      p.has_value = true;
    }
    bool ok = !p.keyword.empty() && absl::ascii_isalnum(p.keyword[0]);
    for (char c : p.keyword) ok = ok && (absl::ascii_isalnum(c) || c == '-');
    if (p.has_value) {
      ok = ok && !p.value.empty();
      for (unsigned char c : p.value) ok = ok && c > 32 && c != '=' && c != 127;
    }
    if (!ok) {
      return SyntaxError(fmt::format("Syntax error in parameter \"{}\"", Printable(item, 64)));
    }
    for (const Param& q : *out) {
      if (EqualsNoCase(q.keyword, p.keyword)) {
        return SyntaxError(fmt::format("Duplicate parameter {}", Printable(p.keyword, 32)));
      }
    }
    out->push_back(p);
  }
  return std::nullopt;
}

SmtpReply Unsupported(const Param& p) {
  return MakeReply(555, "5.5.4", fmt::format("Unsupported parameter {}", Printable(p.keyword, 32)));
}

std::optional<SmtpReply> ApplyMailParam(const Param& p, uint64_t max_size, MailCommand* m) {
  if (EqualsNoCase(p.keyword, "SIZE")) {
    auto n = p.has_value ? ParseNumber(p.value) : std::nullopt;
    if (!n) return SyntaxError("Bad SIZE parameter");
    if (max_size != 0 && *n > max_size) {
      return MakeReply(552, "5.3.4", "Message size exceeds fixed maximum message size");
    }
    m->size = n;
  } else if (EqualsNoCase(p.keyword, "BODY")) {
    if (EqualsNoCase(p.value, "7BIT")) {
      m->body = BodyType::k7Bit;
    } else if (EqualsNoCase(p.value, "8BITMIME")) {
      m->body = BodyType::k8BitMime;
    } else if (EqualsNoCase(p.value, "BINARYMIME")) {
      return MakeReply(555, "5.5.4", "BODY=BINARYMIME is not supported");
    } else {
      return SyntaxError("Bad BODY parameter (7BIT or 8BITMIME)");
    }
  } else if (EqualsNoCase(p.keyword, "SMTPUTF8")) {
    if (p.has_value) return SyntaxError("SMTPUTF8 takes no value");
    m->smtputf8 = true;
  } else if (EqualsNoCase(p.keyword, "RET")) {
    if (!EqualsNoCase(p.value, "FULL") && !EqualsNoCase(p.value, "HDRS")) {
      return SyntaxError("Bad RET parameter (FULL or HDRS)");
    }
    m->ret = Upper(p.value);
  } else if (EqualsNoCase(p.keyword, "ENVID")) {
    if (p.value.size() > kMaxEnvid || !IsValidXtext(p.value)) {
      return SyntaxError("Bad ENVID parameter");
    }
    m->envid = std::string(p.value);
  } else if (EqualsNoCase(p.keyword, "AUTH")) {
    if (!p.has_value) return SyntaxError("Bad AUTH parameter");
    m->auth = std::string(p.value);
  } else {
    return Unsupported(p);
  }
  return std::nullopt;
}

bool IsValidNotify(std::string_view v, std::string* out) {
  if (EqualsNoCase(v, "NEVER")) {
    *out = "NEVER";
    return true;
  }
  std::array<bool, 3> seen{};
  static constexpr std::array<std::string_view, 3> kNames = {"SUCCESS", "FAILURE", "DELAY"};
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    bool found = false;
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (EqualsNoCase(item, kNames[i]) && !seen[i]) seen[i] = found = true;
    }
    if (!found || (comma != std::string_view::npos && v.empty())) return false;
  }
  out->clear();
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (!seen[i]) continue;
    if (!out->empty()) *out += ',';
    *out += kNames[i];
  }
  return !out->empty();
}

std::optional<SmtpReply> ApplyRcptParam(const Param& p, RcptCommand* r) {
  if (EqualsNoCase(p.keyword, "NOTIFY")) {
    if (!IsValidNotify(p.value, &r->notify)) {
      return SyntaxError("Bad NOTIFY parameter (NEVER or SUCCESS,FAILURE,DELAY)");
    }
  } else if (EqualsNoCase(p.keyword, "ORCPT")) {
    size_t semi = p.value.find(';');
    bool ok = semi != std::string_view::npos && semi > 0 && semi + 1 < p.value.size() &&
              p.value.size() <= kMaxOrcpt;
    for (size_t i = 0; ok && i < semi; ++i) {
      ok = absl::ascii_isalnum(p.value[i]) || p.value[i] == '-';
    }
    if (!ok) return SyntaxError("Bad ORCPT parameter (addr-type;address)");
    r->orcpt = std::string(p.value);
  } else {
    return Unsupported(p);
  }
  return std::nullopt;
}

struct VerbName {
  std::string_view name;
  Verb verb;
};
constexpr VerbName kVerbs[] = {
    {"EHLO", Verb::kEhlo},         {"HELO", Verb::kHelo}, {"MAIL", Verb::kMail},
    {"RCPT", Verb::kRcpt},         {"DATA", Verb::kData}, {"BDAT", Verb::kBdat},
    {"RSET", Verb::kRset},         {"NOOP", Verb::kNoop}, {"VRFY", Verb::kVrfy},
    {"EXPN", Verb::kExpn},         {"HELP", Verb::kHelp}, {"QUIT", Verb::kQuit},
    {"STARTTLS", Verb::kStartTls}, {"AUTH", Verb::kAuth}, {"GET", Verb::kHttp},
    {"POST", Verb::kHttp},         {"HEAD", Verb::kHttp}, {"PUT", Verb::kHttp},
    {"CONNECT", Verb::kHttp},
};

}  // namespace

CommandLine SplitCommand(std::string_view line) {
  CommandLine c;
  size_t sp = line.find(' ');
  c.verb_text = line.substr(0, sp);
  std::string_view args = sp == std::string_view::npos ? std::string_view() : line.substr(sp);
  while (!args.empty() && args.front() == ' ') args.remove_prefix(1);
  while (!args.empty() && (args.back() == ' ' || args.back() == '\t')) args.remove_suffix(1);
  c.args = args;
  for (const VerbName& v : kVerbs) {
    if (EqualsNoCase(c.verb_text, v.name)) {
      c.verb = v.verb;
      break;
    }
  }
  return c;
}

bool HasForbiddenBytes(std::string_view line) {
  for (unsigned char c : line) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

bool IsValidXtext(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '+') {
      if (i + 2 >= s.size()) return false;
      for (int k = 1; k <= 2; ++k) {
        char h = s[i + k];
        if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F'))) return false;
      }
      i += 2;
    } else if (c < 33 || c > 126 || c == '=') {
      return false;
    }
  }
  return true;
}

std::optional<SmtpReply> ParseMail(std::string_view args, uint64_t max_size, MailCommand* out) {
  if (!ConsumePrefixNoCase(args, "FROM:")) return SyntaxError("Syntax: MAIL FROM:<address>");
  auto path = ParsePath(args, PathKind::kReverse);
  if (!path.ok()) {
    return MakeReply(501, "5.1.7",
                     fmt::format("Bad sender address syntax: {}", ToStd(path.status().message())));
  }
  std::vector<Param> params;
  if (auto err = SplitParams(path->rest, &params)) return err;
  *out = MailCommand();
  for (const Param& p : params) {
    if (auto err = ApplyMailParam(p, max_size, out)) return err;
  }
  if (path->has_utf8 && !out->smtputf8) {
    return MakeReply(553, "5.6.7", "Non-ASCII sender address requires SMTPUTF8");
  }
  out->reverse_path = std::move(path->address);
  return std::nullopt;
}

std::optional<SmtpReply> ParseRcpt(std::string_view args, bool smtputf8, RcptCommand* out) {
  if (!ConsumePrefixNoCase(args, "TO:")) return SyntaxError("Syntax: RCPT TO:<address>");
  auto path = ParsePath(args, PathKind::kForward);
  if (!path.ok()) {
    return MakeReply(
        501, "5.1.3",
        fmt::format("Bad recipient address syntax: {}", ToStd(path.status().message())));
  }
  std::vector<Param> params;
  if (auto err = SplitParams(path->rest, &params)) return err;
  *out = RcptCommand();
  for (const Param& p : params) {
    if (auto err = ApplyRcptParam(p, out)) return err;
  }
  if (path->has_utf8 && !smtputf8) {
    return MakeReply(553, "5.6.7", "Non-ASCII recipient address requires SMTPUTF8");
  }
  out->forward_path = std::move(path->address);
  out->domain = std::move(path->domain);
  return std::nullopt;
}

std::optional<SmtpReply> ParseBdat(std::string_view args, BdatCommand* out) {
  size_t sp = args.find(' ');
  auto size = ParseNumber(args.substr(0, sp));
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : args.substr(sp);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (!size || (!rest.empty() && !EqualsNoCase(rest, "LAST"))) {
    return SyntaxError("Syntax: BDAT <size> [LAST]");
  }
  out->size = *size;
  out->last = !rest.empty();
  return std::nullopt;
}

std::optional<SmtpReply> ParseAuth(std::string_view args, AuthCommand* out) {
  size_t sp = args.find(' ');
  std::string_view mech = args.substr(0, sp);
  std::string_view rest = sp == std::string_view::npos ? std::string_view() : args.substr(sp + 1);
  if (mech.empty() || rest.find(' ') != std::string_view::npos) {
    return SyntaxError("Syntax: AUTH <mechanism> [initial-response]");
  }
  out->mechanism = Upper(mech);
  out->initial_response.reset();
  if (sp != std::string_view::npos) out->initial_response = std::string(rest);
  return std::nullopt;
}

std::optional<SmtpReply> ParseHelo(std::string_view args, std::string* out) {
  std::string_view name = args.substr(0, args.find(' '));
  if (name.empty()) return SyntaxError("Syntax: EHLO <hostname>");
  // Lenient like Postfix's default: real clients send host names with '_',
  // bare labels or odd literals. Only what would corrupt a Received: header
  // (comments, quotes, brackets out of place) is refused.
  bool literal = name.front() == '[';
  for (char c : name) {
    bool bad = c == '(' || c == ')' || c == '<' || c == '>' || c == '"' || c == '\\' || c == ';' ||
               (!literal && (c == '[' || c == ']'));
    if (bad) {
      return MakeReply(501, "5.5.2", fmt::format("Invalid domain name {}", Printable(name, 64)));
    }
  }
  if (literal && !IsAddressLiteral(name)) {
    return MakeReply(501, "5.5.2", fmt::format("Invalid address literal {}", Printable(name, 64)));
  }
  *out = std::string(name);
  return std::nullopt;
}

}  // namespace salvo::smtp
