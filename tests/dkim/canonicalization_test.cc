// Canonicalization and From-domain parsing: the RFC 6376 §3.4.5 examples and
// the edge cases the signer relies on.
#include "engine/dkim/canonicalization.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <vector>

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

// RFC 6376 §3.4.3 and §3.4.4 as written, line by line, for comparison with
// the canonicalizer, which works on whole runs of the body.
std::string ReferenceBody(std::string_view body, Canonicalization c) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t lf = body.find('\n', pos);
    std::string line(body.substr(pos, lf == std::string_view::npos ? lf : lf - pos));
    if (lf != std::string_view::npos && !line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    pos = lf == std::string_view::npos ? body.size() : lf + 1;
  }
  if (c == Canonicalization::kRelaxed) {
    for (std::string& line : lines) {
      std::string reduced;
      for (char ch : line) {
        bool wsp = ch == ' ' || ch == '\t';
        if (wsp && !reduced.empty() && reduced.back() == ' ') continue;
        reduced.push_back(wsp ? ' ' : ch);
      }
      while (!reduced.empty() && reduced.back() == ' ') reduced.pop_back();
      line = std::move(reduced);
    }
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  std::string out;
  for (const std::string& line : lines) out += line + "\r\n";
  if (c == Canonicalization::kSimple && out.empty()) out = "\r\n";
  return out;
}

// Bodies from an alphabet heavy in what canonicalization acts on: spaces,
// tabs, CR, LF and CRLF, with lines long enough for the 16-byte scan and
// runs of WSP that cross its blocks.
std::string RandomBody(std::mt19937& rng) {
  static constexpr std::string_view kPieces[] = {
      "a",   "b", " ", "  ", "\t", "\r", "\n", "\r\n", "\r\n\r\n", "\xc3\xa9", "0123456789abcdef",
      " \t "};
  std::uniform_int_distribution<size_t> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 120);
  std::uniform_int_distribution<int> letters(0, 40);
  std::string body;
  for (int n = length(rng); n > 0; --n) {
    body += kPieces[piece(rng)];
    body.append(static_cast<size_t>(letters(rng)), 'x');  // long plain runs
  }
  return body;
}

TEST(CanonicalizationTest, RandomBodiesMatchTheRfcText) {
  std::mt19937 rng(6376);
  for (int i = 0; i < 5000; ++i) {
    std::string body = RandomBody(rng);
    // Every tenth body as one long line, past the size rewritten on the stack.
    if (i % 10 == 0) std::erase(body, '\n');
    for (Canonicalization c : {Canonicalization::kRelaxed, Canonicalization::kSimple}) {
      ASSERT_EQ(Body(body, c), ReferenceBody(body, c))
          << CanonicalizationName(c) << " body #" << i << ": " << testing::PrintToString(body);
    }
  }
}

// RFC 6376 §3.4.2 as written: lower-case name, unfold, WSP runs to one SP,
// no WSP at the end of the value or around the colon.
std::string ReferenceRelaxedHeader(std::string_view raw) {
  std::string name(raw.substr(0, raw.find(':')));
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  std::string value;
  for (char ch : raw.substr(raw.find(':') + 1)) {
    if (ch == '\r' || ch == '\n') continue;
    bool wsp = ch == ' ' || ch == '\t';
    if (wsp && !value.empty() && value.back() == ' ') continue;
    value.push_back(wsp ? ' ' : ch);
  }
  while (!value.empty() && value.back() == ' ') value.pop_back();
  if (!value.empty() && value.front() == ' ') value.erase(0, 1);
  return name + ":" + value + "\r\n";
}

TEST(CanonicalizationTest, RandomHeadersMatchTheRfcText) {
  std::mt19937 rng(5322);
  static constexpr std::string_view kPieces[] = {"v",     "Word",   " ", "\t",       "  \t",
                                                 "\r\n ", "\r\n\t", ":", "\xc3\xa9", "a;b=c"};
  std::uniform_int_distribution<size_t> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 40);
  for (int i = 0; i < 3000; ++i) {
    std::string field = i % 2 == 0 ? "Subject:" : "X-Mixed-Case \t:";
    for (int n = length(rng); n > 0; --n) field += kPieces[piece(rng)];
    std::string message = field + "\r\n\r\n";
    ASSERT_EQ(Headers(message, Canonicalization::kRelaxed), ReferenceRelaxedHeader(field))
        << testing::PrintToString(field);
  }
}

TEST(CanonicalizationTest, PiecesPointIntoTheBodyWhereItIsAlreadyCanonical) {
  std::string body = "Hello Alice,\r\n\r\nthis week's offers.\r\n\r\n\r\n";
  std::vector<std::string_view> pieces;
  CanonicalizeBody(body, Canonicalization::kRelaxed,
                   [&](std::string_view piece) { pieces.push_back(piece); });
  ASSERT_EQ(pieces.size(), 1u);  // one run, without the trailing empty lines
  EXPECT_EQ(pieces[0].data(), body.data());
  EXPECT_EQ(pieces[0], "Hello Alice,\r\n\r\nthis week's offers.\r\n");
  // A rewritten line comes whole from a buffer valid during the call only;
  // the next line, unchanged, points into the body again.
  std::string rewritten = "a  b\r\nc\r\n";
  std::vector<std::string> copies;
  pieces.clear();
  CanonicalizeBody(rewritten, Canonicalization::kRelaxed, [&](std::string_view piece) {
    copies.emplace_back(piece);
    pieces.push_back(piece);
  });
  EXPECT_EQ(copies, (std::vector<std::string>{"a b\r\n", "c\r\n"}));
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[1].data(), rewritten.data() + 6);
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
