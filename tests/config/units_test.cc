// Duration, rate and size parsers: every unit, sums, zero, overflow and the
// malformed spellings an operator might type.
#include "engine/config/units.h"

#include <gtest/gtest.h>

#include <string>

namespace salvo {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

TEST(ParseDuration, EveryUnit) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("5s"), seconds(5));
  EXPECT_EQ(*ParseDuration("10m"), minutes(10));
  EXPECT_EQ(*ParseDuration("10min"), minutes(10));
  EXPECT_EQ(*ParseDuration("2h"), hours(2));
  EXPECT_EQ(*ParseDuration("5d"), hours(120));
  EXPECT_EQ(*ParseDuration("750us"), microseconds(750));
}

TEST(ParseDuration, SumsZeroAndLeadingZeros) {
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("1d2h3m4s5ms"), hours(26) + minutes(3) + seconds(4) + milliseconds(5));
  EXPECT_EQ(*ParseDuration("0"), Duration::zero());
  EXPECT_EQ(*ParseDuration("0s"), Duration::zero());
  EXPECT_EQ(*ParseDuration("007s"), seconds(7));
}

TEST(ParseDuration, RejectsMalformed) {
  for (const char* bad : {"", "5", "s", "5 s", " 5s", "5s ", "-5s", "+5s", "1.5h", "5x", "5S", "5M",
                          "5sec", "1h30", "h1", "5s-", "0x10s", "00", "\xe2\x88\x9e"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << '"' << bad << '"';
  }
}

TEST(ParseDuration, ErrorsNameTheTextAndTheUnits) {
  auto d = ParseDuration("5x");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(Message(d.status()).find("\"5x\""), std::string::npos) << d.status();
  EXPECT_NE(Message(d.status()).find("ms, s, m, h"), std::string::npos) << d.status();
  EXPECT_NE(Message(ParseDuration("30").status()).find("missing unit"), std::string::npos);
}

TEST(ParseDuration, OverflowIsAnErrorNotAWrap) {
  // Duration is int64 nanoseconds: about 106,751 days.
  EXPECT_TRUE(ParseDuration("106751d").ok());
  EXPECT_FALSE(ParseDuration("106752d").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999s").ok());
  EXPECT_FALSE(ParseDuration("106751d106751d").ok());
}

TEST(FormatDuration, RoundTripsThroughParse) {
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1s500ms");
  EXPECT_EQ(FormatDuration(Duration::zero()), "0s");
  EXPECT_EQ(FormatDuration(hours(120)), "5d");
  for (Duration d :
       {Duration(milliseconds(250)), Duration(hours(49) + seconds(1)), Duration(microseconds(3))}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
}

TEST(ParseRate, EveryPeriod) {
  EXPECT_EQ(*ParseRate("10/s"), (Rate{10, seconds(1)}));
  EXPECT_EQ(*ParseRate("10/sec"), (Rate{10, seconds(1)}));
  EXPECT_EQ(*ParseRate("600/min"), (Rate{600, minutes(1)}));
  EXPECT_EQ(*ParseRate("600/m"), (Rate{600, minutes(1)}));
  EXPECT_EQ(*ParseRate("1000/h"), (Rate{1000, hours(1)}));
  EXPECT_EQ(*ParseRate("1000/hour"), (Rate{1000, hours(1)}));
  EXPECT_EQ(*ParseRate("5/d"), (Rate{5, hours(24)}));
  EXPECT_DOUBLE_EQ(ParseRate("600/min")->PerSecond(), 10.0);
  EXPECT_DOUBLE_EQ(ParseRate("3600/h")->PerSecond(), 1.0);
}

TEST(ParseRate, RejectsMalformedAndZero) {
  for (const char* bad : {"", "10", "/s", "10/", "10/week", "10 /s", "10/ s", "-1/s", "1.5/s",
                          "10/S", "10/s/s", "10per s", "0/s", "99999999999999/s"}) {
    EXPECT_FALSE(ParseRate(bad).ok()) << '"' << bad << '"';
  }
  EXPECT_NE(Message(ParseRate("0/s").status()).find("zero"), std::string::npos);
}

TEST(FormatRate, UsesTheNamedPeriods) {
  EXPECT_EQ(FormatRate(*ParseRate("10/s")), "10/s");
  EXPECT_EQ(FormatRate(*ParseRate("600/m")), "600/min");
  EXPECT_EQ(FormatRate(*ParseRate("7/day")), "7/d");
}

TEST(ParseSize, DecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseSize("0"), 0u);
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("4096B"), 4096u);
  EXPECT_EQ(*ParseSize("10KB"), 10'000u);
  EXPECT_EQ(*ParseSize("10MB"), 10'000'000u);
  EXPECT_EQ(*ParseSize("2GB"), 2'000'000'000u);
  EXPECT_EQ(*ParseSize("1TB"), 1'000'000'000'000u);
  EXPECT_EQ(*ParseSize("512KiB"), 512u * 1024);
  EXPECT_EQ(*ParseSize("10MiB"), 10u << 20);
  EXPECT_EQ(*ParseSize("1GiB"), 1u << 30);
  EXPECT_EQ(*ParseSize("1TiB"), uint64_t{1} << 40);
}

TEST(ParseSize, UnitsAreCaseInsensitiveAndMayFollowOneSpace) {
  EXPECT_EQ(*ParseSize("10mib"), 10u << 20);
  EXPECT_EQ(*ParseSize("10 MiB"), 10u << 20);
  EXPECT_EQ(*ParseSize("10kb"), 10'000u);
}

TEST(ParseSize, RejectsMalformedAndOverflow) {
  for (const char* bad : {"", "MB", "-1", "1.5MB", "10XB", "10  MB", "10M", "10 ", " 10", "10MiBs",
                          "9999999TiB", "99999999999999999999"}) {
    EXPECT_FALSE(ParseSize(bad).ok()) << '"' << bad << '"';
  }
}

TEST(FormatSize, PrefersExactBinaryUnits) {
  EXPECT_EQ(FormatSize(10u << 20), "10MiB");
  EXPECT_EQ(FormatSize(10'000'000), "10MB");
  EXPECT_EQ(FormatSize(1000), "1KB");
  EXPECT_EQ(FormatSize(1001), "1001");
  EXPECT_EQ(FormatSize(0), "0");
  for (uint64_t n : {uint64_t{1} << 30, uint64_t{123456789}, uint64_t{50} << 20}) {
    EXPECT_EQ(*ParseSize(FormatSize(n)), n);
  }
}

}  // namespace
}  // namespace salvo
