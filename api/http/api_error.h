// API errors: every failed request is answered with one JSON shape,
//
//   {"error": {"code": "unknown_field", "message": "unknown field \"colour\"",
//              "details": [{"field": "colour", "code": "unknown_field", ...}]}}
//
// and the HTTP status that fits. `code` is stable (clients switch on it);
// `message` is for people; `details` lists every problem found (possibly
// empty).
//
// Handlers return absl::Status errors. ApiError() makes one that carries the
// exact HTTP status, code and details (as Status payloads); a plain Status is
// mapped by its canonical code (InvalidArgument -> 400 "invalid_argument",
// NotFound -> 404, ...). Internal errors are logged and answered with a
// generic message, so no internal detail leaks to clients.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "api/http/http_response.h"
#include "nlohmann/json.hpp"

namespace salvo {

absl::Status ApiError(int http_status, std::string_view code, std::string_view message,
                      nlohmann::json details = nlohmann::json::array());

// 400 "invalid_field" naming one field (a query parameter, a JSON member).
absl::Status InvalidFieldError(std::string_view field, std::string_view message);

// The HTTP status, code and details a Status answers with.
int HttpStatusFor(const absl::Status& status);
std::string ApiErrorCode(const absl::Status& status);
nlohmann::json ApiErrorDetails(const absl::Status& status);

// The JSON error response for `status` (which must not be OK).
HttpResponse ErrorResponse(const absl::Status& status);
HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message);

// A JSON response ("application/json", compact, UTF-8); the ordered variant
// keeps keys in insertion order (json sorts them).
HttpResponse JsonResponse(int http_status, const nlohmann::json& body);
HttpResponse OrderedJsonResponse(int http_status, const nlohmann::ordered_json& body);

}  // namespace salvo
