// GET /v1/campaigns/{id}/events?after=<event id>&limit=N: the delivery events
// of one campaign, oldest first, read from the spool's per-campaign index (a
// page costs `limit` reads however many other events there are).
//
//   200 {"events": [...as GET /v1/events...], "next": "<last id>" | null}
//
// `limit` 1..1000 (default 100); 404 for an id that is no campaign.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

HttpHandler CampaignEventsV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
