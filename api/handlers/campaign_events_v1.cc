#include "api/handlers/campaign_events_v1.h"

#include "absl/strings/numbers.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

constexpr int kMaxPage = 1000;

// A bounce, complaint or unsubscribe (docs/api.md).
nlohmann::ordered_json FeedbackJson(const queue::DeliveryEvent& e) {
  nlohmann::ordered_json j;
  j["id"] = e.id.ToString();
  j["recipient"] = e.recipient.ToString();
  j["content"] = e.content.ToString();
  j["kind"] = queue::FeedbackKindName(*e.feedback);
  j["category"] = e.category;
  j["time"] = Rfc3339(e.time);
  j["address"] = e.address;
  j["reason"] = e.reason;
  return j;
}

// The shape of GET /v1/events' events (events_v1.cc), or FeedbackJson.
nlohmann::ordered_json EventJson(const queue::DeliveryEvent& e) {
  if (e.feedback) return FeedbackJson(e);
  nlohmann::ordered_json j;
  j["id"] = e.id.ToString();
  j["recipient"] = e.recipient.ToString();
  j["content"] = e.content.ToString();
  j["kind"] = queue::RecipientStateName(e.kind);
  j["time"] = Rfc3339(e.time);
  j["attempts"] = e.attempts;
  j["address"] = e.address;
  j["response"] = {{"host", e.response.host},
                   {"ip", e.response.ip},
                   {"code", e.response.code},
                   {"enhanced_status", e.response.enhanced_status},
                   {"text", e.response.text}};
  j["reason"] = e.reason;
  if (e.next_attempt) j["next_attempt"] = Rfc3339(*e.next_attempt);
  return j;
}

absl::Status BadParam(std::string_view field, std::string_view message) {
  return ApiError(400, "invalid_field", message,
                  nlohmann::json::array({{{"field", field}, {"code", "invalid_field"}}}));
}

Task<absl::StatusOr<HttpResponse>> HandleEvents(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  queue::EventId after;
  if (std::optional<std::string> text = request.QueryParam("after"); text && !text->empty()) {
    std::optional<queue::EventId> parsed = queue::EventId::Parse(*text);
    if (!parsed) co_return BadParam("after", "after must be an event id");
    after = *parsed;
  }
  int limit = 100;
  if (std::optional<std::string> text = request.QueryParam("limit")) {
    if (!absl::SimpleAtoi(*text, &limit) || limit < 1 || limit > kMaxPage) {
      co_return BadParam("limit", "limit must be 1..1000");
    }
  }
  absl::StatusOr<std::vector<queue::DeliveryEvent>> events =
      co_await context->spool->ReadCampaignEvents(id, after, static_cast<size_t>(limit));
  if (!events.ok()) co_return SpoolFailure(events.status());
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const queue::DeliveryEvent& e : *events) list.push_back(EventJson(e));
  nlohmann::ordered_json answer;
  answer["events"] = std::move(list);
  if (!events->empty()) {
    answer["next"] = events->back().id.ToString();
  } else {
    answer["next"] =
        after.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(after.ToString());
  }
  co_return OrderedJsonResponse(200, answer);
}

}  // namespace

HttpHandler CampaignEventsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleEvents(context, request); };
}

}  // namespace salvo::api
