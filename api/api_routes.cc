#include "api/api_routes.h"

#include <algorithm>
#include <filesystem>

#include "api/handlers/campaign_recipients_v1.h"
#include "api/handlers/campaigns_v1.h"
#include "api/handlers/events_v1.h"
#include "api/handlers/healthz_v1.h"
#include "api/handlers/messages_v1.h"
#include "api/handlers/metrics_v1.h"
#include "api/handlers/suppressions_v1.h"
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

absl::Status AddSubmissionRoutes(HttpRouter& router, queue::Spool* spool,
                                 std::function<void()> accepted, std::string staging_dir) {
  if (spool == nullptr) return absl::InvalidArgumentError("the submission routes need a spool");
  if (staging_dir.empty()) {
    std::error_code ec;
    staging_dir = std::filesystem::temp_directory_path(ec).string();
    if (ec || staging_dir.empty()) staging_dir = "/tmp";
  }
  auto context = std::make_shared<const SubmissionContext>(
      SubmissionContext{spool, std::move(accepted), std::move(staging_dir)});
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/messages", MessagesV1(context),
                             {.body_limit = kMessageBodyLimit}));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns", CreateCampaignV1(context),
                             {.body_limit = kCampaignBodyLimit}));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/recipients",
                             CampaignRecipientsV1(context), {.body_limit = kCsvBodyLimit}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/close", CloseCampaignV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/events", EventsV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPut, "/v1/suppressions/{address}",
                             PutSuppressionV1(context), {.body_limit = 4096}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/suppressions/{address}", GetSuppressionV1(context)));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kDelete, "/v1/suppressions/{address}", DeleteSuppressionV1(context)));
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
