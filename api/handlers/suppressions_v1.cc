#include "api/handlers/suppressions_v1.h"

#include "absl/time/clock.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"

namespace salvo::api {
namespace {

nlohmann::ordered_json EntryJson(const queue::SuppressionEntry& e) {
  nlohmann::ordered_json j;
  j["address"] = e.address;
  j["reason"] = e.reason;
  j["source"] = e.source;
  j["created"] = Rfc3339(e.created);
  return j;
}

absl::StatusOr<std::string> AddressParam(const HttpRequest& request) {
  std::string address(request.Param("address").value_or(""));
  if (absl::Status s = CheckAddress(address); !s.ok()) {
    return ApiError(400, "invalid_address", ToStd(s.message()),
                    nlohmann::json::array({{{"field", "address"}, {"code", "invalid_address"}}}));
  }
  return queue::NormalizeAddress(address);
}

Task<absl::StatusOr<std::string>> ReadReason(HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  if (body.empty()) co_return std::string();
  if (request.Header("Content-Type") && !HasMediaType(request, "application/json")) {
    co_return ApiError(415, "unsupported_media_type", "the body must be application/json");
  }
  CO_ASSIGN_OR_RETURN(nlohmann::json json, ParseJson(body));
  JsonChecker check;
  JsonObjectReader object(json, "", &check);
  std::optional<std::string> reason = object.String("reason", kOptional, 500);
  object.Finish();
  CO_RETURN_IF_ERROR(check.ToStatus());
  co_return reason.value_or("");
}

Task<absl::StatusOr<HttpResponse>> HandlePut(std::shared_ptr<const SubmissionContext> context,
                                             HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(std::string address, AddressParam(request));
  CO_ASSIGN_OR_RETURN(std::string reason, co_await ReadReason(request));
  queue::Spool* spool = context->spool;
  absl::StatusOr<std::optional<queue::SuppressionEntry>> old =
      co_await spool->FindSuppression(address);
  if (!old.ok()) co_return SpoolFailure(old.status());
  queue::SuppressionEntry entry{
      .address = address, .reason = std::move(reason), .source = "api", .created = absl::Now()};
  queue::SuppressionEntry copy = entry;
  absl::Status s = co_await spool->AddSuppression(std::move(copy));
  if (!s.ok()) co_return SpoolFailure(s);
  co_return OrderedJsonResponse(old->has_value() ? 200 : 201, EntryJson(entry));
}

Task<absl::StatusOr<HttpResponse>> HandleGet(std::shared_ptr<const SubmissionContext> context,
                                             HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(std::string address, AddressParam(request));
  absl::StatusOr<std::optional<queue::SuppressionEntry>> entry =
      co_await context->spool->FindSuppression(address);
  if (!entry.ok()) co_return SpoolFailure(entry.status());
  if (!entry->has_value()) co_return ApiError(404, "not_found", "the address is not suppressed");
  co_return OrderedJsonResponse(200, EntryJson(**entry));
}

Task<absl::StatusOr<HttpResponse>> HandleDelete(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(std::string address, AddressParam(request));
  queue::Spool* spool = context->spool;
  absl::StatusOr<std::optional<queue::SuppressionEntry>> entry =
      co_await spool->FindSuppression(address);
  if (!entry.ok()) co_return SpoolFailure(entry.status());
  if (!entry->has_value()) co_return ApiError(404, "not_found", "the address is not suppressed");
  absl::Status s = co_await spool->RemoveSuppression(address);
  if (!s.ok()) co_return SpoolFailure(s);
  co_return JsonResponse(200, {{"address", address}, {"deleted", true}});
}

}  // namespace

HttpHandler PutSuppressionV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandlePut(context, request); };
}
HttpHandler GetSuppressionV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleGet(context, request); };
}
HttpHandler DeleteSuppressionV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleDelete(context, request); };
}

}  // namespace salvo::api
