#include "api/handlers/suppressions_v1.h"

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "fmt/format.h"

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

Task<absl::StatusOr<HttpResponse>> HandleList(std::shared_ptr<const SubmissionContext> context,
                                              HttpRequest& request) {
  std::string after = request.QueryParam("after").value_or("");
  int limit = 100;
  if (std::optional<std::string> text = request.QueryParam("limit")) {
    if (!absl::SimpleAtoi(*text, &limit) || limit < 1 || limit > 1000) {
      co_return InvalidFieldError("limit", "limit must be 1..1000");
    }
  }
  absl::StatusOr<std::vector<queue::SuppressionEntry>> list =
      co_await context->spool->ListSuppressions(after, static_cast<size_t>(limit));
  if (!list.ok()) co_return SpoolFailure(list.status());
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const queue::SuppressionEntry& e : *list) entries.push_back(EntryJson(e));
  nlohmann::ordered_json answer;
  answer["suppressions"] = std::move(entries);
  if (!list->empty()) {
    answer["next"] = list->back().address;
  } else {
    answer["next"] = after.empty() ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(queue::NormalizeAddress(after));
  }
  co_return OrderedJsonResponse(200, answer);
}

// Every item of the array, or the problems of all of them.
absl::StatusOr<std::vector<queue::SuppressionEntry>> ParseEntries(const nlohmann::json& json) {
  if (!json.is_array() || json.empty() || json.size() > kMaxSuppressionsPerRequest) {
    return ApiError(400, "invalid_request",
                    fmt::format("the body must be a JSON array of 1 to {} "
                                "{{\"address\", \"reason\"}} objects",
                                kMaxSuppressionsPerRequest));
  }
  JsonChecker check;
  std::vector<queue::SuppressionEntry> out;
  absl::Time now = absl::Now();
  for (size_t i = 0; i < json.size(); ++i) {
    std::string path = fmt::format("[{}]", i);
    JsonObjectReader item(json[i], path, &check);
    std::optional<std::string> address = item.String("address", kRequired, 1024);
    std::optional<std::string> reason = item.String("reason", kOptional, 500);
    item.Finish();
    if (!address) continue;
    if (absl::Status s = CheckAddress(*address); !s.ok()) {
      check.Add(path + ".address", "invalid_address", std::string(ToStd(s.message())));
      continue;
    }
    out.push_back({.address = queue::NormalizeAddress(*address),
                   .reason = reason.value_or(""),
                   .source = "api",
                   .created = now});
  }
  RETURN_IF_ERROR(check.ToStatus());
  return out;
}

Task<absl::StatusOr<HttpResponse>> HandlePost(std::shared_ptr<const SubmissionContext> context,
                                              HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(nlohmann::json json, co_await ReadJsonBody(request));
  CO_ASSIGN_OR_RETURN(std::vector<queue::SuppressionEntry> entries, ParseEntries(json));
  size_t n = entries.size();
  absl::Status s = co_await context->spool->AddSuppressions(std::move(entries));
  if (!s.ok()) co_return SpoolFailure(s);
  co_return JsonResponse(201, {{"added", n}});
}

}  // namespace

HttpHandler ListSuppressionsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleList(context, request); };
}
HttpHandler PostSuppressionsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandlePost(context, request); };
}

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
