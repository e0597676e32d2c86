#include "api/handlers/campaign_status_v1.h"

#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

const char* RetName(queue::DsnReturn ret) {
  switch (ret) {
    case queue::DsnReturn::kFull:
      return "full";
    case queue::DsnReturn::kHeaders:
      return "headers";
    default:
      return nullptr;
  }
}

nlohmann::ordered_json SettingsJson(const queue::CampaignSettings& s) {
  nlohmann::ordered_json j;
  j["from"] = s.envelope_from;
  j["max_age"] = s.max_age ? nlohmann::ordered_json(absl::ToInt64Seconds(*s.max_age))
                           : nlohmann::ordered_json(nullptr);
  j["envid"] = s.envid;
  const char* ret = RetName(s.ret);
  j["ret"] = ret ? nlohmann::ordered_json(ret) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json tags = nlohmann::ordered_json::object();
  for (const auto& [k, v] : s.metadata) tags[k] = v;
  j["tags"] = std::move(tags);
  return j;
}

Task<absl::StatusOr<HttpResponse>> HandleStatus(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  absl::StatusOr<queue::CampaignInfo> info = context->spool->GetCampaign(id);
  if (!info.ok()) co_return SpoolFailure(info.status());
  co_return OrderedJsonResponse(200, CampaignJson(*info));
}

}  // namespace

nlohmann::ordered_json CountsJson(const queue::CampaignCounters& c) {
  nlohmann::ordered_json j;
  j["recipients"] = c.accepted;
  j["queued"] = c.queued();
  j["deferred"] = c.deferred;
  j["delivered"] = c.delivered;
  j["failed"] = c.failed;
  j["expired"] = c.expired;
  j["suppressed"] = c.suppressed;
  j["cancelled"] = c.cancelled;
  j["bounced"] = c.bounced;
  j["complained"] = c.complained;
  j["unsubscribed"] = c.unsubscribed;
  j["deferrals"] = c.deferrals;
  return j;
}

nlohmann::ordered_json CampaignJson(const queue::CampaignInfo& info) {
  nlohmann::ordered_json j;
  j["id"] = info.id.ToString();
  j["name"] = info.settings.name;
  j["status"] = queue::CampaignStatusName(info.status);
  j["created"] = Rfc3339(info.created);
  j["closed"] = info.closed;
  j["paused"] = info.paused;
  j["cancelled"] = info.cancelled;
  j["settings"] = SettingsJson(info.settings);
  j["counts"] = CountsJson(info.counters);
  return j;
}

HttpHandler CampaignStatusV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleStatus(context, request); };
}

}  // namespace salvo::api
