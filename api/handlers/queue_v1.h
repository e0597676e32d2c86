// The queue as operators see it (queue/queue_view.h):
//
//   GET  /v1/queue?limit=N           totals, and the N domains (1..1000,
//                                    default 100) with the most recipients
//   POST /v1/queue/flush             every queued recipient due now
//   POST /v1/queue/{domain}/flush    those of one recipient domain
//
// GET answers {"recipients", "queued", "deferred", "in_flight", "paused",
// "domains", "destinations": [{"domain", "recipients", "queued", "deferred",
// "in_flight", "paused", "oldest_accepted", "next_attempt" (null when none is
// queued), "max_attempts"}]}. A flush answers {"rescheduled": n} (and
// "domain"), then wakes the delivery engine, which also ends every site's
// unreachable hold (engine/delivery/site.h); a flush is idempotent, and an
// unknown domain reschedules 0. The flushes take no body. Both read only the
// in-memory schedule; a flush does not survive a restart (docs/api.md).
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr int kMaxQueueDestinations = 1000;

HttpHandler QueueSummaryV1(std::shared_ptr<const SubmissionContext> context);
// `by_domain`: the route has a {domain} parameter.
HttpHandler QueueFlushV1(std::shared_ptr<const SubmissionContext> context, bool by_domain);

}  // namespace salvo::api
