#include "api/handlers/campaign_events_v1.h"

#include "api/handlers/events_v1.h"
#include "api/http/api_error.h"
#include "engine/base/status_macros.h"

namespace salvo::api {
namespace {

Task<absl::StatusOr<HttpResponse>> HandleEvents(std::shared_ptr<const SubmissionContext> context,
                                                HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(queue::CampaignId id, ContentIdParam(request));
  CO_ASSIGN_OR_RETURN(EventPageQuery query, ReadEventPageQuery(request));
  absl::StatusOr<std::vector<queue::DeliveryEvent>> events =
      co_await context->spool->ReadCampaignEvents(id, query.after, query.limit);
  if (!events.ok()) co_return SpoolFailure(events.status());
  co_return OrderedJsonResponse(200, EventPageJson(*events, query.after));
}

}  // namespace

HttpHandler CampaignEventsV1(std::shared_ptr<const SubmissionContext> context) {
  return [context](HttpRequest& request) { return HandleEvents(context, request); };
}

}  // namespace salvo::api
