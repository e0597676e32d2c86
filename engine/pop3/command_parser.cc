#include "engine/pop3/command_parser.h"

#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace salvo::pop3 {
namespace {

constexpr size_t kMaxKeyword = 8;  // RFC 2449 §4: keywords are 3 or 4 octets

constexpr std::array<std::pair<std::string_view, Verb>, 15> kVerbs = {{
    {"USER", Verb::kUser},
    {"PASS", Verb::kPass},
    {"APOP", Verb::kApop},
    {"AUTH", Verb::kAuth},
    {"CAPA", Verb::kCapa},
    {"STLS", Verb::kStls},
    {"STAT", Verb::kStat},
    {"LIST", Verb::kList},
    {"UIDL", Verb::kUidl},
    {"TOP", Verb::kTop},
    {"RETR", Verb::kRetr},
    {"DELE", Verb::kDele},
    {"NOOP", Verb::kNoop},
    {"RSET", Verb::kRset},
    {"QUIT", Verb::kQuit},
}};

bool IsForbidden(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

std::vector<std::string> SplitArguments(std::string_view rest) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\t')) ++i;
    size_t start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\t') ++i;
    if (i > start) out.emplace_back(rest.substr(start, i - start));
  }
  return out;
}

std::optional<uint64_t> ParseDigits(std::string_view s) {
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t d = static_cast<uint64_t>(c - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;  // saturates
  }
  return v;
}

}  // namespace

std::string_view VerbName(Verb verb) {
  for (const auto& [name, v] : kVerbs) {
    if (v == verb) return name;
  }
  return "?";
}

absl::StatusOr<Command> ParseCommand(std::string_view line) {
  for (char c : line) {
    if (IsForbidden(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("control characters in command");
    }
  }
  size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) return absl::InvalidArgumentError("empty command");
  line.remove_prefix(start);
  size_t end = line.find_last_not_of(" \t");
  line = line.substr(0, end + 1);
  size_t space = line.find_first_of(" \t");
  std::string_view keyword = line.substr(0, space);
  Command c;
  c.keyword = absl::AsciiStrToUpper(
      absl::string_view(keyword.data(), std::min(keyword.size(), kMaxKeyword)));
  if (space != std::string_view::npos) c.rest = std::string(line.substr(space + 1));
  for (const auto& [name, v] : kVerbs) {
    if (keyword.size() == name.size() && c.keyword == name) c.verb = v;
  }
  if (c.verb == Verb::kPass || c.verb == Verb::kUnknown) return c;
  c.args = SplitArguments(c.rest);
  if (c.args.size() > kMaxArguments) return absl::InvalidArgumentError("too many arguments");
  for (size_t i = 0; i < c.args.size(); ++i) {
    bool initial_response = c.verb == Verb::kAuth && i == 1;
    if (c.args[i].size() > kMaxArgument && !initial_response) {
      return absl::InvalidArgumentError("argument too long");
    }
  }
  return c;
}

std::optional<uint32_t> ParseMessageNumber(std::string_view s) {
  std::optional<uint64_t> v = ParseDigits(s);
  if (!v || *v == 0 || *v > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<uint32_t> ParseLineCount(std::string_view s) {
  std::optional<uint64_t> v = ParseDigits(s);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(std::min<uint64_t>(*v, UINT32_MAX));
}

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace salvo::pop3
