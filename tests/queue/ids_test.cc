#include "queue/ids.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "queue/keys.h"

namespace salvo::queue {
namespace {

// Id generators are per thread and never go backwards: tests that pass their
// own clock run on a fresh thread.
template <typename F>
void OnFreshThread(F f) {
  std::thread t(f);
  t.join();
}

TEST(Ids, HaveUuidV7LayoutAndCarryTheirTime) {
  RecipientId id;
  OnFreshThread([&] { id = NewId<RecipientId>(1700000000123); });
  EXPECT_EQ(id.unix_ms(), 1700000000123);
  EXPECT_EQ((id.hi() >> 12) & 0xf, 7u);  // version
  EXPECT_EQ(id.lo() >> 62, 2u);          // variant 10
  std::string text = id.ToString();
  ASSERT_EQ(text.size(), 36u);
  EXPECT_EQ(text[14], '7');
}

TEST(Ids, StrictlyIncreaseWithinAThreadEvenInOneMillisecond) {
  std::vector<RecipientId> ids;
  OnFreshThread([&] {
    for (int i = 0; i < 10000; ++i) ids.push_back(NewId<RecipientId>(1700000000000));
  });
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << i;
  // 4096 per ms, then the generator borrows the next millisecond.
  EXPECT_EQ(ids.back().unix_ms(), 1700000000000 + 10000 / 4096);
}

TEST(Ids, NeverGoBackwardsWhenTheClockDoes) {
  OnFreshThread([] {
    RecipientId a = NewId<RecipientId>(1700000005000);
    RecipientId b = NewId<RecipientId>(1700000001000);
    EXPECT_LT(a, b);
    EXPECT_EQ(b.unix_ms(), 1700000005000);
  });
}

TEST(Ids, AreUniqueAcrossThreads) {
  constexpr int kThreads = 4, kEach = 20000;
  std::vector<std::vector<RecipientId>> per(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) per[t].push_back(NewId<RecipientId>());
    });
  }
  for (auto& t : threads) t.join();
  std::set<RecipientId> all;
  for (auto& v : per) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kEach});
}

TEST(Ids, BytesAreBigEndianSoKeyOrderIsIdOrder) {
  std::vector<RecipientId> ids;
  OnFreshThread([&] {
    for (int64_t ms : {int64_t{1000}, int64_t{1001}, int64_t{256000}, int64_t{1700000000000}}) {
      ids.push_back(NewId<RecipientId>(ms));
    }
  });
  for (size_t i = 1; i < ids.size(); ++i) {
    EXPECT_LT(ids[i - 1].Bytes(), ids[i].Bytes());
    EXPECT_LT(ids[i - 1], ids[i]);
  }
  RecipientId id(0x0102030405060708ULL, 0x090a0b0c0d0e0f10ULL);
  EXPECT_EQ(id.Bytes(),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"));
  EXPECT_EQ(*RecipientId::FromBytes(id.Bytes()), id);
  EXPECT_FALSE(RecipientId::FromBytes("short").has_value());
}

TEST(Ids, TextRoundTrips) {
  RecipientId id = NewId<RecipientId>();
  EXPECT_EQ(*RecipientId::Parse(id.ToString()), id);
  RecipientId fixed(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(fixed.ToString(), "01234567-89ab-cdef-fedc-ba9876543210");
  EXPECT_EQ(*RecipientId::Parse("0123456789ABCDEFfedcba9876543210"), fixed);
  EXPECT_FALSE(RecipientId::Parse("01234567-89ab-cdef-fedc-ba987654321").has_value());
  EXPECT_FALSE(RecipientId::Parse("01234567x89ab-cdef-fedc-ba9876543210").has_value());
  EXPECT_FALSE(RecipientId::Parse("g1234567-89ab-cdef-fedc-ba9876543210").has_value());
}

TEST(Keys, RecipientKeysGroupUnderTheirContentInTimeOrder) {
  ContentId c1, c2;
  RecipientId r1, r2;
  OnFreshThread([&] {
    c1 = NewId<ContentId>(1000);
    c2 = NewId<ContentId>(2000);
    r1 = NewId<RecipientId>(3000);
    r2 = NewId<RecipientId>(4000);
  });
  // All of c1's recipients sort before any of c2's, whatever their times.
  EXPECT_LT(RecipientKey(c1, r2), RecipientKey(c2, r1));
  EXPECT_LT(RecipientKey(c1, r1), RecipientKey(c1, r2));
  auto parts = ParseRecipientKey(RecipientKey(c1, r2));
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->content, c1);
  EXPECT_EQ(parts->recipient, r2);
  EXPECT_FALSE(ParseRecipientKey("too short").has_value());
  EXPECT_STREQ(CfName(Cf::kMeta), "default");
  EXPECT_STREQ(CfName(Cf::kSchedule), "schedule");
}

}  // namespace
}  // namespace salvo::queue
