// The resolver against a real dnsmasq on a loopback high port: MX order,
// implicit MX, null MX, NXDOMAIN, CNAMEs, IDN, TTL expiry and in-flight
// deduplication, counting what reached the server in dnsmasq's query log.
#include <gtest/gtest.h>

#include <set>

#include "dns/outcome.h"
#include "dns/resolver.h"
#include "engine/loop/ops.h"
#include "tests/dns/dnsmasq_process.h"
#include "tests/dns/resolver_fixture.h"

namespace salvo::dns {
namespace {

using namespace std::chrono_literals;
using testing::DnsmasqProcess;
using testing::OptionsFor;
using testing::RunWithResolver;

class ResolverDnsmasqTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    dnsmasq_ = DnsmasqProcess::Start({"--local-ttl=300",
                                      "--mx-host=a.test,mx1.a.test,10",
                                      "--mx-host=a.test,mx2.a.test,10",
                                      "--mx-host=a.test,mx3.a.test,20",
                                      "--host-record=mx1.a.test,127.0.0.2",
                                      "--host-record=mx2.a.test,127.0.0.3,::1",
                                      "--host-record=mx3.a.test,127.0.0.4",
                                      "--mx-host=b.test,mx2.a.test,5",
                                      "--mx-host=b.test,mx1.a.test,7",
                                      "--mx-host=b.test,mx3.a.test,9",
                                      "--host-record=implicit.test,127.0.0.9",
                                      "--mx-host=null.test,.,0",
                                      "--cname=alias.test,implicit.test",
                                      "--mx-host=cn.test,mxalias.test,10",
                                      "--cname=mxalias.test,mx1.a.test",
                                      "--mx-host=xn--bcher-kva.test,mx1.a.test,5",
                                      "--mx-host=noaddr.test,gone.test,10",
                                      "--mx-host=many.test,mx.many.test,10",
                                      "--host-record=mx.many.test,127.0.0.5",
                                      "--mx-host=v4only.test,mx.v4only.test,10",
                                      "--host-record=mx.v4only.test,127.0.0.6"},
                                     &error)
                   .release();
    ASSERT_NE(dnsmasq_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete dnsmasq_;
    dnsmasq_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(dnsmasq_, nullptr); }

  static absl::StatusOr<MxSet> Resolve(const std::string& domain,
                                       ResolverOptions options = OptionsFor(dnsmasq_->address())) {
    absl::StatusOr<MxSet> result = absl::UnknownError("not run");
    RunWithResolver(options,
                    [&](Resolver& r) -> Task<void> { result = co_await r.ResolveMx(domain); });
    return result;
  }

  static DnsmasqProcess* dnsmasq_;
};
DnsmasqProcess* ResolverDnsmasqTest::dnsmasq_ = nullptr;

std::vector<std::string> HostNames(const MxSet& set) {
  std::vector<std::string> names;
  for (const MxHost& h : set.hosts) names.push_back(h.name);
  return names;
}

TEST_F(ResolverDnsmasqTest, SeveralMxInPreferenceOrderWithAddresses) {
  auto set = Resolve("a.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->domain, "a.test");
  EXPECT_FALSE(set->implicit_mx);
  ASSERT_EQ(set->hosts.size(), 3u);
  EXPECT_EQ(std::set<std::string>({set->hosts[0].name, set->hosts[1].name}),
            std::set<std::string>({"mx1.a.test", "mx2.a.test"}));
  EXPECT_EQ(set->hosts[2].name, "mx3.a.test");
  EXPECT_EQ(set->hosts[2].preference, 20);
  for (const MxHost& h : set->hosts) {
    if (h.name == "mx2.a.test") {
      ASSERT_EQ(h.addresses.size(), 2u);
      EXPECT_EQ(h.addresses[0].ToString(), "127.0.0.3");  // IPv4 preferred by default
      EXPECT_EQ(h.addresses[1].ToString(), "::1");
    } else if (h.name == "mx1.a.test") {
      ASSERT_EQ(h.addresses.size(), 1u);
      EXPECT_EQ(h.addresses[0].ToString(), "127.0.0.2");
    }
  }
  EXPECT_EQ(set->site, "mx1.a.test,mx2.a.test,mx3.a.test");
  // --local-ttl=300 for the records; 60 s for the AAAA NODATA (no SOA).
  EXPECT_GT(set->expires, Clock::now() + 50s);
}

TEST_F(ResolverDnsmasqTest, EqualPreferencesAreShuffledAcrossLookups) {
  std::set<std::string> firsts;
  int lookups = 0;
  RunWithResolver(OptionsFor(dnsmasq_->address()), [&](Resolver& r) -> Task<void> {
    for (int i = 0; i < 64 && firsts.size() < 2; ++i, ++lookups) {
      auto set = co_await r.ResolveMx("a.test");
      EXPECT_TRUE(set.ok()) << set.status();
      if (set.ok()) firsts.insert(set->hosts[0].name);
    }
    EXPECT_EQ(r.stats().queries_sent, 7u);  // MX + 3 x (A, AAAA); the rest from the cache
  });
  EXPECT_EQ(firsts.size(), 2u) << "after " << lookups << " lookups";
}

// /metrics: every lookup is counted once, by how it was answered, and the
// cache gauge follows this resolver's cache.
TEST_F(ResolverDnsmasqTest, MetricsCountHowLookupsWereAnswered) {
  const CounterFamily lookups =
      MetricsRegistry::Default().AddCounter("salvo_dns_lookups_total", "", {"result"});
  const Gauge entries = MetricsRegistry::Default().AddGauge("salvo_dns_cache_entries", "").Get();
  auto value = [&](std::string_view result) { return lookups.WithLabels({result}).Value(); };
  uint64_t hits0 = value("cache_hit"), coalesced0 = value("coalesced"), queried0 = value("queried");
  ResolverStats stats;
  int64_t entries_seen = -1;
  RunWithResolver(OptionsFor(dnsmasq_->address()), [&](Resolver& r) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto set = co_await r.ResolveMx("b.test");
      EXPECT_TRUE(set.ok()) << set.status();
    }
    stats = r.stats();
    entries_seen = entries.Value();
  });
  EXPECT_GT(stats.queries_sent, 0u);
  EXPECT_GT(stats.cache_hits, 0u);
  EXPECT_EQ(value("cache_hit") - hits0, stats.cache_hits);
  EXPECT_EQ(value("coalesced") - coalesced0, stats.coalesced);
  EXPECT_EQ(value("queried") - queried0, stats.lookups - stats.cache_hits - stats.coalesced);
  EXPECT_EQ(entries_seen, static_cast<int64_t>(stats.cache_entries));
  EXPECT_GT(entries_seen, 0);
  EXPECT_EQ(entries.Value(), 0);  // Close() gave this thread's share back
}

TEST_F(ResolverDnsmasqTest, DomainsSharingMxHostsShareTheSite) {
  auto a = Resolve("a.test");
  auto b = Resolve("b.test");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->site_id, b->site_id);
  EXPECT_EQ(HostNames(*b), (std::vector<std::string>{"mx2.a.test", "mx1.a.test", "mx3.a.test"}));
}

TEST_F(ResolverDnsmasqTest, NoMxFallsBackToTheDomainsAddress) {
  auto set = Resolve("implicit.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(set->implicit_mx);
  ASSERT_EQ(set->hosts.size(), 1u);
  EXPECT_EQ(set->hosts[0].name, "implicit.test");
  EXPECT_EQ(set->hosts[0].addresses[0].ToString(), "127.0.0.9");
  EXPECT_EQ(set->site, "implicit.test");
}

TEST_F(ResolverDnsmasqTest, NullMxIsPermanentFailure) {
  auto set = Resolve("null.test");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsPermanentDnsFailure(set.status()));
  EXPECT_EQ(set.status().message(), "domain null.test does not accept mail (null MX, RFC 7505)");
}

TEST_F(ResolverDnsmasqTest, NxDomainIsPermanentFailure) {
  auto set = Resolve("nx.test");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(set.status().message(), "domain nx.test does not exist (DNS: NXDOMAIN)");
}

TEST_F(ResolverDnsmasqTest, MxHostWithoutAddressIsPermanentFailure) {
  auto set = Resolve("noaddr.test");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(set.status().message().find("gone.test: NXDOMAIN"), absl::string_view::npos)
      << set.status();
}

TEST_F(ResolverDnsmasqTest, CnamesAreFollowed) {
  // The domain is a CNAME to a name without MX: implicit MX through the CNAME.
  auto alias = Resolve("alias.test");
  ASSERT_TRUE(alias.ok()) << alias.status();
  EXPECT_TRUE(alias->implicit_mx);
  EXPECT_EQ(alias->hosts[0].addresses[0].ToString(), "127.0.0.9");
  // The MX host is a CNAME to mx1.a.test.
  auto cn = Resolve("cn.test");
  ASSERT_TRUE(cn.ok()) << cn.status();
  EXPECT_EQ(cn->hosts[0].name, "mxalias.test");
  EXPECT_EQ(cn->hosts[0].addresses[0].ToString(), "127.0.0.2");
}

TEST_F(ResolverDnsmasqTest, InternationalizedDomainIsAskedAsALabels) {
  auto set = Resolve("Bücher.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->domain, "xn--bcher-kva.test");
  EXPECT_EQ(set->hosts[0].name, "mx1.a.test");
  EXPECT_GE(dnsmasq_->CountQueries("MX", "xn--bcher-kva.test"), 1);
}

TEST_F(ResolverDnsmasqTest, InvalidDomainNeverReachesTheServer) {
  auto set = Resolve("bad domain.test");
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(dnsmasq_->CountQueries("MX", "bad domain.test"), 0);
}

TEST_F(ResolverDnsmasqTest, Ipv4OnlyAsksNoAaaa) {
  ResolverOptions options = OptionsFor(dnsmasq_->address());
  options.ip_preference = IpPreference::kIpv4Only;
  auto set = Resolve("v4only.test", options);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->hosts[0].addresses.size(), 1u);
  EXPECT_EQ(dnsmasq_->CountQueries("A", "mx.v4only.test"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("AAAA", "mx.v4only.test"), 0);
}

TEST_F(ResolverDnsmasqTest, ResolveHostGivesAddressesInPreferenceOrder) {
  ResolverOptions options = OptionsFor(dnsmasq_->address());
  options.ip_preference = IpPreference::kPreferIpv6;
  RunWithResolver(options, [&](Resolver& r) -> Task<void> {
    auto addresses = co_await r.ResolveHost("mx2.a.test");
    EXPECT_TRUE(addresses.ok()) << addresses.status();
    if (!addresses.ok()) co_return;
    EXPECT_EQ(addresses->size(), 2u);
    EXPECT_EQ(addresses->front().ToString(), "::1");
    auto missing = co_await r.ResolveHost("missing.test");
    EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  });
}

Task<void> ResolveAndCount(Resolver* r, std::string domain, int* ok, int* finished) {
  auto set = co_await r->ResolveMx(domain);
  if (set.ok() && set->hosts.size() == 1) ++*ok;
  ++*finished;
}

TEST_F(ResolverDnsmasqTest, TenThousandRecipientsAtOneDomainCauseOneQuery) {
  constexpr int kRecipients = 10'000;
  int ok = 0;
  int finished = 0;
  RunWithResolver(OptionsFor(dnsmasq_->address()), [&](Resolver& r) -> Task<void> {
    for (int i = 0; i < kRecipients; ++i) {
      Ring::Current()->gate().Spawn(ResolveAndCount(&r, "many.test", &ok, &finished));
    }
    Deadline give_up = After(20s);
    while (finished < kRecipients && Clock::now() < give_up) co_await SleepFor(10ms);
    EXPECT_GE(r.stats().coalesced, static_cast<uint64_t>(kRecipients - 1));
  });
  EXPECT_EQ(finished, kRecipients);
  EXPECT_EQ(ok, kRecipients);
  EXPECT_EQ(dnsmasq_->CountQueries("MX", "many.test"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("A", "mx.many.test"), 1);
  EXPECT_EQ(dnsmasq_->CountQueries("AAAA", "mx.many.test"), 1);
}

TEST(ResolverTtlTest, SecondLookupAfterExpiryReachesTheServerAgain) {
  std::string error;
  auto dnsmasq = DnsmasqProcess::Start(
      {"--local-ttl=1", "--mx-host=ttl.test,mx.ttl.test,10", "--host-record=mx.ttl.test,127.0.0.7"},
      &error);
  ASSERT_NE(dnsmasq, nullptr) << error;
  RunWithResolver(OptionsFor(dnsmasq->address()), [&](Resolver& r) -> Task<void> {
    auto first = co_await r.ResolveMx("ttl.test");
    EXPECT_TRUE(first.ok()) << first.status();
    auto cached = co_await r.ResolveMx("ttl.test");
    EXPECT_TRUE(cached.ok()) << cached.status();
    EXPECT_EQ(dnsmasq->CountQueries("MX", "ttl.test"), 1);
    co_await SleepFor(1100ms);  // the 1 s TTL runs out
    auto again = co_await r.ResolveMx("ttl.test");
    EXPECT_TRUE(again.ok()) << again.status();
  });
  EXPECT_EQ(dnsmasq->CountQueries("MX", "ttl.test"), 2);
  EXPECT_EQ(dnsmasq->CountQueries("A", "mx.ttl.test"), 2);
}

TEST(ResolverConfigTest, BadServerAddressIsRejected) {
  ResolverOptions options;
  options.servers = {"not-an-ip:53"};
  salvo::testing::RunOnRing([](ResolverOptions o) -> Task<void> {
    auto r = Resolver::Create(o);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    co_return;
  }(options));
  options.servers = {"127.0.0.1:53"};
  options.timeout = std::chrono::milliseconds(0);
  salvo::testing::RunOnRing([](ResolverOptions o) -> Task<void> {
    auto r = Resolver::Create(o);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    co_return;
  }(options));
  EXPECT_EQ(*ServersCsv({"127.0.0.1", "127.0.0.1:5353", "[::1]:53", "::1"}),
            "127.0.0.1:53,127.0.0.1:5353,[::1]:53,[::1]:53");
  EXPECT_FALSE(ServersCsv({"127.0.0.1:0"}).ok());
  EXPECT_FALSE(ServersCsv({"127.0.0.1:99999"}).ok());
  EXPECT_FALSE(ServersCsv({"[::1"}).ok());
}

}  // namespace
}  // namespace salvo::dns
