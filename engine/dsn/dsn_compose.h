// Delivery status notifications out (RFC 3464 report, RFC 6522 container,
// RFC 3461 NOTIFY/RET/ENVID/ORCPT). The queue maps its outcomes onto these
// plain structs; ComposeDsn renders one multipart/report for one message and
// any number of its recipients. I/O-free: the caller sends the result from
// the null sender <> to DsnInput::envelope_sender.
//
// Invariants: every value copied into a header or report field is reduced to
// one line (no CR/LF injection); the MIME boundary never occurs in the
// returned original content; the original is returned whole only for
// RET=FULL and only up to max_returned_bytes, else its header section.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace salvo::dsn {

using SystemTime = std::chrono::system_clock::time_point;

// RFC 3464 §2.3.3 Action values.
enum class DsnAction { kFailed, kDelayed, kDelivered, kRelayed, kExpanded };
std::string_view ActionName(DsnAction action);

// RFC 3461 RET: what of the original to return.
enum class DsnReturn { kUnspecified, kHeaders, kFull };

// RFC 3461 NOTIFY. `specified` false means the client gave no NOTIFY: the
// default is FAILURE and DELAY.
struct DsnNotify {
  bool specified = false;
  bool never = false;
  bool success = false;
  bool failure = false;
  bool delay = false;
};
// Parses "NEVER" or a comma list of SUCCESS, FAILURE, DELAY (any case).
// NEVER combined with anything else is an error (RFC 3461 §4.1).
absl::StatusOr<DsnNotify> ParseNotify(std::string_view value);

struct DsnRecipient {
  std::string address;             // Final-Recipient (rfc822)
  std::string original_recipient;  // ORCPT "addr-type;address", xtext decoded; "" if none
  DsnAction action = DsnAction::kFailed;
  std::string status;      // "5.1.1"
  std::string remote_mta;  // host name of the MX that answered; "" if none
  std::string diagnostic;  // the SMTP reply, e.g. "550 5.1.1 <a@b>: no such user"
  std::optional<SystemTime> last_attempt;
  std::optional<SystemTime> will_retry_until;  // for kDelayed
};

struct DsnInput {
  std::string reporting_mta;    // our host name (also MAILER-DAEMON@ domain)
  std::string envelope_sender;  // the DSN's recipient (the original MAIL FROM)
  std::string envid;            // ENVID, xtext decoded; "" if none
  DsnReturn ret = DsnReturn::kUnspecified;
  SystemTime arrival;
  SystemTime now;                       // Date of the DSN
  std::string original;                 // the original message (or at least its headers)
  size_t max_returned_bytes = 1 << 20;  // larger originals come back as headers only
  std::vector<DsnRecipient> recipients;
  std::string message_id_seed;  // unique per DSN (e.g. spool id); goes into Message-ID
};

// Renders the DSN. Errors: no recipients, or an empty envelope sender (a DSN
// is never sent to <>).
absl::StatusOr<std::string> ComposeDsn(const DsnInput& input);

// True when `message` (headers suffice) is itself a delivery report:
// Content-Type multipart/report with report-type=delivery-status, or a
// top-level message/delivery-status.
bool IsDeliveryStatusReport(std::string_view message);

// The RFC 3461/3464 rules for whether to notify the envelope sender about one
// recipient's outcome: never to <>, never about a DSN, and as NOTIFY asks
// (default FAILURE+DELAY; kRelayed counts as SUCCESS as in RFC 3461 §6.2.1).
bool ShouldSendDsn(std::string_view envelope_sender, std::string_view original,
                   const DsnNotify& notify, DsnAction action);

// RFC 3461 §4 xtext decoding ("a+2Bb" -> "a+b"); malformed escapes are kept.
std::string DecodeXtext(std::string_view xtext);

// RFC 5322 date-time in UTC, e.g. "Sun, 22 Nov 2026 23:14:06 +0000".
std::string FormatRfc5322Date(SystemTime when);

}  // namespace salvo::dsn
