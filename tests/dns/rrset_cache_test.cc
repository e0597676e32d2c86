// The answer cache: TTL expiry, negative entries, LRU bound.
#include "dns/rrset_cache.h"

#include <gtest/gtest.h>

namespace salvo::dns {
namespace {

using namespace std::chrono_literals;

std::shared_ptr<const Rrset> Entry(std::string name, RrType type, RrsetKind kind,
                                   Deadline expires) {
  auto r = std::make_shared<Rrset>();
  r->name = std::move(name);
  r->type = type;
  r->kind = kind;
  r->expires = expires;
  return r;
}

TEST(RrsetCache, HitsUntilTtlRunsOut) {
  RrsetCache cache(10);
  Deadline t0 = Clock::now();
  cache.Insert(Entry("example.com", RrType::kMx, RrsetKind::kData, t0 + 60s), t0);
  EXPECT_NE(cache.Find("example.com", RrType::kMx, t0 + 59s), nullptr);
  EXPECT_EQ(cache.Find("example.com", RrType::kA, t0), nullptr);  // other type
  EXPECT_EQ(cache.Find("example.com", RrType::kMx, t0 + 60s), nullptr);
  EXPECT_EQ(cache.size(), 0u);  // the expired entry went on lookup
}

TEST(RrsetCache, KeepsNegativeAnswers) {
  RrsetCache cache(10);
  Deadline t0 = Clock::now();
  cache.Insert(Entry("nx.example", RrType::kMx, RrsetKind::kNxDomain, t0 + 5s), t0);
  auto hit = cache.Find("nx.example", RrType::kMx, t0 + 1s);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->kind, RrsetKind::kNxDomain);
}

TEST(RrsetCache, ZeroTtlIsNotKept) {
  RrsetCache cache(10);
  Deadline t0 = Clock::now();
  cache.Insert(Entry("example.com", RrType::kMx, RrsetKind::kData, t0), t0);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RrsetCache, EvictsLeastRecentlyUsedWhenFull) {
  RrsetCache cache(3);
  Deadline t0 = Clock::now();
  for (std::string n : {"a", "b", "c"}) {
    cache.Insert(Entry(n + ".example", RrType::kA, RrsetKind::kData, t0 + 60s), t0);
  }
  ASSERT_NE(cache.Find("a.example", RrType::kA, t0), nullptr);  // a is now the freshest
  cache.Insert(Entry("d.example", RrType::kA, RrsetKind::kData, t0 + 60s), t0);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.evictions(), 1u);
  EXPECT_EQ(cache.Find("b.example", RrType::kA, t0), nullptr);
  EXPECT_NE(cache.Find("a.example", RrType::kA, t0), nullptr);
  EXPECT_NE(cache.Find("d.example", RrType::kA, t0), nullptr);
}

TEST(RrsetCache, ReplacesSameKeyAndHeldEntriesSurviveEviction) {
  RrsetCache cache(1);
  Deadline t0 = Clock::now();
  cache.Insert(Entry("a.example", RrType::kA, RrsetKind::kData, t0 + 60s), t0);
  auto held = cache.Find("a.example", RrType::kA, t0);
  cache.Insert(Entry("a.example", RrType::kA, RrsetKind::kNoData, t0 + 60s), t0);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.Find("a.example", RrType::kA, t0)->kind, RrsetKind::kNoData);
  cache.Insert(Entry("b.example", RrType::kA, RrsetKind::kData, t0 + 60s), t0);
  EXPECT_EQ(held->kind, RrsetKind::kData);  // still valid after eviction
}

}  // namespace
}  // namespace salvo::dns
