// DsnBuilder: how the delivery engine's outcomes become delivery status
// notifications (RFC 3464) — pure functions, no I/O. The engine's outcome
// recorder (outcome_recorder.h) decides when; this module decides what: the
// report's recipient lines from DeliveryOutcomes, and the null-sender message
// that carries the report back to the original envelope sender.
//
// Invariants: a DSN is only ever built for a single message (a queue::Message)
// whose sender is not <> and which is not itself a delivery report (RFC 3461
// §6.2 — dsn::ShouldSendDsn); the DSN's own recipient carries NOTIFY=NEVER, so
// no DSN is ever written about a DSN.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/config/config.h"
#include "engine/delivery/outcome_mapping.h"
#include "engine/dsn/dsn_compose.h"
#include "queue/records.h"

namespace salvo::delivery {

// The [delivery] DSN keys, resolved (reporting_mta defaulted to the host name).
struct DsnSettings {
  bool enabled = true;
  absl::Duration delay_warning = absl::ZeroDuration();
  std::string reporting_mta;
  size_t max_returned_bytes = 1 << 20;
};
DsnSettings DsnSettingsFrom(const Config& config, std::string_view hostname);

dsn::DsnNotify NotifyOf(uint8_t notify_bits);
dsn::DsnReturn ReturnOf(queue::DsnReturn ret);

// One recipient's line in a report.
struct DsnEntry {
  std::string address;
  queue::DsnParams params;
  dsn::DsnAction action = dsn::DsnAction::kFailed;
  queue::DeliveryOutcome outcome;  // what decided it (response, reason)
  absl::Time attempted;
  bool expired = false;                   // failed because of the maximum age
  std::optional<absl::Time> retry_until;  // for kDelayed
};

// The report line for one recipient: Status from the enhanced code (4.4.7
// for an expiry; a class digit matching the Action otherwise), the reply as
// Diagnostic-Code (for an expiry: the last reply before it), the MX host as
// Remote-MTA.
dsn::DsnRecipient ReportRecipient(const DsnEntry& entry);

// The DSN as a spool message: from <> to the original sender, one recipient
// with NOTIFY=NEVER, content = the composed multipart/report. `seed` makes
// its Message-ID unique. Errors from ComposeDsn (no recipients, sender <>).
struct DsnMessage {
  queue::Message message;
  std::vector<queue::NewRecipient> recipients;
};
absl::StatusOr<DsnMessage> BuildDsnMessage(const queue::Message& original, absl::Time arrival,
                                           const std::vector<DsnEntry>& entries,
                                           const DsnSettings& settings, std::string_view seed,
                                           absl::Time now = absl::Now());

}  // namespace salvo::delivery
