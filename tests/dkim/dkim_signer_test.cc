// DkimSigner: every signature is checked by python3-dkim (an independent
// verifier) with the key's TXT record supplied by the test: rsa-sha256 and
// ed25519-sha256, relaxed and simple, over-signed From, missing and folded
// headers, trailing empty lines, 8-bit and multipart bodies, body-hash reuse,
// key choice by From domain; and tampered messages fail.
#include "engine/dkim/dkim_signer.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

#include "engine/tls/crypto.h"
#include "engine/tls/dkim_crypto.h"
#include "tests/dkim/test_keys.h"
#include "tests/dkim/verifier.h"

namespace salvo::dkim {
namespace {

using testing::Ed25519Key;
using testing::Records;
using testing::RsaKey;
using testing::Spec;
using testing::TestKey;
using testing::Verify;
using testing::VerifyAll;

constexpr char kMessage[] =
    "From: \"Example News\" <news@example.com>\r\n"
    "To: alice@example.net\r\n"
    "Subject: Weekly offers\r\n"
    "Date: Sun, 22 Nov 2026 23:00:00 +0000\r\n"
    "Message-ID: <r1@mta.example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "List-Unsubscribe: <https://mta.example.com/u/abc>\r\n"
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
    "Feedback-ID: c1:cust7:salvo\r\n"
    "\r\n"
    "Hello Alice,\r\n"
    "\r\n"
    "this week's offers.\r\n";

std::unique_ptr<DkimSigner> MakeSigner(std::vector<const TestKey*> keys,
                                       Canonicalization c = Canonicalization::kRelaxed) {
  DkimSignerOptions o;
  for (const TestKey* k : keys) o.keys.push_back(Spec(*k));
  o.header_canonicalization = c;
  o.body_canonicalization = c;
  // One t= for the whole binary, so that two signatures of one message are
  // byte-identical whatever second they fall in.
  static const int64_t kNow = std::time(nullptr);
  o.clock = [] { return kNow; };
  auto signer = DkimSigner::Create(std::move(o));
  EXPECT_TRUE(signer.ok()) << signer.status();
  return signer.ok() ? std::move(*signer) : nullptr;
}

std::string Signed(const DkimSigner& signer, const std::string& message) {
  auto sig = signer.Sign(message);
  EXPECT_TRUE(sig.ok()) << sig.status();
  return sig.ok() ? *sig + message : message;
}

std::string Replace(std::string s, std::string_view from, std::string_view to) {
  size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

struct Case {
  const char* name;
  const TestKey& (*key)();
  Canonicalization c;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class SignVerifyTest : public ::testing::TestWithParam<Case> {};

TEST_P(SignVerifyTest, VerifiesAndTamperingFails) {
  const TestKey& key = GetParam().key();
  auto signer = MakeSigner({&key}, GetParam().c);
  ASSERT_NE(signer, nullptr);
  std::string message = Signed(*signer, kMessage);
  ASSERT_TRUE(message.starts_with("DKIM-Signature: v=1;"));
  for (size_t at = 0, line = 0; (at = message.find("\r\n", line)) < message.find("\r\nFrom:");
       line = at + 2) {
    EXPECT_LE(at - line, 78u) << "unfolded signature line";
  }
  std::vector<std::string> variants = {
      message, Replace(message, "this week's offers.", "this week's 0ffers."),       // body
      Replace(message, "Subject: Weekly offers", "Subject: Weekly 0ffers"),          // header
      Replace(message, "\r\nTo: alice", "\r\nFrom: evil@example.org\r\nTo: alice"),  // 2nd From
  };
  auto results = VerifyAll(variants, Records({&key}));
  EXPECT_EQ(results[0], std::vector<bool>{true}) << message;
  EXPECT_EQ(results[1], std::vector<bool>{false}) << "tampered body verified";
  EXPECT_EQ(results[2], std::vector<bool>{false}) << "tampered header verified";
  EXPECT_EQ(results[3], std::vector<bool>{false}) << "added From verified (over-signing)";
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, SignVerifyTest,
    ::testing::Values(Case{"RsaRelaxed", &RsaKey, Canonicalization::kRelaxed},
                      Case{"RsaSimple", &RsaKey, Canonicalization::kSimple},
                      Case{"Ed25519Relaxed", &Ed25519Key, Canonicalization::kRelaxed},
                      Case{"Ed25519Simple", &Ed25519Key, Canonicalization::kSimple}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DkimSignerTest, SignatureTagsAndOverSignedFrom) {
  auto signer = MakeSigner({&RsaKey()});
  ASSERT_NE(signer, nullptr);
  auto sig = signer->Sign(kMessage);
  ASSERT_TRUE(sig.ok()) << sig.status();
  std::string unfolded;
  for (char c : *sig) {
    if (c != '\r' && c != '\n' && c != '\t') unfolded.push_back(c);
  }
  EXPECT_NE(unfolded.find("a=rsa-sha256;"), std::string::npos) << unfolded;
  EXPECT_NE(unfolded.find("c=relaxed/relaxed;"), std::string::npos);
  EXPECT_NE(unfolded.find("d=example.com;"), std::string::npos);
  EXPECT_NE(unfolded.find("s=rsa2026;"), std::string::npos);
  EXPECT_NE(unfolded.find("h=from:from:to:subject:date:message-id:mime-version:content-type:"
                          "list-unsubscribe:list-unsubscribe-post:feedback-id;"),
            std::string::npos)
      << unfolded;
}

TEST(DkimSignerTest, MissingHeadersAreNotListed) {
  auto signer = MakeSigner({&Ed25519Key()});
  ASSERT_NE(signer, nullptr);
  std::string minimal =
      "From: a@example.com\r\nDate: Sun, 22 Nov 2026 23:00:00 +0000\r\n\r\nhi\r\n";
  auto sig = signer->Sign(minimal);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_NE(sig->find("h=from:from:date;"), std::string::npos) << *sig;
  std::string no_body = "From: a@example.com\r\nSubject: x\r\n";
  EXPECT_EQ(VerifyAll({*sig + minimal, Signed(*signer, no_body)}, Records({&Ed25519Key()})),
            (std::vector<std::vector<bool>>{{true}, {true}}));
}

TEST(DkimSignerTest, LongFoldedHeadersAndRepeatedFields) {
  // ("Subject :" obsolete spacing is covered in canonicalization_test:
  // python3-dkim refuses such a message.)
  std::string subject(300, 'x');
  for (size_t i = 40; i < subject.size(); i += 41) subject[i] = ' ';
  std::string message =
      "Received: by mta.example.com\r\n"
      "From:   Shop   Team\r\n\t <shop@example.com>  \r\n"
      "To: a@example.net,\r\n   b@example.net,\r\n\tc@example.net\r\n"
      "Cc: one@example.net\r\n"
      "Cc: two@example.net\r\n"
      "Subject: " +
      subject + "\r\n\t  " + subject +
      "   \r\n"
      "\r\nbody\r\n";
  for (Canonicalization c : {Canonicalization::kRelaxed, Canonicalization::kSimple}) {
    auto rsa = MakeSigner({&RsaKey()}, c);
    auto ed = MakeSigner({&Ed25519Key()}, c);
    ASSERT_NE(rsa, nullptr);
    ASSERT_NE(ed, nullptr);
    auto results = VerifyAll({Signed(*rsa, message), Signed(*ed, message)},
                             Records({&RsaKey(), &Ed25519Key()}));
    EXPECT_EQ(results, (std::vector<std::vector<bool>>{{true}, {true}})) << CanonicalizationName(c);
  }
}

TEST(DkimSignerTest, TrailingEmptyLinesAndWhitespace) {
  std::vector<std::string> bodies = {
      "line\r\n\r\n\r\n\r\n", "line  \t\r\n \r\n\t\r\n\r\n", "", "\r\n\r\n",
      "no final line end",    "a\r\n\r\nb\r\n\r\n"};
  for (Canonicalization c : {Canonicalization::kRelaxed, Canonicalization::kSimple}) {
    auto rsa = MakeSigner({&RsaKey()}, c);
    auto ed = MakeSigner({&Ed25519Key()}, c);
    ASSERT_NE(rsa, nullptr);
    ASSERT_NE(ed, nullptr);
    std::vector<std::string> messages;
    for (const std::string& body : bodies) {
      std::string m = "From: a@example.com\r\nSubject: trailing\r\n\r\n" + body;
      messages.push_back(Signed(*rsa, m));
      messages.push_back(Signed(*ed, m));
    }
    auto results = VerifyAll(messages, Records({&RsaKey(), &Ed25519Key()}));
    for (size_t i = 0; i < results.size(); ++i) {
      EXPECT_EQ(results[i], std::vector<bool>{true})
          << CanonicalizationName(c) << " body #" << i / 2 << ": " << messages[i];
    }
  }
}

// Bodies and headers with WSP everywhere canonicalization acts on it
// (runs, tabs, trailing WSP, WSP-only lines, trailing empty lines, lines
// longer than the 16-byte scan), each signed with both algorithms and both
// canonicalizations and checked by python3-dkim in one run.
TEST(DkimSignerTest, RandomWhitespaceVerifies) {
  std::mt19937 rng(8463);
  static constexpr std::string_view kPieces[] = {"word", " ",        "  ",       "\t",    " \t ",
                                                 "\r\n", "\r\n\r\n", "\xc3\xa9", "  \r\n"};
  std::uniform_int_distribution<size_t> piece(0, std::size(kPieces) - 1);
  std::uniform_int_distribution<int> length(0, 200);
  std::vector<std::string> messages;
  for (Canonicalization c : {Canonicalization::kRelaxed, Canonicalization::kSimple}) {
    auto rsa = MakeSigner({&RsaKey()}, c);
    auto ed = MakeSigner({&Ed25519Key()}, c);
    ASSERT_NE(rsa, nullptr);
    ASSERT_NE(ed, nullptr);
    for (int i = 0; i < 20; ++i) {
      std::string body;
      for (int n = length(rng); n > 0; --n) body += kPieces[piece(rng)];
      // Ended as on the wire: a last line without its CRLF gets one from the
      // SMTP client, while python3-dkim would keep WSP before the file's end.
      body += "\r\n";
      std::string m = "From:  \t a@example.com \r\nSubject: r\t\t" + std::to_string(i) +
                      "  x \r\n  \tfolded\t\r\n\r\n" + body;
      messages.push_back(Signed(i % 2 == 0 ? *rsa : *ed, m));
    }
  }
  auto results = VerifyAll(messages, Records({&RsaKey(), &Ed25519Key()}));
  ASSERT_EQ(results.size(), messages.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i], std::vector<bool>{true}) << "message #" << i << ": " << messages[i];
  }
}

// The body hash streams the canonical body into SHA-256 in pieces, some
// gathered, some passed whole; the digest is the one of the whole text.
TEST(DkimSignerTest, BodyHashIsTheHashOfTheCanonicalBody) {
  auto signer = MakeSigner({&Ed25519Key()});
  ASSERT_NE(signer, nullptr);
  std::string long_run(3000, 'x');
  std::string mid_run(1000, 'y');  // passed whole, yet would fit the gathered pieces
  std::vector<std::string> bodies = {"", "a\r\n", "a  b\r\n" + long_run + "\r\n",
                                     "a  b\r\n" + mid_run + "\r\nc  d\r\n",
                                     long_run + " \t\r\n" + long_run + "\r\nend  \r\n"};
  for (int i = 0; i < 300; ++i) bodies.back() += "w  x\r\n";  // many short pieces
  bodies.push_back(bodies.back() + long_run + "\r\n");
  for (const std::string& body : bodies) {
    std::string canonical;
    CanonicalizeBody(body, Canonicalization::kRelaxed, canonical);
    crypto::Sha256Digest d = crypto::Sha256(canonical);
    EXPECT_EQ(signer->HashBody(body).base64,
              crypto::Base64(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())))
        << body.size();
  }
}

TEST(DkimSignerTest, EightBitAndMultipartBodies) {
  std::string eight_bit =
      "From: =?utf-8?q?Caf=C3=A9?= <cafe@example.com>\r\n"
      "Subject: Caf\xc3\xa9 cr\xc3\xa8me \xe2\x82\xac\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: 8bit\r\n"
      "\r\n"
      "Gr\xc3\xbc\xc3\x9f"
      "e, \xe6\x97\xa5\xe6\x9c\xac \xff\xfe raw bytes\r\n";
  std::string multipart =
      "From: news@example.com\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/alternative;\r\n boundary=\"b1\"\r\n"
      "\r\n"
      "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi =E2=82=AC\r\n"
      "--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi \xe2\x82\xac</p>\r\n"
      "--b1--\r\n\r\n";
  auto dual = MakeSigner({&RsaKey(), &Ed25519Key()});
  ASSERT_NE(dual, nullptr);
  auto results = VerifyAll({Signed(*dual, eight_bit), Signed(*dual, multipart)},
                           Records({&RsaKey(), &Ed25519Key()}));
  EXPECT_EQ(results, (std::vector<std::vector<bool>>{{true, true}, {true, true}}));
}

TEST(DkimSignerTest, DualSigningAddsOneFieldPerKey) {
  auto dual = MakeSigner({&Ed25519Key(), &RsaKey()});
  ASSERT_NE(dual, nullptr);
  auto sig = dual->Sign(kMessage);
  ASSERT_TRUE(sig.ok()) << sig.status();
  size_t first = sig->find("DKIM-Signature:");
  size_t second = sig->find("DKIM-Signature:", first + 1);
  ASSERT_EQ(first, 0u);
  ASSERT_NE(second, std::string::npos);
  EXPECT_NE(sig->substr(0, second).find("a=ed25519-sha256"), std::string::npos);
  EXPECT_NE(sig->substr(second).find("a=rsa-sha256"), std::string::npos);
  // Only the ed25519 key published: that signature passes, the rsa one fails.
  EXPECT_EQ(Verify(*sig + kMessage, Records({&RsaKey(), &Ed25519Key()})),
            (std::vector<bool>{true, true}));
  EXPECT_EQ(Verify(*sig + kMessage, Records({&Ed25519Key()})), (std::vector<bool>{true, false}));
}

TEST(DkimSignerTest, BodyHashReusedAcrossRecipients) {
  auto signer = MakeSigner({&RsaKey(), &Ed25519Key()});
  ASSERT_NE(signer, nullptr);
  std::string body = "Same campaign body for everyone.\r\n\r\nBye.\r\n\r\n";
  DkimBodyHash bh = signer->HashBody(body);
  std::vector<std::string> messages;
  for (const char* to : {"a@example.net", "b@example.org", "c@example.edu"}) {
    std::string headers =
        std::string("From: news@example.com\r\nTo: ") + to + "\r\nSubject: Offers\r\n";
    auto sig = signer->Sign(headers, bh);  // the header block alone
    ASSERT_TRUE(sig.ok()) << sig.status();
    messages.push_back(*sig + headers + "\r\n" + body);
    EXPECT_EQ(*sig, *signer->Sign(headers + "\r\n" + body, bh));
  }
  messages.push_back(Replace(messages[0], "Bye.", "Bye!"));
  auto results = VerifyAll(messages, Records({&RsaKey(), &Ed25519Key()}));
  EXPECT_EQ(results[0], (std::vector<bool>{true, true}));
  EXPECT_EQ(results[1], (std::vector<bool>{true, true}));
  EXPECT_EQ(results[2], (std::vector<bool>{true, true}));
  EXPECT_EQ(results[3], (std::vector<bool>{false, false}));
}

TEST(DkimSignerTest, KeyChosenByFromDomain) {
  testing::TestKey other = testing::MakeKey(crypto::DkimKeyType::kEd25519, "other.org", "s1");
  auto signer = MakeSigner({&RsaKey(), &other});
  ASSERT_NE(signer, nullptr);
  EXPECT_TRUE(signer->HasKeyFor("example.com"));
  EXPECT_TRUE(signer->HasKeyFor("news.example.com"));  // relaxed alignment
  EXPECT_FALSE(signer->HasKeyFor("example.net"));
  std::string sub = "From: n@News.Example.com\r\nSubject: s\r\n\r\nb\r\n";
  std::string org = "From: x@other.org\r\nSubject: s\r\n\r\nb\r\n";
  auto sub_sig = signer->Sign(sub);
  auto org_sig = signer->Sign(org);
  ASSERT_TRUE(sub_sig.ok() && org_sig.ok());
  EXPECT_NE(sub_sig->find("d=example.com;"), std::string::npos);
  EXPECT_NE(org_sig->find("d=other.org;"), std::string::npos);
  EXPECT_EQ(VerifyAll({*sub_sig + sub, *org_sig + org}, Records({&RsaKey(), &other})),
            (std::vector<std::vector<bool>>{{true}, {true}}));
  EXPECT_EQ(signer->Sign("From: x@example.net\r\n\r\nb\r\n").status().code(),
            absl::StatusCode::kNotFound);

  DkimSignerOptions strict;
  strict.keys.push_back(Spec(RsaKey()));
  strict.sign_subdomains = false;
  auto strict_signer = DkimSigner::Create(std::move(strict));
  ASSERT_TRUE(strict_signer.ok());
  EXPECT_EQ((*strict_signer)->Sign(sub).status().code(), absl::StatusCode::kNotFound);
}

TEST(DkimSignerTest, LfOnlyMessageVerifiesAsSentWithCrlf) {
  auto signer = MakeSigner({&Ed25519Key()});
  ASSERT_NE(signer, nullptr);
  std::string lf = "From: a@example.com\nSubject: lf\n folded\n\nline  \n\n";
  auto sig = signer->Sign(lf);
  ASSERT_TRUE(sig.ok()) << sig.status();
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  EXPECT_EQ(Verify(*sig + crlf, Records({&Ed25519Key()})), std::vector<bool>{true});
}

TEST(DkimSignerTest, TimestampAndExpiry) {
  DkimSignerOptions o;
  o.keys.push_back(Spec(Ed25519Key()));
  o.clock = [] { return int64_t{1795000000}; };
  o.expire_after_seconds = 7 * 86400;
  auto signer = DkimSigner::Create(std::move(o));
  ASSERT_TRUE(signer.ok());
  auto sig = (*signer)->Sign(kMessage);
  ASSERT_TRUE(sig.ok());
  EXPECT_NE(sig->find("t=1795000000;"), std::string::npos) << *sig;
  EXPECT_NE(sig->find("x=1795604800;"), std::string::npos) << *sig;
}

TEST(DkimSignerTest, RejectsBadMessagesAndConfig) {
  auto signer = MakeSigner({&RsaKey()});
  ASSERT_NE(signer, nullptr);
  EXPECT_EQ(signer->Sign("Subject: no from\r\n\r\nb\r\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signer->Sign("From: a@example.com\r\nFrom: b@example.com\r\n\r\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(signer->Sign("From: a@example.com\r\nbroken line\r\n\r\n").status().code(),
            absl::StatusCode::kInvalidArgument);

  DkimSignerOptions no_from;
  no_from.signed_headers = {"To", "Subject"};
  EXPECT_FALSE(DkimSigner::Create(no_from).ok());
  DkimSignerOptions bad_pem;
  bad_pem.keys.push_back({"example.com", "s", "", "not a pem", std::nullopt});
  EXPECT_FALSE(DkimSigner::Create(bad_pem).ok());
  DkimSignerOptions wrong_type;
  wrong_type.keys.push_back(Spec(RsaKey()));
  wrong_type.keys.back().algorithm = crypto::DkimKeyType::kEd25519;
  EXPECT_FALSE(DkimSigner::Create(wrong_type).ok());
  DkimSignerOptions missing_file;
  missing_file.keys.push_back({"example.com", "s", "/nonexistent/key.pem", "", std::nullopt});
  EXPECT_EQ(DkimSigner::Create(missing_file).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace salvo::dkim
