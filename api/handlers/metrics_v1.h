// GET /metrics: every metric of a registry in the Prometheus text exposition
// format 0.0.4 ("text/plain; version=0.0.4; charset=utf-8").
#pragma once

#include "api/http/router.h"
#include "engine/base/metrics.h"

namespace salvo::api {

HttpHandler MetricsV1(MetricsRegistry* registry);

}  // namespace salvo::api
