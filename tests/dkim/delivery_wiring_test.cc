// The pieces that put DKIM into delivery: the [dkim] config section (values,
// and errors that name the key and its line), the DkimKeyring (keys from
// files, reload that keeps the old keys on error, campaign checks), the
// one-click unsubscribe token, and campaign rendering with bulk-sender
// headers whose static body is hashed once — each rendered message signed
// with that shared body hash and checked by python3-dkim.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/config/config_loader.h"
#include "engine/delivery/message_renderer.h"
#include "engine/dkim/dkim_keyring.h"
#include "engine/render/unsubscribe.h"
#include "tests/dkim/test_keys.h"
#include "tests/dkim/verifier.h"

namespace salvo::dkim {
namespace {

using testing::Ed25519Key;
using testing::Records;
using testing::RsaKey;

class KeyFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("salvo-dkim-wiring-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "rsa.pem") << RsaKey().pem;
    std::ofstream(dir_ / "ed.pem") << Ed25519Key().pem;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

ConfigParseResult Parse(const std::string& text) { return ParseConfig(text, "t.toml"); }

TEST(DkimConfig, ReadsTheSectionAndItsKeys) {
  ConfigParseResult r = Parse(R"(
[api]
public_url = "https://mta.example.com/"

[dkim]
canonicalization = "simple/relaxed"
signed_headers = ["From", "To", "Subject"]
oversigned_headers = ["From", "Subject"]
sign_subdomains = false
signing_threads = 3
backlog_wait = "500us"
expire_after = "7d"
missing_key = "defer"
campaign_checks = "error"

[[dkim.key]]
domain = "Example.COM"
selector = "s1"
key_file = "/k/rsa.pem"
algorithm = "rsa-sha256"

[[dkim.key]]
domain = "example.com"
selector = "s2"
key_file = "/k/ed.pem"
algorithm = "ed25519-sha256"
)");
  ASSERT_TRUE(r.ok()) << r.ErrorReport("t.toml");
  const DkimConfig& d = r.config.dkim;
  EXPECT_EQ(r.config.api.public_url, "https://mta.example.com");
  EXPECT_FALSE(d.header_relaxed);
  EXPECT_TRUE(d.body_relaxed);
  EXPECT_EQ(d.signed_headers.size(), 3u);
  EXPECT_EQ(d.oversigned_headers.size(), 2u);
  EXPECT_FALSE(d.sign_subdomains);
  EXPECT_EQ(d.signing_threads, 3);
  EXPECT_EQ(d.backlog_wait, std::chrono::microseconds(500));
  EXPECT_EQ(d.expire_after, std::chrono::hours(7 * 24));
  EXPECT_EQ(d.missing_key, DkimMissingKey::kDefer);
  EXPECT_EQ(d.campaign_checks, CampaignCheck::kError);
  ASSERT_EQ(d.keys.size(), 2u);
  EXPECT_EQ(d.keys[0].domain, "example.com");
  EXPECT_EQ(d.keys[0].algorithm, DkimAlgorithm::kRsaSha256);
  EXPECT_EQ(d.keys[1].algorithm, DkimAlgorithm::kEd25519Sha256);
}

TEST(DkimConfig, DefaultsWithoutTheSection) {
  ConfigParseResult r = Parse("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.config.dkim.keys.empty());
  EXPECT_TRUE(r.config.dkim.header_relaxed && r.config.dkim.body_relaxed);
  EXPECT_EQ(r.config.dkim.missing_key, DkimMissingKey::kSendUnsigned);
  EXPECT_EQ(r.config.dkim.campaign_checks, CampaignCheck::kWarn);
  EXPECT_EQ(r.config.dkim.backlog_wait, std::chrono::milliseconds(2));
}

TEST(DkimConfig, ErrorsNameTheKeyAndLine) {
  ConfigParseResult r = Parse(
      "[dkim]\n"                        // 1
      "canonicalization = \"loose\"\n"  // 2
      "missing_key = \"drop\"\n"        // 3
      "signed_headers = [\"To\"]\n"     // 4
      "colour = 1\n"                    // 5
      "[[dkim.key]]\n"                  // 6
      "domain = \"example.com\"\n"      // 7
      "selector = \"s1\"\n"             // 8
      "key_file = \"/k\"\n"             // 9
      "algorithm = \"dsa\"\n"           // 10
      "[[dkim.key]]\n"                  // 11
      "domain = \"example.com\"\n"      // 12
      "selector = \"s1\"\n"             // 13
      "[api]\n"                         // 14
      "public_url = \"ftp://x\"\n");    // 15
  ASSERT_FALSE(r.ok());
  std::string report = r.ErrorReport("t.toml");
  for (const char* want : {"t.toml:2:", "dkim.canonicalization", "t.toml:3:", "dkim.missing_key",
                           "t.toml:4:", "must include \"From\"", "dkim.colour", "t.toml:10:",
                           "dkim.key[0].algorithm", "dkim.key[1].key_file: missing required key",
                           "already has a key with selector", "t.toml:15:", "api.public_url"}) {
    EXPECT_NE(report.find(want), std::string::npos) << want << " not in:\n" << report;
  }
}

TEST(DkimConfig, BacklogWaitIsBounded) {
  for (const char* bad : {"\"60ms\"", "\"1s\"", "\"-1ms\"", "\"soon\"", "5"}) {
    ConfigParseResult r = Parse(std::string("[dkim]\nbacklog_wait = ") + bad + "\n");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.ErrorReport("t.toml").find("dkim.backlog_wait"), std::string::npos)
        << bad << ": " << r.ErrorReport("t.toml");
  }
  ConfigParseResult off = Parse("[dkim]\nbacklog_wait = \"0s\"\n");
  ASSERT_TRUE(off.ok()) << off.ErrorReport("t.toml");
  EXPECT_EQ(off.config.dkim.backlog_wait, Duration::zero());
}

TEST_F(KeyFiles, KeyringLoadsReloadsAndKeepsKeysOnABadReload) {
  DkimConfig c;
  c.keys.push_back({.domain = "example.com", .selector = "rsa2026", .key_file = Path("rsa.pem")});
  auto keyring = DkimKeyring::Create(c);
  ASSERT_TRUE(keyring.ok()) << keyring.status();
  EXPECT_TRUE((*keyring)->signing());
  EXPECT_TRUE((*keyring)->signer()->HasKeyFor("example.com"));

  DkimConfig bad = c;
  bad.keys.push_back({.domain = "example.org", .selector = "x", .key_file = Path("missing.pem")});
  EXPECT_FALSE((*keyring)->Reload(bad).ok());
  EXPECT_TRUE((*keyring)->signer()->HasKeyFor("example.com"));
  EXPECT_EQ((*keyring)->config()->keys.size(), 1u);

  DkimConfig swapped = c;
  swapped.keys[0].algorithm = DkimAlgorithm::kEd25519Sha256;  // the file holds an rsa key
  EXPECT_FALSE((*keyring)->Reload(swapped).ok());

  DkimConfig good = c;
  good.keys.push_back({.domain = "example.net", .selector = "ed2026", .key_file = Path("ed.pem")});
  ASSERT_TRUE((*keyring)->Reload(good).ok());
  EXPECT_TRUE((*keyring)->signer()->HasKeyFor("example.net"));

  c.keys[0].key_file = Path("missing.pem");
  EXPECT_FALSE(DkimKeyring::Create(c).ok());
}

TEST_F(KeyFiles, CampaignProblems) {
  DkimConfig c;
  c.keys.push_back({.domain = "example.com", .selector = "rsa2026", .key_file = Path("rsa.pem")});
  auto keyring = *DkimKeyring::Create(c);
  using Tags = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(keyring->CampaignProblems("News <n@example.com>", {}, false).size(), 1u);  // no URL
  keyring->set_public_url("https://mta.example.com");
  EXPECT_TRUE(keyring->CampaignProblems("News <n@news.example.com>", {}, false).empty());
  auto p = keyring->CampaignProblems("n@other.org", {}, false);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_NE(p[0].find("other.org"), std::string::npos);
  EXPECT_EQ(keyring->CampaignProblems("n@example.com", Tags{{"unsubscribe", "off"}}, false).size(),
            1u);
  EXPECT_TRUE(keyring
                  ->CampaignProblems("n@example.com",
                                     Tags{{"unsubscribe", "off"}, {"mail_type", "transactional"}},
                                     false)
                  .empty());
  EXPECT_TRUE(keyring->CampaignProblems("{{from}}", {}, false).empty());  // per recipient
}

TEST(UnsubscribeToken, RoundTripsAndRefusesForgeries) {
  render::UnsubscribeCodec codec("0123456789abcdef0123456789abcdef");
  render::UnsubscribeTarget t;
  for (size_t i = 0; i < t.recipient.size(); ++i) {
    t.recipient[i] = static_cast<uint8_t>(i);
    t.campaign[i] = static_cast<uint8_t>(200 + i);
  }
  t.address = "Ann.Smith+news@example.com";
  std::string token = codec.Token(t);
  for (char c : token) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << token;
  auto back = codec.Verify(token);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->address, t.address);
  EXPECT_EQ(back->recipient, t.recipient);
  EXPECT_EQ(back->campaign, t.campaign);

  std::string flipped = token;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  EXPECT_TRUE(absl::IsPermissionDenied(codec.Verify(flipped).status()));
  render::UnsubscribeCodec other("another secret, 32 bytes long...");
  EXPECT_TRUE(absl::IsPermissionDenied(other.Verify(token).status()));
  render::VerpCodec verp("0123456789abcdef0123456789abcdef");
  EXPECT_FALSE(codec.Verify(verp.Token(t.recipient)).ok());  // a VERP token is no link
  EXPECT_TRUE(absl::IsInvalidArgument(codec.Verify("not base32!").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(codec.Verify("abc").status()));
  EXPECT_EQ(render::UnsubscribeUrl("https://m.example", "tok"),
            "https://m.example/v1/unsubscribe/tok");
}

delivery::LeasedRecipient Recipient(int i) {
  delivery::LeasedRecipient r;
  r.due.id = queue::RecipientId(0x0193000000007000ull, 100 + i);
  r.due.content = queue::ContentId(0x0193000000007000ull, 7);
  r.address = "r" + std::to_string(i) + "@example.net";
  r.variables = {{"name", "Reader " + std::to_string(i)}};
  return r;
}

std::shared_ptr<const delivery::LoadedContent> Campaign(const std::string& text,
                                                        const std::string& html) {
  queue::Campaign c;
  c.message_template.headers = {{"From", "News <news@example.com>"}, {"Subject", "Hello {{name}}"}};
  c.message_template.text = text;
  c.message_template.html = html;
  c.settings.envelope_from = "news@example.com";
  c.settings.metadata = {{"list_id", "weekly.example.com"},
                         {"customer", "acme"},
                         {"unsubscribe_mailto", "unsub@example.com"},
                         {"precedence", "bulk"}};
  auto loaded = delivery::PrepareContent(queue::Content(std::move(c)));
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return *loaded;
}

TEST(CampaignSigning, StaticBodyHashedOnceSignsEveryRecipient) {
  auto content = Campaign("Same text for all.\n\n\n", "<p>Same for all \xE2\x80\x94 8-bit</p>");
  ASSERT_TRUE(content->campaign->static_body());
  delivery::MessageRenderer renderer("mta.example.com", "0123456789abcdef0123456789abcdef", "");
  DkimSignerOptions o;
  o.keys = {testing::Spec(RsaKey()), testing::Spec(Ed25519Key())};
  auto signer = DkimSigner::Create(o);
  ASSERT_TRUE(signer.ok()) << signer.status();
  std::vector<std::string> signed_messages;
  std::optional<DkimBodyHash> shared;
  std::string first_body;
  for (int i = 0; i < 3; ++i) {
    std::string out;
    smtp::Envelope envelope;
    ASSERT_TRUE(
        renderer.RenderCampaign(*content, Recipient(i), envelope, out, "https://mta.example.com")
            .ok());
    std::string body = out.substr(out.find("\r\n\r\n") + 4);
    if (i == 0) {
      first_body = body;
      shared = (*signer)->HashBody(body);
    }
    EXPECT_EQ(body, first_body) << "a static body must be the same bytes for everyone";
    EXPECT_NE(out.find("List-Unsubscribe: <https://mta.example.com/v1/unsubscribe/"),
              std::string::npos);
    EXPECT_NE(out.find("<mailto:unsub@example.com?subject=unsubscribe>"), std::string::npos);
    EXPECT_NE(out.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
    EXPECT_NE(out.find("List-Id: <weekly.example.com>\r\n"), std::string::npos);
    EXPECT_NE(out.find("Precedence: bulk\r\n"), std::string::npos);
    EXPECT_NE(out.find(":acme:bulk:mta.example.com\r\n"), std::string::npos);
    auto sig = (*signer)->Sign(out, *shared);
    ASSERT_TRUE(sig.ok()) << sig.status();
    signed_messages.push_back(*sig + out);
  }
  auto results = testing::VerifyAll(signed_messages, Records({&RsaKey(), &Ed25519Key()}));
  for (const auto& r : results) EXPECT_EQ(r, (std::vector<bool>{true, true}));
}

TEST(CampaignSigning, PerRecipientBodyIsNotStatic) {
  auto content = Campaign("Dear {{name}},\n", "");
  EXPECT_FALSE(content->campaign->static_body());
  delivery::MessageRenderer renderer("mta.example.com", "0123456789abcdef0123456789abcdef", "");
  std::string a, b;
  smtp::Envelope envelope;
  ASSERT_TRUE(renderer.RenderCampaign(*content, Recipient(1), envelope, a).ok());
  ASSERT_TRUE(renderer.RenderCampaign(*content, Recipient(2), envelope, b).ok());
  EXPECT_NE(a.substr(a.find("\r\n\r\n")), b.substr(b.find("\r\n\r\n")));
  // No public_url: no one-click link, only the mailto.
  EXPECT_EQ(a.find("List-Unsubscribe-Post"), std::string::npos);
  EXPECT_NE(a.find("List-Unsubscribe: <mailto:unsub@example.com"), std::string::npos);
}

}  // namespace
}  // namespace salvo::dkim
