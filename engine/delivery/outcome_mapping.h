// How what happened to a delivery attempt becomes a DeliveryOutcome: pure
// functions, no I/O.
//
//   2xx                                  delivered
//   4xx (421 included)                   deferred (retry per the schedule)
//   5xx (local refusals included)        failed
//   connection, TLS, greeting, timeout   deferred (after every MX/address
//                                        was tried)
//   DNS: NXDOMAIN, null MX, bad name     failed (permanent, dns/outcome.h)
//   DNS: SERVFAIL, timeout               deferred
//
// Deferrals carry retry_at from the destination's retry schedule; a deferral
// past the destination's maximum age becomes a failure ("expired").
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "engine/smtp/reply.h"
#include "queue/records.h"
#include "queue/retry_policy.h"

namespace salvo::delivery {

// Where an attempt went: for RemoteResponse.
struct AttemptPeer {
  std::string host;  // MX host name (or route host)
  std::string ip;
};

// The outcome of one recipient from the reply that decides it.
queue::DeliveryOutcome OutcomeFromReply(const smtp::SmtpReply& reply, const AttemptPeer& peer);

// The outcome of a recipient whose connection or transaction failed without
// a reply that decides it (network error, timeout, TLS, greeting refused).
queue::DeliveryOutcome OutcomeFromConnectionError(const absl::Status& error,
                                                  const smtp::SmtpReply& last_reply,
                                                  const AttemptPeer& peer, std::string_view stage);

// The outcome of a failed resolution (dns/outcome.h conventions).
queue::DeliveryOutcome OutcomeFromDnsError(const absl::Status& error, std::string_view domain);

// Fills retry_at of a deferral from `retry` (attempts = attempts before this
// one) or turns it into a failure when the recipient is older than
// retry.max_age.
void ApplyRetryPolicy(const queue::RetryPolicy& retry, int attempts, absl::Time accepted_at,
                      absl::Time now, queue::DeliveryOutcome& outcome);

// True when ApplyRetryPolicy turned a deferral into an expiry failure.
bool IsExpiryFailure(const queue::DeliveryOutcome& outcome);
// For such a failure: the last reply ("451 4.7.1 greylisted") or local
// problem before it expired, as it was before the status became 4.4.7.
std::string_view ExpiryLastReply(const queue::DeliveryOutcome& outcome);

std::string_view OutcomeKindName(queue::DeliveryOutcome::Kind kind);

}  // namespace salvo::delivery
