#include "queue/retry_policy.h"

#include <gtest/gtest.h>

namespace salvo::queue {
namespace {

TEST(RetryPolicy, FollowsTheIntervalsAndRepeatsTheLast) {
  RetryPolicy p{.intervals = {absl::Minutes(1), absl::Minutes(10), absl::Hours(1)}, .jitter = 0};
  absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(p.NextAttempt(1, now, 0.9), now + absl::Minutes(1));
  EXPECT_EQ(p.NextAttempt(2, now, 0.1), now + absl::Minutes(10));
  EXPECT_EQ(p.NextAttempt(3, now, 0.5), now + absl::Hours(1));
  EXPECT_EQ(p.NextAttempt(30, now, 0.5), now + absl::Hours(1));
}

TEST(RetryPolicy, JitterStaysWithinItsFraction) {
  RetryPolicy p{.intervals = {absl::Minutes(10)}, .jitter = 0.2};
  absl::Time now = absl::FromUnixSeconds(1700000000);
  EXPECT_EQ(p.NextAttempt(1, now, 0.5), now + absl::Minutes(10));
  EXPECT_EQ(p.NextAttempt(1, now, 0.0), now + absl::Minutes(8));
  absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration();
  for (int i = 0; i < 10000; ++i) {
    double u = RandomUnit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    absl::Duration d = p.NextAttempt(1, now, u) - now;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GE(lo, absl::Minutes(8));
  EXPECT_LE(hi, absl::Minutes(12));
  EXPECT_LT(lo, absl::Minutes(9));  // the draws really spread
  EXPECT_GT(hi, absl::Minutes(11));
}

TEST(RetryPolicy, ValidatesAndParses) {
  EXPECT_TRUE(RetryPolicy{}.Validate().ok());
  EXPECT_FALSE(RetryPolicy{.intervals = {}}.Validate().ok());
  EXPECT_FALSE(RetryPolicy{.intervals = {absl::ZeroDuration()}}.Validate().ok());
  EXPECT_FALSE(RetryPolicy{.jitter = 1.0}.Validate().ok());
  EXPECT_FALSE(RetryPolicy{.max_age = absl::ZeroDuration()}.Validate().ok());
  auto parsed = RetryPolicy::ParseIntervals("5m, 30m,2h");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed,
            (std::vector<absl::Duration>{absl::Minutes(5), absl::Minutes(30), absl::Hours(2)}));
  EXPECT_FALSE(RetryPolicy::ParseIntervals("5m,soon").ok());
  EXPECT_FALSE(RetryPolicy::ParseIntervals("").ok());
  EXPECT_FALSE(RetryPolicy::ParseIntervals("-5m").ok());
}

}  // namespace
}  // namespace salvo::queue
