// One accepted message in the queue (queue/queue_view.h), by the id that
// POST /v1/messages answered (or that the SMTP 250 after DATA named):
//
//   GET    /v1/messages/{id}   its recipients not final yet: {"id",
//          "accepted", "recipients", "queued", "deferred", "in_flight",
//          "cancelled", "pending": [{"id", "domain", "state" ("queued" or
//          "in_flight"), "attempts", "next_attempt" (null when in flight)}],
//          "more" (pending lists at most 1000; the counts cover all)}
//   DELETE /v1/messages/{id}   Postfix's `postsuper -d`: every queued
//          recipient is finalised (a "failed" event, reason "cancelled", no
//          DSN) before the answer, {"id", "cancelled", "in_flight"}; those
//          in flight finish their attempt and, if it defers, are cancelled
//          when they come back (the mark is durable: after a restart, too).
//
// 404 not_found once every recipient is final (their outcomes are in
// GET /v1/events) or for an unknown id; 409 conflict for a campaign's id
// (its routes are /v1/campaigns/{id}/...). DELETE takes no body.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

HttpHandler MessageViewV1(std::shared_ptr<const SubmissionContext> context);
HttpHandler MessageCancelV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
