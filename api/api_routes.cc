#include "api/api_routes.h"

#include <algorithm>

#include "api/handlers/healthz_v1.h"
#include "api/handlers/metrics_v1.h"
#include "engine/base/status_macros.h"

#ifndef SALVO_VERSION
#define SALVO_VERSION "unknown"
#endif

namespace salvo::api {

std::string_view SalvoVersion() { return SALVO_VERSION; }

absl::Status AddOperationalRoutes(HttpRouter& router, const OperationalRoutesOptions& options) {
  HealthInfo health{std::string(SalvoVersion()), Clock::now()};
  Clock::time_point started = health.started;
  options.metrics
      ->AddGauge("salvo_build_info", "Salvo's version (the value is always 1).", {"version"})
      .WithLabels({SalvoVersion()})
      .Set(1);
  options.metrics->AddGaugeCallback(
      "salvo_process_uptime_seconds", "Seconds since the HTTP API was set up.",
      [started] { return std::chrono::duration<double>(Clock::now() - started).count(); });

  HttpAccess probe = options.open_on_loopback ? HttpAccess::kOpenOnLoopback : HttpAccess::kApiKey;
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/healthz", HealthzV1(std::move(health)),
                             {.access = options.healthz_open ? HttpAccess::kOpen : probe}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/metrics", MetricsV1(options.metrics), {.access = probe}));
  return absl::OkStatus();
}

absl::StatusOr<HttpServerOptions> HttpOptionsFromConfig(const ListenerConfig& listener,
                                                        const ApiConfig& api, int shards,
                                                        std::shared_ptr<TlsContext> tls) {
  HttpServerOptions o;
  o.name = listener.name;
  const ListenerLimits& l = listener.limits;
  o.limits.max_header_bytes = l.max_line_length;
  o.limits.max_body_bytes = l.max_message_size;
  o.limits.default_body_bytes = std::min<uint64_t>(o.limits.default_body_bytes, l.max_message_size);
  o.limits.idle_timeout = l.command_timeout;
  o.limits.max_connections = std::max(1, l.max_connections / std::max(1, shards));
  ASSIGN_OR_RETURN(o.auth, ApiKeyAuth::Create(api.keys));
  if (listener.tls == ListenerTls::kImplicit) {
    if (!tls)
      return absl::InvalidArgumentError("an implicit-TLS HTTP listener needs a TLS context");
    o.tls = std::move(tls);
  }
  return o;
}

}  // namespace salvo::api
