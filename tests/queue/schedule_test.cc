#include "queue/schedule.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "queue/tables.h"

namespace salvo::queue {
namespace {

TEST(Schedule, HandsOutEntriesInDueOrderOnlyWhenDue) {
  Schedule s;
  std::mt19937 rng(7);
  std::vector<UnixSeconds> dues;
  for (int i = 0; i < 5000; ++i) {
    UnixSeconds due = 1000 + rng() % 500;
    dues.push_back(due);
    s.Add(NewId<RecipientId>(), 0, 0, 0, due);
  }
  std::sort(dues.begin(), dues.end());
  EXPECT_FALSE(s.PeekDue(999).has_value());
  EXPECT_EQ(*s.NextDue(), dues.front());
  std::vector<UnixSeconds> got;
  while (auto slot = s.PeekDue(2000)) {
    got.push_back(s.at(*slot).due);
    s.Free(*slot);
  }
  EXPECT_EQ(got, dues);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.heap_size(), 0u);
}

TEST(Schedule, PlaceMovesAnEntryAndUnplaceTakesItOut) {
  Schedule s;
  auto a = s.Add(NewId<RecipientId>(), 0, 0, 0, 100);
  auto b = s.Add(NewId<RecipientId>(), 0, 0, 0, 200);
  auto c = s.Add(NewId<RecipientId>(), 0, 0, 0, 300);
  s.Place(a, EntryState::kInFlight, 400);  // a leased until 400
  EXPECT_EQ(*s.PeekDue(1000), b);
  s.Place(c, EntryState::kQueued, 50);  // c earlier
  EXPECT_EQ(*s.PeekDue(1000), c);
  s.Unplace(c, EntryState::kExpiring);
  EXPECT_EQ(s.at(c).state, EntryState::kExpiring);
  EXPECT_EQ(s.heap_size(), 2u);
  EXPECT_EQ(s.size(), 3u);
  s.Place(c, EntryState::kQueued, 500);  // back in
  EXPECT_EQ(s.heap_size(), 3u);
  std::vector<Schedule::Slot> order;
  while (auto slot = s.PeekDue(1000)) {
    order.push_back(*slot);
    s.Free(*slot);
  }
  EXPECT_EQ(order, (std::vector<Schedule::Slot>{b, a, c}));
}

TEST(Schedule, ReusesFreedSlotsAndKeepsIdsIntact) {
  Schedule s;
  RecipientId id1 = NewId<RecipientId>(), id2 = NewId<RecipientId>();
  auto a = s.Add(id1, 3, 4, 5, 10);
  EXPECT_EQ(s.at(a).id(), id1);
  EXPECT_EQ(s.at(a).content, 3u);
  EXPECT_EQ(s.at(a).domain, 4u);
  EXPECT_EQ(s.at(a).attempts, 5);
  EXPECT_EQ(s.at(a).accepted_s(), id1.unix_ms() / 1000);
  s.Free(a);
  auto b = s.Add(id2, 0, 0, 0, 10);
  EXPECT_EQ(a, b);
  EXPECT_EQ(s.at(b).id(), id2);
  EXPECT_EQ(s.slot_limit(), 1u);
}

TEST(Schedule, RandomOperationsKeepTheHeapConsistent) {
  Schedule s;
  std::mt19937 rng(42);
  std::vector<Schedule::Slot> live;
  for (int step = 0; step < 20000; ++step) {
    int op = rng() % 4;
    if (op == 0 || live.empty()) {
      live.push_back(s.Add(NewId<RecipientId>(), 0, 0, 0, rng() % 10000));
    } else if (op == 1) {
      size_t i = rng() % live.size();
      s.Free(live[i]);
      live[i] = live.back();
      live.pop_back();
    } else if (op == 2) {
      s.Place(live[rng() % live.size()], EntryState::kQueued, rng() % 10000);
    } else {
      auto slot = s.PeekDue(UINT32_MAX);
      ASSERT_TRUE(slot.has_value());
      // The top is the minimum of all live entries.
      UnixSeconds min = UINT32_MAX;
      for (auto l : live) min = std::min(min, s.at(l).due);
      ASSERT_EQ(s.at(*slot).due, min);
    }
  }
  EXPECT_EQ(s.size(), live.size());
}

TEST(Schedule, CostsUnder64BytesPerQueuedRecipient) {
  Schedule s;
  constexpr int kCount = 1 << 18;
  s.Reserve(kCount);
  for (int i = 0; i < kCount; ++i) s.Add(NewId<RecipientId>(), 0, 0, 0, 1000 + i);
  double per = static_cast<double>(s.MemoryBytes()) / kCount;
  EXPECT_LE(per, 64.0);
  EXPECT_GE(per, 36.0 + 8.0);
}

TEST(Tables, InternDomainsAndCountContents) {
  DomainTable d;
  EXPECT_EQ(d.Intern("example.com"), 0u);
  EXPECT_EQ(d.Intern("example.org"), 1u);
  EXPECT_EQ(d.Intern("example.com"), 0u);
  for (int i = 0; i < 1000; ++i) d.Intern(fmt::format("d{}.example", i));
  EXPECT_EQ(d.name(1), "example.org");  // views stay valid as the table grows

  ContentTable c;
  ContentId x = NewId<ContentId>(), y = NewId<ContentId>();
  uint32_t ix = c.Add(x, true, 0);
  uint32_t iy = c.Add(y, false, 60);
  EXPECT_EQ(c.Find(x), ix);
  EXPECT_EQ(c.at(iy).max_age_s, 60u);
  c.Remove(ix);
  EXPECT_EQ(c.Find(x), -1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.Add(NewId<ContentId>(), true, 0), ix);  // slot reused
}

}  // namespace
}  // namespace salvo::queue
