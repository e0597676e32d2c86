// POST /v1/campaigns and POST /v1/campaigns/{id}/close.
//
//   {"name": "...", "from": "Shop <news@shop.example>", "subject": "Hi {{name}}",
//    "text": "...", "html": "...", "headers": {...}, "attachments": [...],
//    "settings": {"max_age": seconds, "envid": "...", "ret": "full"|"headers",
//                 "tags": {"k": "v"}},
//    "recipients": [{"address": "a@x.example", "vars": {"name": "Ann"}}],
//    "open": false}
//
// Validate-then-write: the templates are compiled (a template that does not
// compile is 422 "invalid_template" naming the field), every recipient row is
// checked (400 listing row index and reason), and only then is anything
// written: CreateCampaign, the recipients in batches of kRecipientBatch, and
// CloseCampaign unless "open": true. A rejected request changes nothing. The
// whole body is in memory (route limit kCampaignBodyLimit), so very large
// lists go through the streamed CSV route instead.
//
// If the spool fails after the campaign was created (disk full between two
// batches), the answer is 507/503 with {"campaign", "recipients_added"} in
// its details, and the campaign stays open so the client can resume with
// POST /v1/campaigns/{id}/recipients or close it.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr uint64_t kCampaignBodyLimit = uint64_t{64} << 20;
inline constexpr size_t kMaxInlineRecipients = 100'000;

HttpHandler CreateCampaignV1(std::shared_ptr<const SubmissionContext> context);
HttpHandler CloseCampaignV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
