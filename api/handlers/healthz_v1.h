// GET /healthz: liveness for load balancers and operators.
//
//   200 {"status":"ok","version":"0.1.0","uptime_seconds":12.5}
//
// Answers from memory only (no queue or disk access), so it stays cheap
// however often it is polled.
#pragma once

#include <string>

#include "api/http/router.h"
#include "engine/base/deadline.h"

namespace salvo::api {

struct HealthInfo {
  std::string version;
  Clock::time_point started = Clock::now();
};

HttpHandler HealthzV1(HealthInfo info);

}  // namespace salvo::api
