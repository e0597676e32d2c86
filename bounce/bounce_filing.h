// Where a received bounce is filed and how it is labelled: the bounce
// category folder of the mailbox (issue 7: INBOX plus Hard, Soft,
// Complaints, AutoReplies, Unparsed) and the X-Salvo-* header fields
// prepended to the stored copy, so that any IMAP client can SEARCH HEADER
// X-Salvo-Category / X-Salvo-Campaign without knowing Salvo.
//
// I/O-free. Every value written into a header field is reduced to one line
// of printable text (a hostile bounce cannot inject header fields).
#pragma once

#include <string>
#include <string_view>

#include "engine/dsn/bounce_parse.h"

namespace salvo::bounce {

// The mailbox's system folders (besides INBOX) for bounce categories.
inline constexpr std::string_view kFolderHard = "Hard";
inline constexpr std::string_view kFolderSoft = "Soft";
inline constexpr std::string_view kFolderComplaints = "Complaints";
inline constexpr std::string_view kFolderAutoReplies = "AutoReplies";
inline constexpr std::string_view kFolderUnparsed = "Unparsed";

// The folder for a parsed report: its kind first (complaint, auto-reply),
// then its worst classification; an unknown or unclassified report is
// Unparsed.
std::string_view FolderFor(const dsn::BounceReport& report);

// The analyst's category name ("bad-mailbox", "quota-issues", "complaint",
// "auto-reply", ... "unparsed"), from the report's worst reason.
std::string CategoryLabel(const dsn::BounceReport& report);
// The same for one recipient's classification.
std::string CategoryLabel(const dsn::Classification& c);

// What we learned, stamped onto the stored copy.
struct BounceStamp {
  std::string category;      // CategoryLabel
  std::string kind;          // "dsn", "arf", "auto-reply", "unknown"
  std::string campaign;      // campaign/content id, "" if not attributed
  std::string recipient;     // the address that bounced (first), or ""
  std::string recipient_id;  // the VERP token's recipient id (hex), or ""
  bool verified = false;     // the VERP token's HMAC checked out
};

// "X-Salvo-Category: ...\r\n..." for `stamp` (fields with empty values are
// left out), to be prepended to the message.
std::string StampHeaders(const BounceStamp& stamp);

// One line of printable ASCII/UTF-8, at most `max` octets.
std::string OneLine(std::string_view text, size_t max = 200);

}  // namespace salvo::bounce
