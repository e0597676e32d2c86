// Domain normalization: A-labels for internationalized names, lower case,
// trailing dot, and the names a recipient domain may not be.
#include "dns/domain_name.h"

#include <gtest/gtest.h>

namespace salvo::dns {
namespace {

TEST(NormalizeDomain, LowerCasesAndDropsTrailingDot) {
  EXPECT_EQ(*NormalizeDomain("Example.COM."), "example.com");
  EXPECT_EQ(*NormalizeDomain("mx_1.example-2.org"), "mx_1.example-2.org");
}

TEST(NormalizeDomain, InternationalizedNameBecomesALabels) {
  EXPECT_EQ(*NormalizeDomain("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDomain("BÜCHER.example"), "xn--bcher-kva.example");
  EXPECT_EQ(*NormalizeDomain("例え.テスト"), "xn--r8jz45g.xn--zckzah");
  // Non-transitional (IDNA 2008 / UTS #46): ß stays itself.
  EXPECT_EQ(*NormalizeDomain("faß.de"), "xn--fa-hia.de");
  // Already A-labels: unchanged.
  EXPECT_EQ(*NormalizeDomain("xn--bcher-kva.example"), "xn--bcher-kva.example");
}

TEST(NormalizeDomain, RejectsWhatIsNoDomain) {
  for (const char* bad : {"", ".", "a..b", ".a", "[192.0.2.1]", "a b.example", "a\\.b",
                          "exa\tmple.com", "a@b.com", "a/b"}) {
    auto r = NormalizeDomain(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(NormalizeDomain(std::string(64, 'a').append(".com")).ok());
  EXPECT_TRUE(NormalizeDomain(std::string(63, 'a').append(".com")).ok());
  std::string long_name;
  while (long_name.size() < 260) long_name += "abcdefghi.";
  EXPECT_FALSE(NormalizeDomain(long_name).ok());
  EXPECT_FALSE(NormalizeDomain("\xff\xfe.example").ok());  // not UTF-8
}

TEST(IsValidHostname, AcceptsOnlyNormalizedNames) {
  EXPECT_TRUE(IsValidHostname("mx1.example.com"));
  EXPECT_FALSE(IsValidHostname("MX1.example.com"));
  EXPECT_FALSE(IsValidHostname("mx1.example.com."));
  EXPECT_FALSE(IsValidHostname(""));
  EXPECT_FALSE(IsValidHostname("a\\046b.example"));
}

}  // namespace
}  // namespace salvo::dns
