#include "dns/resolver.h"

#include "absl/status/status.h"
#include "dns/domain_name.h"
#include "engine/base/status_macros.h"
#include "fmt/format.h"

namespace salvo::dns {
namespace {

std::string InflightKey(const std::string& name, RrType type) {
  return fmt::format("{}/{}", static_cast<int>(type), name);
}

uint32_t Seconds(std::chrono::seconds s) {
  return static_cast<uint32_t>(std::max<int64_t>(0, s.count()));
}

const CounterFamily& Lookups() {
  static const CounterFamily family = MetricsRegistry::Default().AddCounter(
      "salvo_dns_lookups_total",
      "DNS questions the delivery engine asked its resolvers, by how they were answered: "
      "cache_hit, coalesced (joined the same question already on the wire) or queried.",
      {"result"});
  return family;
}

}  // namespace

Resolver::Resolver(const ResolverOptions& options)
    : options_(options),
      cache_(options.cache_entries),
      rng_(std::random_device{}()),
      cache_hits_metric_(Lookups().WithLabels({"cache_hit"})),
      coalesced_metric_(Lookups().WithLabels({"coalesced"})),
      queried_metric_(Lookups().WithLabels({"queried"})),
      cache_entries_metric_(MetricsRegistry::Default()
                                .AddGauge("salvo_dns_cache_entries",
                                          "Answers held in the resolvers' caches (all shards).")
                                .Get()) {
  ttl_policy_.max_ttl = Seconds(options.max_ttl);
  ttl_policy_.max_negative_ttl = Seconds(options.max_negative_ttl);
  ttl_policy_.negative_ttl_without_soa = Seconds(options.negative_ttl_without_soa);
  ttl_policy_.temporary_failure_ttl = Seconds(options.temporary_failure_ttl);
}

Resolver::~Resolver() = default;

absl::StatusOr<std::unique_ptr<Resolver>> Resolver::Create(const ResolverOptions& options) {
  std::unique_ptr<Resolver> resolver(new Resolver(options));
  ASSIGN_OR_RETURN(resolver->channel_, AresChannel::Create(options));
  return resolver;
}

Resolver::AnswerAwaiter Resolver::Lookup(const std::string& name, RrType type) {
  ++stats_.lookups;
  Deadline now = Clock::now();
  if (auto cached = cache_.Find(name, type, now)) {
    ++stats_.cache_hits;
    cache_hits_metric_.Add();
    auto ready = std::make_shared<Pending>();
    ready->answer = std::move(cached);
    return AnswerAwaiter{std::move(ready)};
  }
  std::string key = InflightKey(name, type);
  if (auto it = inflight_.find(key); it != inflight_.end()) {
    ++stats_.coalesced;
    coalesced_metric_.Add();
    return AnswerAwaiter{it->second};
  }
  queried_metric_.Add();
  auto pending = std::make_shared<Pending>();
  inflight_.emplace(key, pending);
  channel_->Query(name, type, [this, name, type, pending](AresAnswer answer) {
    OnAnswer(name, type, pending, std::move(answer));
  });
  return AnswerAwaiter{std::move(pending)};
}

void Resolver::OnAnswer(const std::string& name, RrType type,
                        const std::shared_ptr<Pending>& pending, AresAnswer answer) {
  auto rrset = std::make_shared<Rrset>(
      answer.bytes.empty()
          ? TemporaryFailure(name, type, AresStatusText(answer.status), ttl_policy_)
          : InterpretAnswer(std::span(reinterpret_cast<const uint8_t*>(answer.bytes.data()),
                                      answer.bytes.size()),
                            name, type, ttl_policy_));
  Deadline now = Clock::now();
  rrset->expires = now + std::chrono::seconds(rrset->ttl);
  if (!closed_) {
    cache_.Insert(rrset, now);
    cache_entries_metric_.Set(static_cast<int64_t>(cache_.size()));
  }
  inflight_.erase(InflightKey(name, type));
  pending->answer = std::move(rrset);
  // Last: the waiters may run anything, including another lookup.
  std::vector<std::coroutine_handle<>> waiters = std::move(pending->waiters);
  for (std::coroutine_handle<> h : waiters) h.resume();
}

Task<std::vector<TargetAddresses>> Resolver::LookupAddresses(const std::vector<MxTarget>& targets) {
  bool want4 = WantsIpv4(options_.ip_preference);
  bool want6 = WantsIpv6(options_.ip_preference);
  // Put every question on the wire before waiting for any answer.
  std::vector<std::pair<std::optional<AnswerAwaiter>, std::optional<AnswerAwaiter>>> lookups;
  lookups.reserve(targets.size());
  for (const MxTarget& t : targets) {
    lookups.emplace_back(want4 ? std::optional(Lookup(t.host, RrType::kA)) : std::nullopt,
                         want6 ? std::optional(Lookup(t.host, RrType::kAaaa)) : std::nullopt);
  }
  std::vector<TargetAddresses> answers(targets.size());
  for (size_t i = 0; i < lookups.size(); ++i) {
    if (lookups[i].first) answers[i].a = co_await *lookups[i].first;
    if (lookups[i].second) answers[i].aaaa = co_await *lookups[i].second;
  }
  co_return answers;
}

Task<absl::StatusOr<MxSet>> Resolver::ResolveMx(std::string domain) {
  CO_ASSIGN_OR_RETURN(std::string name, NormalizeDomain(domain));
  if (closed_) co_return absl::UnavailableError("resolver is closing");
  std::shared_ptr<const Rrset> mx = co_await Lookup(name, RrType::kMx);
  CO_ASSIGN_OR_RETURN(MxPlan plan, PlanMxTargets(name, *mx, options_.max_mx_hosts, rng_));
  std::vector<TargetAddresses> answers = co_await LookupAddresses(plan.targets);
  co_return AssembleMxSet(name, *mx, plan, answers, options_.ip_preference, rng_);
}

Task<absl::StatusOr<std::vector<IpAddress>>> Resolver::ResolveHost(std::string host) {
  CO_ASSIGN_OR_RETURN(std::string name, NormalizeDomain(host));
  if (closed_) co_return absl::UnavailableError("resolver is closing");
  MxPlan plan;
  plan.implicit_mx = true;
  plan.targets.push_back(MxTarget{name, 0});
  plan.site = name;
  std::vector<TargetAddresses> answers = co_await LookupAddresses(plan.targets);
  Rrset no_mx;
  no_mx.expires = Deadline::max();
  auto set = AssembleMxSet(name, no_mx, plan, answers, options_.ip_preference, rng_);
  if (!set.ok()) {
    if (set.status().code() == absl::StatusCode::kNotFound) {
      co_return absl::NotFoundError(fmt::format("host {} has no address record", name));
    }
    co_return set.status();
  }
  co_return std::move(set->hosts.front().addresses);
}

Task<void> Resolver::Close() {
  closed_ = true;
  cache_entries_metric_.Set(0);  // on the shard's thread, whose cell holds its share
  co_await channel_->Close();
}

ResolverStats Resolver::stats() const {
  ResolverStats s = stats_;
  s.queries_sent = channel_->queries_sent();
  s.cache_entries = cache_.size();
  s.max_watched_sockets = channel_->max_watched_sockets();
  return s;
}

}  // namespace salvo::dns
