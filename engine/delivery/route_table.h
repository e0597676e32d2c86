// Where mail for a domain goes: its next hops. A [[route]] whose domain
// pattern matches sends the domain to a fixed host:port (tests and benches
// point domains at sinks on loopback this way); otherwise the MX hosts from
// DNS, on the port [dns] mx_port names (25 unless a test changes it).
//
// The site of routed mail is "route:<host>:<port>", so every domain routed to
// one next hop shares its connections and limits, like domains sharing MX
// hosts do.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dns/mx_set.h"
#include "dns/resolver.h"
#include "engine/base/deadline.h"
#include "engine/config/config.h"
#include "engine/loop/task.h"

namespace salvo::delivery {

struct NextHops {
  std::string domain;
  std::vector<dns::MxHost> hosts;  // in the order to try; each has addresses
  uint16_t port = 25;
  std::string site;  // what shares limits: the MX host set or the route
  uint64_t site_id = 0;
  Deadline expires{};
  bool routed = false;
  // The host whose name [[delivery.destination]] rules with match = "mx"
  // look at: the most preferred one.
  std::string_view primary_host() const {
    return hosts.empty() ? std::string_view() : std::string_view(hosts.front().name);
  }
};

// Resolves the next hops of `domain` under `config`. Failures follow
// dns/outcome.h (IsPermanentDnsFailure()).
Task<absl::StatusOr<std::shared_ptr<const NextHops>>> ResolveNextHops(dns::Resolver& resolver,
                                                                      const Config& config,
                                                                      std::string domain);

}  // namespace salvo::delivery
