#include "engine/dsn/bounce_classify.h"

#include <array>

#include "absl/status/status.h"
#include "engine/dsn/header_fields.h"
#include "fmt/format.h"

namespace salvo::dsn {
namespace {

struct TextRule {
  std::string_view pattern;  // matched case-insensitively anywhere
  BounceReason reason;
};

// Ordered: the first match wins, so more specific phrases come first.
constexpr std::array kTextRules{
    TextRule{"virus", BounceReason::kVirus},
    TextRule{"malware", BounceReason::kVirus},
    TextRule{"over quota", BounceReason::kMailboxFull},
    TextRule{"quota exceeded", BounceReason::kMailboxFull},
    TextRule{"exceeded storage", BounceReason::kMailboxFull},
    TextRule{"mailbox full", BounceReason::kMailboxFull},
    TextRule{"mailbox is full", BounceReason::kMailboxFull},
    TextRule{"insufficient storage", BounceReason::kMailboxFull},
    TextRule{"out of storage", BounceReason::kMailboxFull},
    TextRule{"overquota", BounceReason::kMailboxFull},
    TextRule{"spamhaus", BounceReason::kSpamBlock},
    TextRule{"dnsbl", BounceReason::kSpamBlock},
    TextRule{"blacklist", BounceReason::kSpamBlock},
    TextRule{"blocklist", BounceReason::kSpamBlock},
    TextRule{"block list", BounceReason::kSpamBlock},
    TextRule{"listed in", BounceReason::kSpamBlock},
    TextRule{"rbl", BounceReason::kSpamBlock},
    TextRule{"spam", BounceReason::kSpamBlock},
    TextRule{"reputation", BounceReason::kSpamBlock},
    TextRule{"junk mail", BounceReason::kSpamBlock},
    TextRule{"unsolicited", BounceReason::kSpamBlock},
    TextRule{"temporarily suspended", BounceReason::kRouting},
    TextRule{"disabled", BounceReason::kInactiveMailbox},
    TextRule{"inactive", BounceReason::kInactiveMailbox},
    TextRule{"deactivated", BounceReason::kInactiveMailbox},
    TextRule{"suspended", BounceReason::kInactiveMailbox},
    TextRule{"expired account", BounceReason::kInactiveMailbox},
    TextRule{"account has been closed", BounceReason::kInactiveMailbox},
    TextRule{"user unknown", BounceReason::kNoSuchUser},
    TextRule{"unknown user", BounceReason::kNoSuchUser},
    TextRule{"no such user", BounceReason::kNoSuchUser},
    TextRule{"no such mailbox", BounceReason::kNoSuchUser},
    TextRule{"no such recipient", BounceReason::kNoSuchUser},
    TextRule{"user not found", BounceReason::kNoSuchUser},
    TextRule{"recipient not found", BounceReason::kNoSuchUser},
    TextRule{"mailbox not found", BounceReason::kNoSuchUser},
    TextRule{"mailbox unavailable", BounceReason::kNoSuchUser},
    TextRule{"does not exist", BounceReason::kNoSuchUser},
    TextRule{"doesn't exist", BounceReason::kNoSuchUser},
    TextRule{"doesn't have a", BounceReason::kNoSuchUser},
    TextRule{"address couldn't be found", BounceReason::kNoSuchUser},
    TextRule{"invalid recipient", BounceReason::kNoSuchUser},
    TextRule{"invalid mailbox", BounceReason::kNoSuchUser},
    TextRule{"unknown recipient", BounceReason::kNoSuchUser},
    TextRule{"unknown local part", BounceReason::kNoSuchUser},
    TextRule{"unrouteable address", BounceReason::kNoSuchUser},
    TextRule{"not our customer", BounceReason::kNoSuchUser},
    TextRule{"recipientnotfound", BounceReason::kNoSuchUser},
    TextRule{"no mx", BounceReason::kBadDomain},
    TextRule{"null mx", BounceReason::kBadDomain},
    TextRule{"domain not found", BounceReason::kBadDomain},
    TextRule{"host not found", BounceReason::kBadDomain},
    TextRule{"host or domain name not found", BounceReason::kBadDomain},
    TextRule{"nxdomain", BounceReason::kBadDomain},
    TextRule{"does not accept mail", BounceReason::kBadDomain},
    TextRule{"name service error", BounceReason::kDns},
    TextRule{"dns", BounceReason::kDns},
    TextRule{"connection timed out", BounceReason::kRouting},
    TextRule{"connection refused", BounceReason::kRouting},
    TextRule{"no route to host", BounceReason::kRouting},
    TextRule{"relay access denied", BounceReason::kRelaying},
    TextRule{"relaying denied", BounceReason::kRelaying},
    TextRule{"relay not permitted", BounceReason::kRelaying},
    TextRule{"message expired", BounceReason::kExpired},
    TextRule{"too long in queue", BounceReason::kExpired},
    TextRule{"retry timeout exceeded", BounceReason::kExpired},
    TextRule{"message content rejected", BounceReason::kContent},
    TextRule{"content rejected", BounceReason::kContent},
    TextRule{"message size exceeds", BounceReason::kContent},
    TextRule{"message too large", BounceReason::kContent},
    TextRule{"dmarc", BounceReason::kPolicy},
    TextRule{"spf", BounceReason::kPolicy},
    TextRule{"dkim", BounceReason::kPolicy},
    TextRule{"policy", BounceReason::kPolicy},
    TextRule{"rate limit", BounceReason::kPolicy},
    TextRule{"too many", BounceReason::kPolicy},
    TextRule{"temporarily deferred", BounceReason::kPolicy},
    TextRule{"syntax error", BounceReason::kProtocol},
    TextRule{"command unrecognized", BounceReason::kProtocol},
};

// RFC 3463 subject.detail -> reason, for codes that say enough on their own.
BounceReason ReasonFromStatus(std::string_view status) {
  size_t dot = status.find('.');
  if (dot == std::string_view::npos) return BounceReason::kNone;
  std::string_view rest = status.substr(dot + 1);
  struct CodeRule {
    std::string_view code;
    BounceReason reason;
  };
  static constexpr std::array kCodes{
      CodeRule{"1.1", BounceReason::kNoSuchUser},  CodeRule{"1.0", BounceReason::kNoSuchUser},
      CodeRule{"1.6", BounceReason::kNoSuchUser},  CodeRule{"1.2", BounceReason::kBadDomain},
      CodeRule{"1.10", BounceReason::kBadDomain},  CodeRule{"2.1", BounceReason::kInactiveMailbox},
      CodeRule{"2.2", BounceReason::kMailboxFull}, CodeRule{"2.3", BounceReason::kContent},
      CodeRule{"3.4", BounceReason::kContent},     CodeRule{"4.4", BounceReason::kRouting},
      CodeRule{"4.1", BounceReason::kRouting},     CodeRule{"4.2", BounceReason::kRouting},
      CodeRule{"4.3", BounceReason::kDns},         CodeRule{"4.6", BounceReason::kRouting},
      CodeRule{"4.7", BounceReason::kExpired},     CodeRule{"7.1", BounceReason::kPolicy},
      CodeRule{"7.2", BounceReason::kPolicy},      CodeRule{"7.26", BounceReason::kPolicy},
      CodeRule{"7.23", BounceReason::kPolicy},     CodeRule{"7.25", BounceReason::kPolicy},
      CodeRule{"5.2", BounceReason::kProtocol},    CodeRule{"5.4", BounceReason::kProtocol},
      CodeRule{"5.1", BounceReason::kProtocol},    CodeRule{"1.8", BounceReason::kPolicy},
  };
  for (const CodeRule& rule : kCodes) {
    if (rest == rule.code) return rule.reason;
  }
  return BounceReason::kNone;
}

bool IsAddressProblem(BounceReason reason) {
  return reason == BounceReason::kNoSuchUser || reason == BounceReason::kBadDomain ||
         reason == BounceReason::kInactiveMailbox;
}

}  // namespace

std::string_view CategoryName(BounceCategory category) {
  switch (category) {
    case BounceCategory::kUnknown:
      return "unknown";
    case BounceCategory::kHard:
      return "hard";
    case BounceCategory::kSoft:
      return "soft";
    case BounceCategory::kComplaint:
      return "complaint";
    case BounceCategory::kAutoReply:
      return "auto_reply";
  }
  return "unknown";
}

std::string_view ReasonName(BounceReason reason) {
  switch (reason) {
    case BounceReason::kNone:
      return "none";
    case BounceReason::kNoSuchUser:
      return "no_such_user";
    case BounceReason::kBadDomain:
      return "bad_domain";
    case BounceReason::kInactiveMailbox:
      return "inactive_mailbox";
    case BounceReason::kMailboxFull:
      return "mailbox_full";
    case BounceReason::kSpamBlock:
      return "spam_block";
    case BounceReason::kPolicy:
      return "policy";
    case BounceReason::kContent:
      return "content";
    case BounceReason::kVirus:
      return "virus";
    case BounceReason::kDns:
      return "dns";
    case BounceReason::kRouting:
      return "routing";
    case BounceReason::kRelaying:
      return "relaying";
    case BounceReason::kProtocol:
      return "protocol";
    case BounceReason::kExpired:
      return "expired";
    case BounceReason::kOther:
      return "other";
    case BounceReason::kComplaint:
      return "complaint";
    case BounceReason::kAutoReply:
      return "auto_reply";
  }
  return "none";
}

absl::StatusOr<BounceRules> BounceRules::Parse(std::string_view text) {
  BounceRules rules;
  size_t number = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    std::string_view line = Trim(rest.substr(0, eol));
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    size_t space = line.find_first_of(" \t");
    std::string_view name = line.substr(0, space);
    std::string_view phrase =
        space == std::string_view::npos ? std::string_view() : Trim(line.substr(space + 1));
    std::optional<BounceReason> reason = ReasonFromName(name);
    if (!reason || *reason == BounceReason::kNone || *reason == BounceReason::kComplaint ||
        *reason == BounceReason::kAutoReply) {
      return absl::InvalidArgumentError(
          fmt::format("bounce rules line {}: unknown reason '{}'", number, name));
    }
    if (phrase.empty()) {
      return absl::InvalidArgumentError(fmt::format("bounce rules line {}: no phrase", number));
    }
    rules.extra_.push_back({std::string(phrase), *reason});
  }
  return rules;
}

Classification BounceRules::Classify(std::string_view status, int reply_code,
                                     std::string_view diagnostic) const {
  // An expiry code says why delivery stopped whatever the last reply was.
  BounceReason reason = ReasonFromStatus(status) == BounceReason::kExpired ? BounceReason::kExpired
                                                                           : BounceReason::kNone;
  for (size_t i = 0; i < extra_.size() && reason == BounceReason::kNone; ++i) {
    if (ContainsIgnoreCase(diagnostic, extra_[i].first)) reason = extra_[i].second;
  }
  for (size_t i = 0; i < kTextRules.size() && reason == BounceReason::kNone; ++i) {
    if (ContainsIgnoreCase(diagnostic, kTextRules[i].pattern)) reason = kTextRules[i].reason;
  }
  if (reason == BounceReason::kNone) reason = ReasonFromStatus(status);
  char klass = !status.empty()     ? status.front()
               : reply_code >= 500 ? '5'
               : reply_code >= 400 ? '4'
                                   : 0;
  if (klass == 0 && reason == BounceReason::kNone) return {};
  if (klass == '2') return {BounceCategory::kUnknown, BounceReason::kNone};
  if (reason == BounceReason::kNone) reason = BounceReason::kOther;
  // A 4xx that names a bad address is still transient by the server's word.
  if (IsAddressProblem(reason) && klass != '4') return {BounceCategory::kHard, reason};
  if (reason == BounceReason::kOther && klass == '5') return {BounceCategory::kHard, reason};
  return {BounceCategory::kSoft, reason};
}

Classification ClassifyFailure(std::string_view status, int reply_code,
                               std::string_view diagnostic) {
  static const BounceRules kBuiltIn;
  return kBuiltIn.Classify(status, reply_code, diagnostic);
}

std::optional<BounceReason> ReasonFromName(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(BounceReason::kAutoReply); ++i) {
    auto reason = static_cast<BounceReason>(i);
    if (ReasonName(reason) == name) return reason;
  }
  return std::nullopt;
}

}  // namespace salvo::dsn
