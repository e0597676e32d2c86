#include "api/handlers/events_v1.h"

#include "absl/strings/numbers.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"

namespace salvo::api {
namespace {

// A bounce, complaint or unsubscribe.
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

Task<absl::StatusOr<HttpResponse>> HandleEvents(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(EventPageQuery query, ReadEventPageQuery(request));
  absl::StatusOr<std::vector<queue::DeliveryEvent>> events =
      co_await context->spool->ReadEvents(query.after, query.limit);
  if (!events.ok()) co_return SpoolFailure(events.status());
  co_return OrderedJsonResponse(200, EventPageJson(*events, query.after));
}

}  // namespace

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

absl::StatusOr<EventPageQuery> ReadEventPageQuery(const HttpRequest& request) {
  EventPageQuery query;
  if (std::optional<std::string> text = request.QueryParam("after"); text && !text->empty()) {
    std::optional<queue::EventId> id = queue::EventId::Parse(*text);
    if (!id) return InvalidFieldError("after", "after must be an event id");
    query.after = *id;
  }
  if (std::optional<std::string> text = request.QueryParam("limit")) {
    int limit = 0;
    if (!absl::SimpleAtoi(*text, &limit) || limit < 1 || limit > kMaxEventsPerPage) {
      return InvalidFieldError("limit", "limit must be 1..1000");
    }
    query.limit = static_cast<size_t>(limit);
  }
  return query;
}

nlohmann::ordered_json EventPageJson(const std::vector<queue::DeliveryEvent>& events,
                                     queue::EventId after) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const queue::DeliveryEvent& e : events) list.push_back(EventJson(e));
  nlohmann::ordered_json answer;
  answer["events"] = std::move(list);
  if (!events.empty()) {
    answer["next"] = events.back().id.ToString();
  } else {
    answer["next"] =
        after.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(after.ToString());
  }
  return answer;
}

HttpHandler EventsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleEvents(context, request); };
}

}  // namespace salvo::api
