// POST /v1/campaigns/{id}/pause, /resume and /cancel (no body).
//
//   pause   its recipients stay queued but are not handed to the delivery
//           engine until resume; those being delivered finish their attempt.
//           Durable before the answer (survives a restart).
//   resume  they are due again at their own times.
//   cancel  durable at once; then every recipient not yet final is finalised
//           (a "failed" event with reason "cancelled"), in batches of 4096,
//           before the answer. A recipient being delivered at that moment
//           finishes its attempt; if it is deferred it is cancelled when it
//           comes back.
//
//   200 the campaign as GET /v1/campaigns/{id} shows it afterwards.
//   Idempotent: pausing a paused, resuming a running, cancelling a cancelled
//   campaign is 200. 409 conflict for pause/resume of a cancelled campaign
//   and pause/cancel of a completed one; 404 for an unknown id.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"
#include "queue/campaign_info.h"

namespace salvo::api {

HttpHandler CampaignControlV1(std::shared_ptr<const SubmissionContext> context,
                              queue::CampaignControl control);

}  // namespace salvo::api
