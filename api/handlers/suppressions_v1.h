// PUT / GET / DELETE /v1/suppressions/{address}: the addresses mail is
// never sent to.
//
//   PUT    body {"reason": "..."} (optional)  -> 201 when new, 200 when it
//          replaced an entry; {"address", "reason", "source": "api", "created"}
//   GET    -> 200 the entry, 404 when the address is not suppressed
//   DELETE -> 200 {"address", "deleted": true}, 404 when not suppressed
//
// Addresses are normalised (lower-cased) as the spool compares them. Each
// change is durable before it is answered.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

HttpHandler PutSuppressionV1(std::shared_ptr<const SubmissionContext> context);
HttpHandler GetSuppressionV1(std::shared_ptr<const SubmissionContext> context);
HttpHandler DeleteSuppressionV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
