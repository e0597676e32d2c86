// POST /v1/messages: one message to one or more recipients.
//
//   {"from": "Shop <news@shop.example>", "to": ["a@x.example", ...],
//    "subject": "...", "text": "...", "html": "...",
//    "headers": {"X-Tag": "..."}, "attachments": [{"filename", "content_type",
//    "content": "<base64>"}]}
//   or {"from": "...", "to": [...], "raw": "<RFC 5322 message>"}
//
// The whole request is validated first (every problem listed in one 400);
// the message and all its recipients are then one atomic spool write, and
// 202 {"id", "recipients": [ids]} is sent only once it is durable.
#pragma once

#include <memory>

#include "api/handlers/submission_common.h"
#include "api/http/router.h"

namespace salvo::api {

inline constexpr uint64_t kMessageBodyLimit = uint64_t{40} << 20;

HttpHandler MessagesV1(std::shared_ptr<const SubmissionContext> context);

}  // namespace salvo::api
