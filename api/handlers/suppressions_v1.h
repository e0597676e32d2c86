// PUT / GET / DELETE /v1/suppressions/{address}: the addresses mail is
// never sent to.
//
//   PUT    body {"reason": "..."} (optional)  -> 201 when new, 200 when it
//          replaced an entry; {"address", "reason", "source": "api", "created"}
//   GET    -> 200 the entry, 404 when the address is not suppressed
//   DELETE -> 200 {"address", "deleted": true}, 404 when not suppressed
//
// The list:
//   GET  /v1/suppressions?after=<address>&limit=N  -> 200 {"suppressions":
//        [entries in address order], "next": "<last address>" | null};
//        limit 1..1000 (default 100)
//   POST /v1/suppressions  body [{"address", "reason"?}, ...] (1..1000 items)
//        -> 201 {"added": n}. Every item is validated first (400 naming each
//        bad one as "[i].address"); then all are written in one atomic
//        write, or none.
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
HttpHandler ListSuppressionsV1(std::shared_ptr<const SubmissionContext> context);
HttpHandler PostSuppressionsV1(std::shared_ptr<const SubmissionContext> context);

inline constexpr size_t kMaxSuppressionsPerRequest = 1000;
inline constexpr uint64_t kSuppressionsBodyLimit = uint64_t{1} << 20;

}  // namespace salvo::api
