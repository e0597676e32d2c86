#include "api/handlers/queue_v1.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

nlohmann::ordered_json DestinationJson(const queue::DestinationSummary& d) {
  nlohmann::ordered_json j;
  j["domain"] = d.domain;
  j["recipients"] = d.recipients;
  j["queued"] = d.queued;
  j["deferred"] = d.deferred;
  j["in_flight"] = d.in_flight;
  j["paused"] = d.paused;
  j["oldest_accepted"] = Rfc3339(d.oldest_accepted);
  j["next_attempt"] = nullptr;
  if (d.next_attempt != absl::InfiniteFuture()) j["next_attempt"] = Rfc3339(d.next_attempt);
  j["max_attempts"] = d.max_attempts;
  return j;
}

Task<absl::StatusOr<HttpResponse>> HandleSummary(std::shared_ptr<const SubmissionContext> context,
                                                 HttpRequest& request) {
  int limit = 100;
  if (std::optional<std::string> text = request.QueryParam("limit")) {
    if (!absl::SimpleAtoi(*text, &limit) || limit < 1 || limit > kMaxQueueDestinations) {
      co_return InvalidFieldError("limit", "limit must be 1..1000");
    }
  }
  absl::StatusOr<queue::QueueSummary> summary =
      co_await context->spool->SummarizeQueue(static_cast<size_t>(limit));
  if (!summary.ok()) co_return SpoolFailure(summary.status());
  nlohmann::ordered_json j;
  j["recipients"] = summary->recipients;
  j["queued"] = summary->queued;
  j["deferred"] = summary->deferred;
  j["in_flight"] = summary->in_flight;
  j["paused"] = summary->paused;
  j["domains"] = summary->domains;
  j["destinations"] = nlohmann::ordered_json::array();
  for (const queue::DestinationSummary& d : summary->destinations) {
    j["destinations"].push_back(DestinationJson(d));
  }
  co_return OrderedJsonResponse(200, j);
}

// A recipient domain as the path gives it: 1..255 visible characters, no '/'.
bool IsDomainParam(std::string_view domain) {
  if (domain.empty() || domain.size() > 255) return false;
  for (unsigned char c : domain) {
    if (c <= 0x20 || c == 0x7f || c == '/') return false;
  }
  return true;
}

Task<absl::StatusOr<HttpResponse>> HandleFlush(std::shared_ptr<const SubmissionContext> context,
                                               bool by_domain, HttpRequest& request) {
  std::string domain;
  if (by_domain) {
    std::optional<std::string_view> param = request.Param("domain");
    if (!param || !IsDomainParam(*param)) {
      co_return InvalidFieldError("domain", "domain must be 1..255 visible characters");
    }
    domain = std::string(*param);
  }
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  if (!body.empty()) co_return ApiError(400, "invalid_request", "this route takes no body");
  absl::StatusOr<size_t> moved = co_await context->spool->RetryNow(domain);
  if (!moved.ok()) co_return SpoolFailure(moved.status());
  if (*moved > 0 && context->flushed) context->flushed();
  nlohmann::ordered_json j;
  if (by_domain) j["domain"] = absl::AsciiStrToLower(domain);
  j["rescheduled"] = *moved;
  co_return OrderedJsonResponse(200, j);
}

}  // namespace

HttpHandler QueueSummaryV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleSummary(context, request); };
}

HttpHandler QueueFlushV1(std::shared_ptr<const SubmissionContext> context, bool by_domain) {
  return [context, by_domain](HttpRequest& request) {
    return HandleFlush(context, by_domain, request);
  };
}

}  // namespace salvo::api
