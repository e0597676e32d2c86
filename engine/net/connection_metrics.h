// The /metrics series of a protocol listener's connections (SMTP, POP3,
// IMAP), in MetricsRegistry::Default():
//   salvo_server_connections_total{daemon,listener}          accepted
//   salvo_server_connections_refused_total{daemon,listener}  over a limit
//   salvo_server_connections_open{daemon,listener}           now
#pragma once

#include <string_view>

#include "engine/base/metrics.h"

namespace salvo {

struct ConnectionSeries {
  Counter accepted;
  Counter refused;
  Gauge open;  // Add/Sub on the session's own thread: the sum is the total
};

// `daemon`: "smtpd", "pop3d", "imapd"; `listener`: the configured name.
ConnectionSeries ConnectionMetrics(std::string_view daemon, std::string_view listener);

}  // namespace salvo
