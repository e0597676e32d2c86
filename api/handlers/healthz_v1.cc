#include "api/handlers/healthz_v1.h"

#include <cmath>
#include <memory>

#include "api/http/api_error.h"

namespace salvo::api {
namespace {

Task<absl::StatusOr<HttpResponse>> HandleHealthz(std::shared_ptr<const HealthInfo> info,
                                                 HttpRequest&) {
  double uptime = std::chrono::duration<double>(Clock::now() - info->started).count();
  uptime = std::round(uptime * 1000) / 1000;  // milliseconds are plenty
  nlohmann::ordered_json body;
  body["status"] = "ok";
  body["version"] = info->version;
  body["uptime_seconds"] = uptime;
  HttpResponse r = OrderedJsonResponse(200, body);
  r.headers.Add("Cache-Control", "no-store");
  co_return r;
}

}  // namespace

HttpHandler HealthzV1(HealthInfo info) {
  auto shared = std::make_shared<const HealthInfo>(std::move(info));
  return [shared](HttpRequest& request) { return HandleHealthz(shared, request); };
}

}  // namespace salvo::api
