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

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr int kMaxEventsPerPage = 1000;

HttpHandler EventsV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
