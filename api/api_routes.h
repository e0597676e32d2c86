// Assembly of the HTTP API: the operational routes (/healthz, /metrics) and
// the translation of the daemon's config into server options. The campaign,
// message and report routes add themselves to the same HttpRouter with their
// own Add...Routes() functions, one handler per file under api/handlers/.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/http_server.h"
#include "api/http/router.h"
#include "engine/base/metrics.h"
#include "engine/config/config.h"
#include "engine/dkim/dkim_keyring.h"
#include "queue/spool.h"

namespace salvo::api {

// The version reported by /healthz and salvo_build_info.
std::string_view SalvoVersion();

struct OperationalRoutesOptions {
  MetricsRegistry* metrics = &MetricsRegistry::Default();
  // /healthz and /metrics answer loopback clients without an API key (the
  // usual scraper / probe on the same host); other clients need a key.
  bool open_on_loopback = true;
  // /healthz answers everybody (a remote load balancer's probe).
  bool healthz_open = false;
};

// GET /healthz and GET /metrics; also registers salvo_build_info and
// salvo_process_uptime_seconds in `options.metrics`.
absl::Status AddOperationalRoutes(HttpRouter& router, const OperationalRoutesOptions& options);

// The submission routes (docs/api.md), all behind an API key:
//   POST   /v1/messages                      one message, 202 once durable
//   POST   /v1/campaigns                     a campaign with inline recipients
//   POST   /v1/campaigns/{id}/recipients     CSV upload, streamed and staged
//   POST   /v1/campaigns/{id}/close          no more recipients
//   GET    /v1/events?after=&limit=          delivery events, paged by id
//   GET    /v1/campaigns/{id}                status and counts
//   POST   /v1/campaigns/{id}/pause|resume|cancel
//   GET    /v1/campaigns/{id}/events         the campaign's events, paged
//   GET    /v1/campaigns/{id}/report         JSON, or CSV with ?format=csv
//   PUT/GET/DELETE /v1/suppressions/{address}
//   GET    /v1/suppressions?after=&limit=    the list, paged
//   POST   /v1/suppressions                  several at once, all or nothing
// `spool` must outlive the server; `accepted` (the delivery engine's Kick)
// runs on the ring thread after each durable accept. CSV uploads are staged
// in `staging_dir` (default: the system's temporary directory).
// `keyring` (may be null) answers [dkim] campaign_checks. `flushed` (the
// delivery engine's RetryNow) runs after a queue flush rescheduled anything;
// `accepted` when it is empty.
absl::Status AddSubmissionRoutes(HttpRouter& router, queue::Spool* spool,
                                 std::function<void()> accepted, std::string staging_dir = "",
                                 std::shared_ptr<dkim::DkimKeyring> keyring = nullptr,
                                 std::function<void()> flushed = nullptr);

// Options for an HTTP listener: its limits (max_line_length bounds the whole
// request head, max_message_size the largest body any route may accept,
// command_timeout the keep-alive idle time, max_connections is shared out
// among `shards`), the API keys of [api], and `tls` for an implicit-TLS
// listener.
absl::StatusOr<HttpServerOptions> HttpOptionsFromConfig(const ListenerConfig& listener,
                                                        const ApiConfig& api, int shards,
                                                        std::shared_ptr<TlsContext> tls);

}  // namespace salvo::api
