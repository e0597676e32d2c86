// One-click unsubscribe (RFC 8058), the target of the List-Unsubscribe links
// that campaign messages carry (engine/render/unsubscribe.h):
//
//   POST /v1/unsubscribe/{token}   body "List-Unsubscribe=One-Click"
//        -> 200 {"unsubscribed": true, "address": ...}; the address is on the
//           suppression list (source "unsubscribe", reason naming the
//           campaign) before the answer, so no later campaign mails it, and
//           the campaign has an "unsubscribed" event and count
//           (Spool::RecordCampaignFeedback; a repeated POST counts once).
//   GET  /v1/unsubscribe/{token}
//        -> 200 a small HTML page whose button POSTs the same request
//           (a person following the link; mailbox providers POST directly).
//
// No API key: mailbox providers call it. A token that is malformed answers
// 400, one whose signature does not match 404 (nothing is revealed either
// way); bodies are capped at kUnsubscribeBodyLimit and requests at
// kUnsubscribeRate per second per daemon (429 beyond). Each one is also
// logged (spdlog, "unsubscribe"); a failure to record the campaign event is
// logged and does not fail the request.
#pragma once

#include <memory>
#include <string>

#include "api/http/router.h"
#include "queue/spool.h"

namespace salvo::api {

inline constexpr uint64_t kUnsubscribeBodyLimit = 4096;
inline constexpr int kUnsubscribeRate = 200;  // requests per second, burst the same

struct UnsubscribeContext;

// `verp_secret`: the daemon's VERP secret, from which the token key derives.
std::shared_ptr<UnsubscribeContext> MakeUnsubscribeContext(queue::Spool* spool,
                                                           std::string verp_secret);
HttpHandler UnsubscribePageV1(std::shared_ptr<UnsubscribeContext> context);
HttpHandler UnsubscribeV1(std::shared_ptr<UnsubscribeContext> context);

// Registers both routes (defined in api_routes.cc).
absl::Status AddUnsubscribeRoutes(HttpRouter& router, queue::Spool* spool, std::string verp_secret);

}  // namespace salvo::api
