#include "api/handlers/campaign_control_v1.h"

#include "api/handlers/campaign_status_v1.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

Task<absl::StatusOr<HttpResponse>> HandleControl(std::shared_ptr<const SubmissionContext> context,
                                                 queue::CampaignControl control,
                                                 HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  CO_ASSIGN_OR_RETURN(std::string body, co_await request.ReadBody());
  if (!body.empty()) co_return ApiError(400, "invalid_request", "this route takes no body");
  absl::StatusOr<queue::CampaignInfo> info = co_await context->spool->ControlCampaign(id, control);
  if (!info.ok()) co_return SpoolFailure(info.status());
  if (control == queue::CampaignControl::kResume && context->accepted) context->accepted();
  co_return OrderedJsonResponse(200, CampaignJson(*info));
}

}  // namespace

HttpHandler CampaignControlV1(std::shared_ptr<const SubmissionContext> context,
                              queue::CampaignControl control) {
  return
      [context, control](HttpRequest& request) { return HandleControl(context, control, request); };
}

}  // namespace salvo::api
