#include "engine/smtp/reply.h"

#include "absl/strings/ascii.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "N.NNN.NNN": class 2/4/5, subject 1-3 digits, detail 1-3 digits.
size_t EnhancedStatusLength(std::string_view t) {
  size_t i = 0;
  if (t.size() < 5 || !IsDigit(t[0]) || t[1] != '.') return 0;
  i = 2;
  size_t start = i;
  while (i < t.size() && IsDigit(t[i]) && i - start < 3) ++i;
  if (i == start || i >= t.size() || t[i] != '.') return 0;
  ++i;
  start = i;
  while (i < t.size() && IsDigit(t[i]) && i - start < 3) ++i;
  if (i == start) return 0;
  if (i < t.size() && t[i] != ' ') return 0;
  return i;
}

}  // namespace

std::pair<std::string_view, std::string_view> SplitEnhancedStatus(int code, std::string_view text) {
  size_t n = EnhancedStatusLength(text);
  if (n == 0 || text[0] - '0' != code / 100) return {std::string_view(), text};
  std::string_view rest = text.substr(n);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return {text.substr(0, n), rest};
}

std::string SmtpReply::Text() const {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += ' ';
    out += l;
  }
  return out;
}

std::string SmtpReply::ToString() const {
  if (enhanced.empty()) return fmt::format("{} {}", code, Text());
  return fmt::format("{} {} {}", code, enhanced, Text());
}

absl::StatusOr<bool> ReplyParser::Feed(std::string_view line) {
  bytes_ += line.size();
  if (bytes_ > kMaxBytes || reply_.lines.size() >= kMaxLines) {
    return absl::ResourceExhaustedError("SMTP reply too long");
  }
  if (line.size() < 3 || !IsDigit(line[0]) || !IsDigit(line[1]) || !IsDigit(line[2]) ||
      line[0] < '2' || line[0] > '5' || (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
    return absl::InvalidArgumentError(
        fmt::format("malformed SMTP reply line: '{}'", line.substr(0, 80)));
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (started_ && code != reply_.code) {
    return absl::InvalidArgumentError(
        fmt::format("SMTP reply changes code mid-reply ({} then {})", reply_.code, code));
  }
  bool last = line.size() == 3 || line[3] == ' ';
  std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
  auto [enhanced, rest] = SplitEnhancedStatus(code, text);
  if (!started_) {
    reply_.code = code;
    started_ = true;
  }
  // RFC 2034 puts the enhanced code on every line; some servers put it only
  // on a later one ("550-text", "550 5.1.1 text"). Keep the first one seen.
  if (reply_.enhanced.empty()) reply_.enhanced = std::string(enhanced);
  reply_.lines.emplace_back(rest);
  return last;
}

SmtpReply ReplyParser::Take() {
  SmtpReply r = std::move(reply_);
  Reset();
  return r;
}

void ReplyParser::Reset() {
  reply_ = SmtpReply();
  bytes_ = 0;
  started_ = false;
}

}  // namespace salvo::smtp
