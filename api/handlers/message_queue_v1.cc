#include "api/handlers/message_queue_v1.h"

#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

nlohmann::ordered_json PendingJson(const queue::PendingRecipient& p) {
  nlohmann::ordered_json j;
  j["id"] = p.id.ToString();
  j["domain"] = p.domain;
  j["state"] = p.in_flight ? "in_flight" : "queued";
  j["attempts"] = p.attempts;
  j["next_attempt"] = nullptr;
  if (!p.in_flight) j["next_attempt"] = Rfc3339(p.next_attempt);
  return j;
}

Task<absl::StatusOr<HttpResponse>> HandleView(std::shared_ptr<const SubmissionContext> context,
                                              HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::MessageId id, ContentIdParam(request, "message"));
  absl::StatusOr<queue::MessageView> view = co_await context->spool->ViewMessage(id);
  if (!view.ok()) co_return SpoolFailure(view.status());
  nlohmann::ordered_json j;
  j["id"] = view->id.ToString();
  j["accepted"] = Rfc3339(view->accepted);
  j["recipients"] = view->recipients;
  j["queued"] = view->queued;
  j["deferred"] = view->deferred;
  j["in_flight"] = view->in_flight;
  j["cancelled"] = view->cancelled;
  j["pending"] = nlohmann::ordered_json::array();
  for (const queue::PendingRecipient& p : view->pending) j["pending"].push_back(PendingJson(p));
  j["more"] = view->pending.size() < view->recipients;
  co_return OrderedJsonResponse(200, j);
}

Task<absl::StatusOr<HttpResponse>> HandleCancel(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::MessageId id, ContentIdParam(request, "message"));
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  if (!body.empty()) co_return ApiError(400, "invalid_request", "this route takes no body");
  absl::StatusOr<queue::MessageCancel> done = co_await context->spool->CancelMessage(id);
  if (!done.ok()) co_return SpoolFailure(done.status());
  nlohmann::ordered_json j;
  j["id"] = done->id.ToString();
  j["cancelled"] = done->cancelled;
  j["in_flight"] = done->in_flight;
  co_return OrderedJsonResponse(200, j);
}

}  // namespace

HttpHandler MessageViewV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleView(context, request); };
}

HttpHandler MessageCancelV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleCancel(context, request); };
}

}  // namespace salvo::api
