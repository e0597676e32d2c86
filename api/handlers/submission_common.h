// Shared pieces of the submission routes (messages, campaigns, CSV
// recipients, suppressions, events): the context they share, address and
// header validation with reasons fit for a 400's details, and the mapping of
// spool errors to HTTP answers.
//
// Every check here is pure (no I/O); the handlers validate a whole request
// with them before their first spool write.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "api/http/json_body.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/render/campaign_template.h"
#include "nlohmann/json.hpp"
#include "queue/records.h"
#include "queue/spool.h"

namespace salvo::api {

struct SubmissionContext {
  queue::Spool* spool = nullptr;
  // Called on the ring thread after each durable accept (the delivery
  // engine's Kick); may be empty.
  std::function<void()> accepted;
  // Where CSV uploads are staged (anonymous O_TMPFILE files).
  std::string staging_dir;
  // The daemon's DKIM keys and bulk-sender rules ([dkim] campaign_checks);
  // null: no checks.
  std::shared_ptr<dkim::DkimKeyring> keyring;
  // Called on the ring thread after a queue flush rescheduled recipients
  // (the delivery engine's RetryNow); may be empty.
  std::function<void()> flushed;
};

// Bounds of one request.
inline constexpr size_t kMaxAddressBytes = 254;
inline constexpr size_t kMaxMessageRecipients = 1000;
inline constexpr size_t kMaxHeaders = 50;
inline constexpr size_t kMaxHeaderValueBytes = 998;
inline constexpr size_t kMaxAttachments = 20;
inline constexpr size_t kMaxVariables = 100;
inline constexpr size_t kMaxVariableBytes = 4096;
inline constexpr size_t kRecipientBatch = 10'000;  // per AddCampaignRecipients

// OK for a deliverable forward-path ("user@example.com"), else
// InvalidArgument saying why.
absl::Status CheckAddress(std::string_view address);

// The address inside "Display Name <addr@domain>", or the whole text;
// InvalidArgument when it is no valid address.
absl::StatusOr<std::string> EnvelopeAddressOf(std::string_view from);

// A variable name: 1..64 of [A-Za-z0-9_.-].
bool IsVariableName(std::string_view name);

// "headers": {"X-Name": "value", ...}. Names are RFC 5322 field names, values
// carry no CR/LF/NUL; headers the API sets itself (From, To, Subject, Date,
// Message-ID, MIME-Version, Content-*) and Bcc are refused.
std::vector<std::pair<std::string, std::string>> ReadHeaders(JsonObjectReader& object);

// "attachments": [{"filename", "content_type", "content" (base64)}].
std::vector<render::Attachment> ReadAttachments(JsonObjectReader& object);

// "vars": {"name": "text" | number | boolean | null} as recipient variables.
queue::Variables ReadVariables(const nlohmann::json& vars, const std::string& path,
                               JsonChecker* checker);

// A spool error as the HTTP answer: ResourceExhausted -> 507, Unavailable ->
// 503, NotFound -> 404, FailedPrecondition -> 409, InvalidArgument -> 400.
absl::Status SpoolFailure(const absl::Status& status, nlohmann::json details = nullptr);

// The `id` path parameter as a content id; 404 "no <what> has this id" when
// it is no id.
absl::StatusOr<queue::ContentId> ContentIdParam(const HttpRequest& request,
                                                std::string_view what = "campaign");

// True when the request's Content-Type is `media` (parameters ignored).
bool HasMediaType(const HttpRequest& request, std::string_view media);

// RFC 3339 UTC with milliseconds: "2026-11-22T23:14:06.123Z".
std::string Rfc3339(absl::Time t);

}  // namespace salvo::api
