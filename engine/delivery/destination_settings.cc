#include "engine/delivery/destination_settings.h"

#include "fmt/format.h"

namespace salvo::delivery {
namespace {

std::string RuleName(const DestinationRule& r) {
  return fmt::format("{}:{}", r.match == MatchOn::kMxHost ? "mx" : "domain", r.pattern.text());
}

absl::Duration ToAbsl(Duration d) { return absl::FromChrono(d); }

queue::RetryPolicy RetryFor(const Config& config, const DeliveryTuning& tuning,
                            std::string_view domain, std::string_view mx_host) {
  queue::RetryPolicy retry;
  retry.intervals.clear();
  for (Duration d : config.queue.retry_schedule) retry.intervals.push_back(ToAbsl(d));
  retry.jitter = config.queue.retry_jitter;
  retry.max_age = ToAbsl(config.queue.max_age);
  for (const RetryRule& r : tuning.retry_rules) {
    std::string_view name = r.match == MatchOn::kMxHost ? mx_host : domain;
    if (name.empty() || !r.pattern.Matches(name)) continue;
    if (!r.schedule.empty()) {
      retry.intervals.clear();
      for (Duration d : r.schedule) retry.intervals.push_back(ToAbsl(d));
    }
    if (r.max_age) retry.max_age = ToAbsl(*r.max_age);
    break;
  }
  if (retry.intervals.empty()) retry.intervals.push_back(absl::Minutes(5));
  return retry;
}

}  // namespace

std::shared_ptr<const DestinationSettings> SettingsFor(const Config& config,
                                                       const DeliveryTuning& tuning,
                                                       std::string_view domain,
                                                       std::string_view mx_host) {
  auto s = std::make_shared<DestinationSettings>();
  const DeliveryPolicy& policy = config.delivery.PolicyFor(domain, mx_host);
  s->policy = policy;
  for (const DestinationRule& r : config.delivery.destinations) {
    if (&r.policy == &policy) {
      s->rule = RuleName(r);
      break;
    }
  }
  s->retry = RetryFor(config, tuning, domain, mx_host);
  return s;
}

const DeliveryPolicy* PolicyForRule(const Config& config, std::string_view rule) {
  if (rule.empty()) return &config.delivery.defaults;
  for (const DestinationRule& r : config.delivery.destinations) {
    if (RuleName(r) == rule) return &r.policy;
  }
  return nullptr;
}

}  // namespace salvo::delivery
