// GET /v1/events?after=<event id>&limit=N: delivery events, oldest first.
//
//   200 {"events": [{"id", "recipient", "content", "kind", "time", "attempts",
//                    "address", "response": {...}, "reason", "next_attempt"}],
//        "next": "<id of the last event, for the next page's after=>"}
//
// `limit` is 1..1000 (default 100). Paging is by id: events are time-ordered
// and never change, so a client that remembers "next" sees every event once.
#pragma once

#include <memory>
#include <vector>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr int kMaxEventsPerPage = 1000;

HttpHandler EventsV1(std::shared_ptr<const SubmissionContext> context);

// The pieces GET /v1/events and GET /v1/campaigns/{id}/events share.
// One event as the API renders it: a delivery outcome, or a bounce,
// complaint or unsubscribe (docs/api.md).
nlohmann::ordered_json EventJson(const queue::DeliveryEvent& e);
// ?after=<event id>&limit=1..1000 (default 100), or a 400 naming the field.
struct EventPageQuery {
  queue::EventId after;
  size_t limit = 100;
};
absl::StatusOr<EventPageQuery> ReadEventPageQuery(const HttpRequest& request);
// {"events": [...], "next": <the last id, or `after` (null at the start)>}.
nlohmann::ordered_json EventPageJson(const std::vector<queue::DeliveryEvent>& events,
                                     queue::EventId after);

}  // namespace salvo::api
