#include "engine/delivery/dsn_builder.h"

#include "absl/strings/match.h"
#include "engine/base/strings.h"
#include "engine/config/units.h"
#include "fmt/format.h"

namespace salvo::delivery {
namespace {

dsn::SystemTime ToSystem(absl::Time t) { return absl::ToChronoTime(t); }

char ClassDigit(dsn::DsnAction action, bool expired) {
  if (expired) return '4';
  switch (action) {
    case dsn::DsnAction::kFailed:
      return '5';
    case dsn::DsnAction::kDelayed:
      return '4';
    default:
      return '2';
  }
}

std::string StatusOf(const DsnEntry& e) {
  if (e.expired) return "4.4.7";
  const std::string& enhanced = e.outcome.response.enhanced_status;
  char digit = ClassDigit(e.action, false);
  if (!enhanced.empty() && enhanced[0] == digit) return enhanced;
  if (!enhanced.empty() && enhanced.size() > 1) return std::string(1, digit) + enhanced.substr(1);
  return fmt::format("{}.0.0", digit);
}

std::string DiagnosticOf(const queue::DeliveryOutcome& o) {
  // The engine's expiry rewrote the status to 4.4.7; quote what was said.
  if (IsExpiryFailure(o)) return std::string(ExpiryLastReply(o));
  const queue::RemoteResponse& r = o.response;
  if (r.code != 0) {
    bool has_enhanced = r.enhanced_status.empty() || absl::StartsWith(r.text, r.enhanced_status);
    if (has_enhanced) return fmt::format("{} {}", r.code, r.text);
    return fmt::format("{} {} {}", r.code, r.enhanced_status, r.text);
  }
  // A local decision (DNS, connection, policy): no reply code to quote.
  return o.reason.empty() ? r.text : o.reason;
}

}  // namespace

DsnSettings DsnSettingsFrom(const Config& config, std::string_view hostname) {
  const DsnConfig& c = config.delivery.dsn;
  DsnSettings s;
  s.enabled = c.enabled;
  s.delay_warning = absl::FromChrono(c.delay_warning);
  s.reporting_mta = !c.reporting_mta.empty() ? c.reporting_mta
                    : !hostname.empty()      ? std::string(hostname)
                                             : config.server.hostname;
  s.max_returned_bytes = static_cast<size_t>(c.max_returned_bytes);
  return s;
}

dsn::DsnNotify NotifyOf(uint8_t bits) {
  dsn::DsnNotify n;
  n.specified = bits != 0;
  n.never = (bits & queue::kNotifyNever) != 0;
  n.success = (bits & queue::kNotifySuccess) != 0;
  n.failure = (bits & queue::kNotifyFailure) != 0;
  n.delay = (bits & queue::kNotifyDelay) != 0;
  return n;
}

dsn::DsnReturn ReturnOf(queue::DsnReturn ret) {
  switch (ret) {
    case queue::DsnReturn::kFull:
      return dsn::DsnReturn::kFull;
    case queue::DsnReturn::kHeaders:
      return dsn::DsnReturn::kHeaders;
    default:
      return dsn::DsnReturn::kUnspecified;
  }
}

dsn::DsnRecipient ReportRecipient(const DsnEntry& e) {
  dsn::DsnRecipient r;
  r.address = e.address;
  if (!e.params.orcpt.empty()) r.original_recipient = dsn::DecodeXtext(e.params.orcpt);
  r.action = e.action;
  r.status = StatusOf(e);
  r.remote_mta = e.outcome.response.code != 0 ? e.outcome.response.host : "";
  r.diagnostic = DiagnosticOf(e.outcome);
  r.last_attempt = ToSystem(e.attempted);
  if (e.retry_until) r.will_retry_until = ToSystem(*e.retry_until);
  return r;
}

absl::StatusOr<DsnMessage> BuildDsnMessage(const queue::Message& original, absl::Time arrival,
                                           const std::vector<DsnEntry>& entries,
                                           const DsnSettings& settings, std::string_view seed,
                                           absl::Time now) {
  dsn::DsnInput in;
  in.reporting_mta = settings.reporting_mta;
  in.envelope_sender = original.envelope_from;
  in.envid = original.envid.empty() ? "" : dsn::DecodeXtext(original.envid);
  in.ret = ReturnOf(original.ret);
  in.arrival = ToSystem(arrival);
  in.now = ToSystem(now);
  in.original = original.content;
  in.max_returned_bytes = settings.max_returned_bytes;
  in.message_id_seed = std::string(seed);
  in.recipients.reserve(entries.size());
  for (const DsnEntry& e : entries) in.recipients.push_back(ReportRecipient(e));
  absl::StatusOr<std::string> report = dsn::ComposeDsn(in);
  if (!report.ok()) return report.status();
  DsnMessage out;
  out.message.envelope_from = "";  // <>
  out.message.content = std::move(*report);
  out.recipients.push_back(queue::NewRecipient{
      .address = original.envelope_from, .dsn = queue::DsnParams{.notify = queue::kNotifyNever}});
  return out;
}

}  // namespace salvo::delivery
