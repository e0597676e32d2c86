// DestinationSettings: everything that shapes delivery to one destination,
// resolved once per (domain, primary MX host) from the config: the matching
// [[delivery.destination]] rule over the [delivery] defaults, the retry
// schedule and maximum age, and the rule's identity.
//
// Limits apply per (site, rule): domains that share MX hosts and fall under
// the same rule share one connection cap and one message rate; a domain with
// a rule of its own keeps its own limits even on a shared site. A rule with
// match = "mx" therefore caps a whole provider, whatever domains it hosts.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/config/config.h"
#include "engine/delivery/delivery_options.h"
#include "queue/retry_policy.h"

namespace salvo::delivery {

struct DestinationSettings {
  DeliveryPolicy policy;
  std::string rule;  // "" for the [delivery] defaults, else "domain:<pattern>" / "mx:<pattern>"
  queue::RetryPolicy retry;
};

std::shared_ptr<const DestinationSettings> SettingsFor(const Config& config,
                                                       const DeliveryTuning& tuning,
                                                       std::string_view domain,
                                                       std::string_view mx_host);

// The policy of the rule named `rule` (as in DestinationSettings::rule) in
// `config`, or nullptr when the config no longer has that rule.
const DeliveryPolicy* PolicyForRule(const Config& config, std::string_view rule);

}  // namespace salvo::delivery
