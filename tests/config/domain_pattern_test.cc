// Destination patterns and domain-name syntax.
#include "engine/config/domain_pattern.h"

#include <gtest/gtest.h>

namespace salvo {
namespace {

TEST(CheckDomainName, AcceptsHostNames) {
  for (const char* good : {"example.com", "mx-1.example.com", "localhost", "a.b.c.d.e",
                           "EXAMPLE.COM", "example.com.", "123.example", "xn--bcher-kva.example"}) {
    EXPECT_TRUE(CheckDomainName(good).ok()) << good;
  }
}

TEST(CheckDomainName, RejectsBadNames) {
  std::string long_label(64, 'a');
  std::string long_name;
  for (int i = 0; i < 64; ++i) long_name += "abc.";
  long_name += "com";
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string("a..b"), std::string(".a"),
        std::string("-a.com"), std::string("a-.com"), std::string("a_b.com"),
        std::string("a b.com"), std::string("*.com"), long_label + ".com", long_name}) {
    EXPECT_FALSE(CheckDomainName(bad).ok()) << bad;
  }
}

TEST(DomainPattern, ExactMatchesOnlyThatNameInAnyCase) {
  auto p = DomainPattern::Parse("Example.COM");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->text(), "example.com");
  EXPECT_TRUE(p->Matches("example.com"));
  EXPECT_TRUE(p->Matches("EXAMPLE.com."));
  EXPECT_FALSE(p->Matches("mx.example.com"));
  EXPECT_FALSE(p->Matches("notexample.com"));
  EXPECT_FALSE(p->Matches(""));
}

TEST(DomainPattern, WildcardMatchesSubdomainsNotTheParent) {
  auto p = DomainPattern::Parse("*.google.com");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->wildcard());
  EXPECT_TRUE(p->Matches("aspmx.l.google.com"));
  EXPECT_TRUE(p->Matches("ALT1.Google.Com"));
  EXPECT_FALSE(p->Matches("google.com"));
  EXPECT_FALSE(p->Matches("notgoogle.com"));
  EXPECT_FALSE(p->Matches(".google.com"));
}

TEST(DomainPattern, RejectsMalformedPatterns) {
  for (const char* bad :
       {"", "*", "*.", "**.com", "a.*.com", "*example.com", "ex ample.com", "*.*.com"}) {
    EXPECT_FALSE(DomainPattern::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace salvo
