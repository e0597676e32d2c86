// Bounce classification: an enhanced status code, an SMTP reply code and the
// diagnostic text -> a category (what to do with the address) and a finer
// reason (what analysts report). Used for asynchronous bounces and meant for
// synchronous 4xx/5xx replies too, so both land in the same category.
//
// Rules: text patterns first (they are more specific than codes: many MTAs
// answer 550 5.7.1 for a missing mailbox), then the status code's subject and
// detail, then its class. Hard = the address itself is bad (no such user, bad
// domain, inactive mailbox) or a permanent failure with no better reason;
// everything else that failed is soft.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace salvo::dsn {

enum class BounceCategory { kUnknown, kHard, kSoft, kComplaint, kAutoReply };

enum class BounceReason {
  kNone,
  kNoSuchUser,
  kBadDomain,
  kInactiveMailbox,
  kMailboxFull,
  kSpamBlock,
  kPolicy,
  kContent,
  kVirus,
  kDns,
  kRouting,
  kRelaying,
  kProtocol,
  kExpired,
  kOther,
  kComplaint,
  kAutoReply,
};

std::string_view CategoryName(BounceCategory category);
std::string_view ReasonName(BounceReason reason);

struct Classification {
  BounceCategory category = BounceCategory::kUnknown;
  BounceReason reason = BounceReason::kNone;
};

std::optional<BounceReason> ReasonFromName(std::string_view name);

// The built-in rules plus an operator's own phrases, loaded from a data file
// at start or reload (no rebuild). Immutable once built: share it freely.
class BounceRules {
 public:
  BounceRules() = default;  // the built-in rules only

  // One rule per line, "<reason> <phrase>", e.g. "mailbox_full storage
  // allocation exceeded"; '#' starts a comment line. The phrase is matched
  // case-insensitively anywhere in the diagnostic, and operator phrases are
  // tried (in file order) before the built-in ones. Errors name the line.
  static absl::StatusOr<BounceRules> Parse(std::string_view text);

  // `status` is "c.s.d" or ""; `reply_code` is 0 when unknown; `diagnostic`
  // is the free text. With neither code nor pattern, the result is kUnknown.
  Classification Classify(std::string_view status, int reply_code,
                          std::string_view diagnostic) const;

 private:
  std::vector<std::pair<std::string, BounceReason>> extra_;
};

// BounceRules().Classify: the built-in rules.
Classification ClassifyFailure(std::string_view status, int reply_code,
                               std::string_view diagnostic);

}  // namespace salvo::dsn
