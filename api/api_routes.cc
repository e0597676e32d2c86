#include "api/api_routes.h"

#include <algorithm>
#include <filesystem>

#include "api/handlers/campaign_control_v1.h"
#include "api/handlers/campaign_events_v1.h"
#include "api/handlers/campaign_recipients_v1.h"
#include "api/handlers/campaign_report_v1.h"
#include "api/handlers/campaign_status_v1.h"
#include "api/handlers/campaigns_v1.h"
#include "api/handlers/events_v1.h"
#include "api/handlers/healthz_v1.h"
#include "api/handlers/message_queue_v1.h"
#include "api/handlers/messages_v1.h"
#include "api/handlers/metrics_v1.h"
#include "api/handlers/queue_v1.h"
#include "api/handlers/suppressions_v1.h"
#include "api/handlers/unsubscribe_v1.h"
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

namespace {

// GET /v1/campaigns/{id}, .../events, .../report; POST .../pause|resume|cancel.
absl::Status AddCampaignReadAndControlRoutes(HttpRouter& router,
                                             std::shared_ptr<const SubmissionContext> context) {
  using queue::CampaignControl;
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/campaigns/{id}", CampaignStatusV1(context)));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/campaigns/{id}/events", CampaignEventsV1(context)));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/campaigns/{id}/report", CampaignReportV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/pause",
                             CampaignControlV1(context, CampaignControl::kPause)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/resume",
                             CampaignControlV1(context, CampaignControl::kResume)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/cancel",
                             CampaignControlV1(context, CampaignControl::kCancel)));
  return absl::OkStatus();
}

}  // namespace

absl::Status AddSubmissionRoutes(HttpRouter& router, queue::Spool* spool,
                                 std::function<void()> accepted, std::string staging_dir,
                                 std::shared_ptr<dkim::DkimKeyring> keyring,
                                 std::function<void()> flushed) {
  if (spool == nullptr) return absl::InvalidArgumentError("the submission routes need a spool");
  if (staging_dir.empty()) {
    std::error_code ec;
    staging_dir = std::filesystem::temp_directory_path(ec).string();
    if (ec || staging_dir.empty()) staging_dir = "/tmp";
  }
  if (!flushed) flushed = accepted;
  auto context = std::make_shared<const SubmissionContext>(SubmissionContext{
      spool, std::move(accepted), std::move(staging_dir), std::move(keyring), std::move(flushed)});
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/messages", MessagesV1(context),
                             {.body_limit = kMessageBodyLimit}));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/messages/{id}", MessageViewV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kDelete, "/v1/messages/{id}", MessageCancelV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns", CreateCampaignV1(context),
                             {.body_limit = kCampaignBodyLimit}));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/recipients",
                             CampaignRecipientsV1(context), {.body_limit = kCsvBodyLimit}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/close", CloseCampaignV1(context)));
  RETURN_IF_ERROR(AddCampaignReadAndControlRoutes(router, context));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/events", EventsV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/queue", QueueSummaryV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/queue/flush", QueueFlushV1(context, false)));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kPost, "/v1/queue/{domain}/flush", QueueFlushV1(context, true)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPut, "/v1/suppressions/{address}",
                             PutSuppressionV1(context), {.body_limit = 4096}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kGet, "/v1/suppressions/{address}", GetSuppressionV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/suppressions", ListSuppressionsV1(context)));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/suppressions", PostSuppressionsV1(context),
                             {.body_limit = kSuppressionsBodyLimit}));
  RETURN_IF_ERROR(
      router.Add(HttpMethod::kDelete, "/v1/suppressions/{address}", DeleteSuppressionV1(context)));
  return absl::OkStatus();
}

absl::Status AddUnsubscribeRoutes(HttpRouter& router, queue::Spool* spool,
                                  std::string verp_secret) {
  if (spool == nullptr || verp_secret.empty()) {
    return absl::InvalidArgumentError("the unsubscribe routes need a spool and the VERP secret");
  }
  std::shared_ptr<UnsubscribeContext> context =
      MakeUnsubscribeContext(spool, std::move(verp_secret));
  RETURN_IF_ERROR(router.Add(HttpMethod::kGet, "/v1/unsubscribe/{token}",
                             UnsubscribePageV1(context), {.access = HttpAccess::kOpen}));
  RETURN_IF_ERROR(router.Add(HttpMethod::kPost, "/v1/unsubscribe/{token}", UnsubscribeV1(context),
                             {.access = HttpAccess::kOpen, .body_limit = kUnsubscribeBodyLimit}));
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
