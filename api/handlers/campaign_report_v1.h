// GET /v1/campaigns/{id}/report[?format=csv]: a campaign's delivery report,
// computed by streaming its events through bounded memory (a fixed
// histogram, domain and reply tables capped with an "other" bucket; see
// queue/campaign_report.h).
//
// JSON (default):
//   {"campaign", "status", "counts": {...as GET /v1/campaigns/{id}...},
//    "events": n,
//    "outcomes": {"delivered", "deferred", "failed", "expired", "suppressed",
//                 "cancelled"},                       (event counts)
//    "domains": [{"domain", "delivered", ..., "total"}],  largest first, <= 50 + "other"
//    "replies": [{"reply": "250 2.0.0", "count"}],        largest first, <= 50 + "other"
//    "delivery_seconds": {"count", "p50", "p90", "p99"}}  accept -> delivered
//
// CSV (?format=csv, text/csv): one row per figure, "section,key,outcome,value":
//   outcome,,delivered,3 / domain,example.com,failed,1 / reply,250 2.0.0,,3 /
//   delivery_seconds,p50,,1.25
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

HttpHandler CampaignReportV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
