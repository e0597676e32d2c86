#include "api/http/api_error.h"

#include <charconv>

#include "absl/strings/cord.h"
#include "engine/base/strings.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

constexpr char kStatusUrl[] = "type.salvo.dev/api.http_status";
constexpr char kCodeUrl[] = "type.salvo.dev/api.code";
constexpr char kDetailsUrl[] = "type.salvo.dev/api.details";

absl::StatusCode CanonicalFor(int http_status) {
  switch (http_status) {
    case 400:
    case 411:
    case 415:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return absl::StatusCode::kNotFound;
    case 405:
    case 409:
    case 417:
      return absl::StatusCode::kFailedPrecondition;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 413:
    case 429:
    case 431:
      return absl::StatusCode::kResourceExhausted;
    case 501:
    case 505:
      return absl::StatusCode::kUnimplemented;
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      return http_status < 500 ? absl::StatusCode::kInvalidArgument : absl::StatusCode::kInternal;
  }
}

bool IsInternal(absl::StatusCode code) {
  return code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown ||
         code == absl::StatusCode::kDataLoss;
}

}  // namespace

absl::Status ApiError(int http_status, std::string_view code, std::string_view message,
                      nlohmann::json details) {
  absl::Status s(CanonicalFor(http_status), ToAbsl(message));
  s.SetPayload(kStatusUrl, absl::Cord(std::to_string(http_status)));
  s.SetPayload(kCodeUrl, absl::Cord(ToAbsl(code)));
  if (!details.is_array()) details = nlohmann::json::array({details});
  if (!details.empty()) s.SetPayload(kDetailsUrl, absl::Cord(details.dump()));
  return s;
}

absl::Status InvalidFieldError(std::string_view field, std::string_view message) {
  return ApiError(400, "invalid_field", message,
                  nlohmann::json::array({{{"field", field}, {"code", "invalid_field"}}}));
}

int HttpStatusFor(const absl::Status& status) {
  if (auto p = status.GetPayload(kStatusUrl)) {
    std::string text(*p);
    int code = 500;
    std::from_chars(text.data(), text.data() + text.size(), code);
    return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

std::string ApiErrorCode(const absl::Status& status) {
  if (auto p = status.GetPayload(kCodeUrl)) return std::string(*p);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return "invalid_argument";
    case absl::StatusCode::kOutOfRange:
      return "out_of_range";
    case absl::StatusCode::kUnauthenticated:
      return "unauthorized";
    case absl::StatusCode::kPermissionDenied:
      return "forbidden";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kAlreadyExists:
      return "already_exists";
    case absl::StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case absl::StatusCode::kUnimplemented:
      return "not_implemented";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kCancelled:
      return "unavailable";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    default:
      return "internal";
  }
}

nlohmann::json ApiErrorDetails(const absl::Status& status) {
  if (auto p = status.GetPayload(kDetailsUrl)) {
    nlohmann::json d = nlohmann::json::parse(std::string(*p), nullptr, false);
    if (d.is_array()) return d;
  }
  return nlohmann::json::array();
}

HttpResponse ErrorResponse(const absl::Status& status) {
  bool tagged = status.GetPayload(kCodeUrl).has_value();
  std::string message(ToStd(status.message()));
  if (!tagged && IsInternal(status.code())) {
    spdlog::error("api: internal error: {}", status.ToString());
    message = "internal error";
  }
  // Keys in the documented order: code, message, details.
  nlohmann::ordered_json error;
  error["code"] = ApiErrorCode(status);
  error["message"] = message;
  error["details"] = nlohmann::ordered_json::array();
  if (auto p = status.GetPayload(kDetailsUrl)) {
    nlohmann::ordered_json d = nlohmann::ordered_json::parse(std::string(*p), nullptr, false);
    if (d.is_array()) error["details"] = std::move(d);
  }
  nlohmann::ordered_json body;
  body["error"] = std::move(error);
  int http_status = HttpStatusFor(status);
  HttpResponse response = OrderedJsonResponse(http_status, body);
  // Overload passes: RFC 9110 15.6.4 tells the client when to try again.
  if (http_status == 503) response.headers.Add("Retry-After", "1");
  return response;
}

HttpResponse ErrorResponse(int http_status, std::string_view code, std::string_view message) {
  return ErrorResponse(ApiError(http_status, code, message));
}

HttpResponse OrderedJsonResponse(int http_status, const nlohmann::ordered_json& body) {
  return HttpResponse::Text(http_status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                            "application/json");
}

HttpResponse JsonResponse(int http_status, const nlohmann::json& body) {
  // Invalid UTF-8 in a string is replaced rather than thrown on.
  return HttpResponse::Text(http_status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                            "application/json");
}

}  // namespace salvo
