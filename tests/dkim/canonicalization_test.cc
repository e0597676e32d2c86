// Canonicalization and From-domain parsing: the RFC 6376 §3.4.5 examples and
// the edge cases the signer relies on.
#include "engine/dkim/canonicalization.h"

#include <gtest/gtest.h>

#include "engine/dkim/from_domain.h"

namespace salvo::dkim {
namespace {

std::string Headers(std::string_view message, Canonicalization c) {
  auto parts = SplitMessage(message);
  EXPECT_TRUE(parts.ok()) << parts.status();
  std::string out;
  if (parts.ok()) {
    for (const HeaderField& h : parts->headers) CanonicalizeHeader(h, c, out);
  }
  return out;
}

std::string Body(std::string_view body, Canonicalization c) {
  std::string out;
  CanonicalizeBody(body, c, out);
  return out;
}

constexpr char kRfcExample[] = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n C \r\nD \t E\r\n\r\n\r\n";

TEST(CanonicalizationTest, Rfc6376ExampleRelaxed) {
  EXPECT_EQ(Headers(kRfcExample, Canonicalization::kRelaxed), "a:X\r\nb:Y Z\r\n");
  auto parts = SplitMessage(kRfcExample);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(Body(parts->body, Canonicalization::kRelaxed), " C\r\nD E\r\n");
}

TEST(CanonicalizationTest, Rfc6376ExampleSimple) {
  EXPECT_EQ(Headers(kRfcExample, Canonicalization::kSimple), "A: X\r\nB : Y\t\r\n\tZ  \r\n");
  auto parts = SplitMessage(kRfcExample);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->headers[1].name, "B");
  EXPECT_EQ(Body(parts->body, Canonicalization::kSimple), " C \r\nD \t E\r\n");
}

TEST(CanonicalizationTest, EmptyBodies) {
  EXPECT_EQ(Body("", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(Body("", Canonicalization::kRelaxed), "");
  EXPECT_EQ(Body("\r\n\r\n", Canonicalization::kSimple), "\r\n");
  EXPECT_EQ(Body(" \t\r\n\r\n", Canonicalization::kRelaxed), "");
  EXPECT_EQ(Body(" \t\r\n\r\n", Canonicalization::kSimple), " \t\r\n");
}

TEST(CanonicalizationTest, MissingFinalLineEndAndBareLf) {
  EXPECT_EQ(Body("a\r\nb", Canonicalization::kSimple), "a\r\nb\r\n");
  EXPECT_EQ(Body("a\nb  \n\n", Canonicalization::kRelaxed), "a\r\nb\r\n");
  EXPECT_EQ(Headers("Subject: a\n b\nTo: x\n\n", Canonicalization::kSimple),
            "Subject: a\r\n b\r\nTo: x\r\n");
}

TEST(CanonicalizationTest, EightBitPassesThrough) {
  std::string body = "caf\xc3\xa9 \xff\xfe\r\n";
  EXPECT_EQ(Body(body, Canonicalization::kRelaxed), body);
  EXPECT_EQ(Body(body, Canonicalization::kSimple), body);
}

TEST(CanonicalizationTest, SplitRejectsMalformedHeaders) {
  EXPECT_FALSE(SplitMessage(" leading continuation\r\n\r\n").ok());
  EXPECT_FALSE(SplitMessage("no colon here\r\n\r\nbody").ok());
  EXPECT_FALSE(SplitMessage(": empty name\r\n\r\n").ok());
  auto parts = SplitMessage("A: 1\r\n");  // headers only
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->headers.size(), 1u);
  EXPECT_TRUE(parts->body.empty());
}

TEST(FromDomainTest, Forms) {
  EXPECT_EQ(*FromDomain(" user@Example.COM"), "example.com");
  EXPECT_EQ(*FromDomain(" \"Doe, John <x@evil.org>\" <john@news.example.com>"), "news.example.com");
  EXPECT_EQ(*FromDomain(" John (at@comment.org) <j@a.example>\r\n"), "a.example");
  EXPECT_EQ(*FromDomain(" =?utf-8?q?Caf=C3=A9?=\r\n <shop@b.example>"), "b.example");
  EXPECT_FALSE(FromDomain(" a@x.example, b@y.example").ok());
  EXPECT_FALSE(FromDomain(" nobody").ok());
  EXPECT_FALSE(FromDomain(" u@[192.0.2.1]").ok());
  EXPECT_FALSE(FromDomain(" \"unterminated <u@x.example>").ok());
}

}  // namespace
}  // namespace salvo::dkim
