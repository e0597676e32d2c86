// GET /v1/campaigns/{id}: a campaign's status, settings and counts, answered
// from the spool's memory (no disk read), so it is cheap to poll.
//
//   200 {"id", "name", "status": "open"|"closed"|"running"|"paused"|
//        "cancelled"|"completed", "created", "closed", "paused", "cancelled",
//        "settings": {"from", "max_age", "envid", "ret", "tags"},
//        "counts": {"recipients", "queued", "deferred", "delivered", "failed",
//                   "expired", "suppressed", "cancelled", "bounced",
//                   "complained", "deferrals"}}
//   404 not_found for an id that is no campaign.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"
#include "queue/campaign_info.h"

namespace salvo::api {

// The JSON above (also the answer of pause/resume/cancel).
nlohmann::ordered_json CampaignJson(const queue::CampaignInfo& info);
// The counts object of CampaignJson.
nlohmann::ordered_json CountsJson(const queue::CampaignCounters& c);

HttpHandler CampaignStatusV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
