#include "api/handlers/metrics_v1.h"

namespace salvo::api {
namespace {

Task<absl::StatusOr<HttpResponse>> HandleMetrics(MetricsRegistry* registry, HttpRequest&) {
  HttpResponse r = HttpResponse::Text(200, registry->RenderPrometheus(),
                                      "text/plain; version=0.0.4; charset=utf-8");
  r.headers.Add("Cache-Control", "no-store");
  co_return r;
}

}  // namespace

HttpHandler MetricsV1(MetricsRegistry* registry) {
  return [registry](HttpRequest& request) { return HandleMetrics(registry, request); };
}

}  // namespace salvo::api
