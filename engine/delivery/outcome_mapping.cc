#include "engine/delivery/outcome_mapping.h"

#include "dns/outcome.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

namespace salvo::delivery {

using Kind = queue::DeliveryOutcome::Kind;

namespace {
constexpr std::string_view kExpiredPrefix = "expired:";
constexpr std::string_view kLastMarker = "; last: ";
}  // namespace

queue::DeliveryOutcome OutcomeFromReply(const smtp::SmtpReply& reply, const AttemptPeer& peer) {
  queue::DeliveryOutcome o;
  o.response = queue::RemoteResponse{.host = peer.host,
                                     .ip = peer.ip,
                                     .code = reply.code,
                                     .enhanced_status = reply.enhanced,
                                     .text = reply.Text()};
  if (reply.code >= 200 && reply.code < 300) {
    o.kind = Kind::kDelivered;
  } else if (reply.code >= 500 && reply.code < 600) {
    o.kind = Kind::kFailed;
    if (reply.local) o.reason = "refused before sending: " + reply.Text();
  } else {
    o.kind = Kind::kDeferred;  // 4xx, and anything odd: retry rather than bounce
    if (reply.code == 0) o.reason = "no reply from the server";
  }
  return o;
}

queue::DeliveryOutcome OutcomeFromConnectionError(const absl::Status& error,
                                                  const smtp::SmtpReply& last_reply,
                                                  const AttemptPeer& peer, std::string_view stage) {
  queue::DeliveryOutcome o;
  o.kind = Kind::kDeferred;
  o.response.host = peer.host;
  o.response.ip = peer.ip;
  if (last_reply.code != 0 && !last_reply.positive()) {
    o.response.code = last_reply.code;
    o.response.enhanced_status = last_reply.enhanced;
    o.response.text = last_reply.Text();
  } else {
    o.response.enhanced_status = "4.4.2";
    o.response.text = std::string(ToStd(error.message()));
  }
  o.reason = fmt::format("{}: {}", stage, ToStd(error.message()));
  return o;
}

queue::DeliveryOutcome OutcomeFromDnsError(const absl::Status& error, std::string_view domain) {
  queue::DeliveryOutcome o;
  o.kind = dns::IsPermanentDnsFailure(error) ? Kind::kFailed : Kind::kDeferred;
  o.response.host = std::string(domain);
  o.response.enhanced_status = std::string(dns::DnsEnhancedStatusCode(error));
  o.response.text = std::string(ToStd(error.message()));
  o.reason = fmt::format("DNS for {}: {}", domain, ToStd(error.message()));
  return o;
}

void ApplyRetryPolicy(const queue::RetryPolicy& retry, int attempts, absl::Time accepted_at,
                      absl::Time now, queue::DeliveryOutcome& outcome) {
  if (outcome.kind != Kind::kDeferred) return;
  if (now - accepted_at >= retry.max_age) {
    outcome.kind = Kind::kFailed;
    const queue::RemoteResponse& r = outcome.response;
    std::string last = !outcome.reason.empty() ? outcome.reason
                       : r.code == 0           ? r.text
                       : r.enhanced_status.empty()
                           ? fmt::format("{} {}", r.code, r.text)
                           : fmt::format("{} {} {}", r.code, r.enhanced_status, r.text);
    outcome.reason =
        fmt::format("{} undeliverable for {} after {} attempts{}{}", kExpiredPrefix,
                    absl::FormatDuration(retry.max_age), attempts + 1, kLastMarker, last);
    if (outcome.response.enhanced_status.empty() || outcome.response.enhanced_status[0] == '4') {
      outcome.response.enhanced_status = "4.4.7";
    }
    return;
  }
  absl::Time next = retry.NextAttempt(attempts + 1, now, queue::RandomUnit());
  outcome.retry_at = std::min(next, accepted_at + retry.max_age);
}

bool IsExpiryFailure(const queue::DeliveryOutcome& outcome) {
  return outcome.kind == Kind::kFailed &&
         std::string_view(outcome.reason).starts_with(kExpiredPrefix);
}

std::string_view ExpiryLastReply(const queue::DeliveryOutcome& outcome) {
  std::string_view reason = outcome.reason;
  size_t at = reason.find(kLastMarker);
  return at == std::string_view::npos ? reason : reason.substr(at + kLastMarker.size());
}

std::string_view OutcomeKindName(Kind kind) {
  switch (kind) {
    case Kind::kDelivered:
      return "delivered";
    case Kind::kDeferred:
      return "deferred";
    case Kind::kFailed:
      return "failed";
  }
  return "?";
}

}  // namespace salvo::delivery
