// ConnectToSite: opens one SMTP connection to a destination's next hops —
// the MX hosts in order (RFC 5321 §5.1), each host's addresses in order, at
// most `max_addresses` addresses in all — from the egress path's source
// address, and runs the session's start (greeting, EHLO, STARTTLS by the
// destination's TLS policy). An address that refuses, times out, greets
// with an error or fails TLS is skipped for the next one; only when every
// one failed is the attempt a failure, carrying the last error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "engine/config/config.h"
#include "engine/delivery/outcome_mapping.h"
#include "engine/delivery/route_table.h"
#include "engine/delivery/source_picker.h"
#include "engine/loop/task.h"
#include "engine/smtp/client_session.h"
#include "engine/tls/tls_context.h"

namespace salvo::delivery {

struct SiteConnection {
  std::unique_ptr<smtp::SmtpClientSession> session;
  AttemptPeer peer;
  std::string local;  // the source address used
  int fd = -1;        // for cancellation at shutdown
};

struct ConnectFailure {
  absl::Status error;
  smtp::SmtpReply reply;  // the server's refusal, if it sent one
  AttemptPeer peer;       // the last address tried
  std::string stage;      // "connect", "greeting/EHLO/STARTTLS"
  int addresses_tried = 0;
};

// The client options for `policy` (timeouts, TLS) from `source`.
smtp::ClientOptions ClientOptionsFor(const DeliveryPolicy& policy, const Source& source,
                                     std::shared_ptr<TlsContext> tls, const std::string& sni);

Task<std::variant<SiteConnection, ConnectFailure>> ConnectToSite(
    std::shared_ptr<const NextHops> hops, Source source, DeliveryPolicy policy,
    std::shared_ptr<TlsContext> tls, int max_addresses, std::function<bool()> stopping);

}  // namespace salvo::delivery
