// SEARCH (RFC 3501 §6.4.4): the search keys parsed into a tree, and their
// evaluation against one message. I/O-free.
//
// Keys on flags, dates, sizes, UIDs and sequence numbers need only the
// MessageMeta the store keeps in memory; header and body keys need the
// content (NeedsContent()), which the session reads only when so. Searches
// by bounce category and campaign — HEADER X-Salvo-Category / X-Salvo-Campaign
// — are answered from MessageAttributes without reading content, as are the
// shortcut keys CATEGORY <text> and CAMPAIGN <text> (Salvo extensions).
//
// Text matching is a case-insensitive substring match on the raw (not
// decoded) header values and body octets; CHARSET US-ASCII and UTF-8 are
// accepted, others are refused with [BADCHARSET].
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "engine/imap/command_parser.h"
#include "engine/imap/mime_message.h"
#include "engine/imap/sequence_set.h"
#include "engine/mailbox/mail_store.h"

namespace salvo::imap {

struct SearchKey {
  enum class Op {
    kAll,
    kAnd,
    kOr,
    kNot,
    kFlagSet,
    kFlagClear,
    kNew,
    kRecent,
    kNotRecent,
    kSeqSet,
    kUidSet,
    kLarger,
    kSmaller,
    kBefore,
    kOn,
    kSince,
    kSentBefore,
    kSentOn,
    kSentSince,
    kHeader,
    kBody,
    kText,
    kCategory,
    kCampaign,
    kRecipient,
  };
  Op op = Op::kAll;
  uint8_t flag = 0;
  uint64_t size = 0;
  absl::CivilDay day;
  std::string header;  // kHeader: the field name
  std::string text;    // lower case for matching
  std::shared_ptr<SequenceSet> set;
  std::vector<SearchKey> children;
};

struct SearchTarget {
  const mailbox::MessageMeta* meta = nullptr;
  uint32_t msn = 0;
  uint32_t max_msn = 0;  // '*'
  uint32_t max_uid = 0;
  const MimeMessage* message = nullptr;  // required when NeedsContent
};

// Parses args[first..] (an implicit AND). InvalidArgument with the reason;
// the message "[BADCHARSET]" for an unknown charset.
absl::StatusOr<SearchKey> ParseSearch(const std::vector<ImapArg>& args, size_t first);
bool NeedsContent(const SearchKey& key);
// True when a key reads MessageAttributes (category, campaign, recipient).
bool NeedsAttributes(const SearchKey& key);
bool Matches(const SearchKey& key, const SearchTarget& target);

// "1-Feb-1994" (RFC 3501 date).
std::optional<absl::CivilDay> ParseImapDate(std::string_view text);

}  // namespace salvo::imap
