// SASL exchanges, password hashing and verification, the relay rule and the
// connection / authentication-failure limiters.
#include <thread>

#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/limits.h"
#include "engine/smtp/server/relay_policy.h"
#include "engine/smtp/server/sasl.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"

namespace salvo::smtp {
namespace {

using std::string_literals::operator""s;

TEST(Sasl, PlainWithAndWithoutInitialResponse) {
  SaslExchange x(SaslMechanism::kPlain, "");
  SaslStep s = x.Start("\0alice\0secret"s);
  ASSERT_EQ(s.kind, SaslStep::kDone);
  EXPECT_EQ(x.credentials().username, "alice");
  EXPECT_EQ(x.credentials().password, "secret");

  SaslExchange y(SaslMechanism::kPlain, "");
  s = y.Start(std::nullopt);
  ASSERT_EQ(s.kind, SaslStep::kChallenge);
  EXPECT_EQ(s.challenge, "");
  s = y.Respond("alice\0alice\0pw"s);
  ASSERT_EQ(s.kind, SaslStep::kDone);
  EXPECT_EQ(y.credentials().authzid, "alice");

  SaslExchange z(SaslMechanism::kPlain, "");
  EXPECT_EQ(z.Start("alice secret"s).kind, SaslStep::kMalformed);
  SaslExchange w(SaslMechanism::kPlain, "");
  EXPECT_EQ(w.Start("\0\0pw"s).kind, SaslStep::kMalformed);
  SaslExchange v(SaslMechanism::kPlain, "");
  EXPECT_EQ(v.Start("a\0b\0c\0d"s).kind, SaslStep::kMalformed);
}

TEST(Sasl, Login) {
  SaslExchange x(SaslMechanism::kLogin, "");
  SaslStep s = x.Start(std::nullopt);
  EXPECT_EQ(s.challenge, "Username:");
  s = x.Respond("bob");
  EXPECT_EQ(s.challenge, "Password:");
  s = x.Respond("pw");
  ASSERT_EQ(s.kind, SaslStep::kDone);
  EXPECT_EQ(x.credentials().username, "bob");
  EXPECT_EQ(x.credentials().password, "pw");
  SaslExchange y(SaslMechanism::kLogin, "");
  EXPECT_EQ(y.Start("bob").challenge, "Password:");
}

TEST(Sasl, CramMd5) {
  SaslExchange x(SaslMechanism::kCramMd5, "<1896.697170952@postoffice.reston.mci.net>");
  SaslStep s = x.Start(std::nullopt);
  EXPECT_EQ(s.challenge, "<1896.697170952@postoffice.reston.mci.net>");
  s = x.Respond("tim B913A602C7EDA7A495B4E6E7334D3890");
  ASSERT_EQ(s.kind, SaslStep::kDone);
  EXPECT_EQ(x.credentials().digest, "b913a602c7eda7a495b4e6e7334d3890");
  SaslExchange y(SaslMechanism::kCramMd5, "<c>");
  EXPECT_EQ(y.Start("ir").kind, SaslStep::kMalformed);
  SaslExchange z(SaslMechanism::kCramMd5, "<c>");
  z.Start(std::nullopt);
  EXPECT_EQ(z.Respond("tim 1234").kind, SaslStep::kMalformed);
}

TEST(Credentials, Rfc2195Vector) {
  EXPECT_EQ(CramMd5Digest("tanstaaftanstaaf", "<1896.697170952@postoffice.reston.mci.net>"),
            "b913a602c7eda7a495b4e6e7334d3890");
}

TEST(Credentials, HashAndVerify) {
  auto h = HashPassword("correct horse", 1000);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->rfind("pbkdf2-sha256$1000$", 0), 0u) << *h;
  EXPECT_TRUE(ValidatePasswordHash(*h).ok());
  EXPECT_TRUE(*VerifyPassword(*h, "correct horse"));
  EXPECT_FALSE(*VerifyPassword(*h, "correct horsf"));
  auto h2 = HashPassword("correct horse", 1000);
  EXPECT_NE(*h, *h2) << "salted";
  EXPECT_FALSE(HashPassword("x", 10).ok());
  for (std::string bad : {"", "md5$1$a$b", "pbkdf2-sha256$10$c2FsdHNhbHQ=$a2V5a2V5a2V5a2V5a2V5",
                          "pbkdf2-sha256$1000$!!$!!", "pbkdf2-sha256$1000$c2FsdHNhbHQ="}) {
    EXPECT_FALSE(ValidatePasswordHash(bad).ok()) << bad;
  }
}

TEST(Credentials, StoreVerifiesOffTheRing) {
  std::vector<UserAccount> users = {{"alice", *HashPassword("pw-a", 1000), ""},
                                    {"tim", *HashPassword("x", 1000), "tanstaaftanstaaf"}};
  auto store = CredentialStore::Create(users, 2);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->has_cram_md5_secrets());
  std::vector<bool> results;
  std::thread::id ring_thread = std::this_thread::get_id();
  bool same_thread_after = false;
  salvo::testing::RunOnRing([&]() -> Task<void> {
    SaslCredentials c;
    c.username = "alice";
    c.password = "pw-a";
    results.push_back(co_await (*store)->Verify(c));
    c.password = "wrong";
    results.push_back(co_await (*store)->Verify(c));
    c.username = "mallory";
    results.push_back(co_await (*store)->Verify(c));
    c.username = "alice";
    c.password = "pw-a";
    c.authzid = "tim";  // acting for another user: refused
    results.push_back(co_await (*store)->Verify(c));
    SaslCredentials cram;
    cram.mechanism = SaslMechanism::kCramMd5;
    cram.username = "tim";
    cram.challenge = "<1896.697170952@postoffice.reston.mci.net>";
    cram.digest = "b913a602c7eda7a495b4e6e7334d3890";
    results.push_back(co_await (*store)->Verify(cram));
    cram.username = "alice";  // no CRAM secret
    results.push_back(co_await (*store)->Verify(cram));
    same_thread_after = std::this_thread::get_id() == ring_thread;
  }());
  EXPECT_EQ(results, (std::vector<bool>{true, false, false, false, true, false}));
  EXPECT_TRUE(same_thread_after) << "Verify resumes on the ring's thread";
}

TEST(Credentials, StoreRejectsBadAccounts) {
  EXPECT_FALSE(CredentialStore::Create({{"a", "plain-text", ""}}).ok());
  auto h = *HashPassword("x", 1000);
  EXPECT_FALSE(CredentialStore::Create({{"a", h, ""}, {"a", h, ""}}).ok());
  EXPECT_FALSE(CredentialStore::Create({{"", h, ""}}).ok());
}

SocketAddress Addr(const char* s) { return *SocketAddress::Parse(s); }

TEST(RelayPolicy, NetworksDomainsAndAuth) {
  RelayPolicy p;
  p.relay_networks.push_back(*NetworkRange::Parse("10.1.0.0/16"));
  p.relay_networks.push_back(*NetworkRange::Parse("2001:db8::/32"));
  p.relay_networks.push_back(*NetworkRange::Parse("192.0.2.7"));
  p.local_domains = {"Bounces.Salvo.Test"};
  EXPECT_TRUE(p.AcceptsRecipient(Addr("10.1.200.3:1"), false, "gmail.com"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("[::ffff:10.1.2.3]:1"), false, "gmail.com"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("[2001:db8:1::5]:1"), false, "gmail.com"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("192.0.2.7:1"), false, "gmail.com"));
  EXPECT_FALSE(p.AcceptsRecipient(Addr("192.0.2.8:1"), false, "gmail.com"));
  EXPECT_FALSE(p.AcceptsRecipient(Addr("10.2.0.1:1"), false, "gmail.com"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("10.2.0.1:1"), true, "gmail.com"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("10.2.0.1:1"), false, "bounces.salvo.test"));
  EXPECT_TRUE(p.AcceptsRecipient(Addr("10.2.0.1:1"), false, ""));  // <postmaster>
  EXPECT_FALSE(p.AcceptsRecipient(Addr("10.2.0.1:1"), false, "sub.bounces.salvo.test"));
  EXPECT_EQ(NetworkRange::Parse("10.1.2.3/16")->ToString(), "10.1.0.0/16");
  EXPECT_FALSE(NetworkRange::Parse("10.1.2.3/33").ok());
  EXPECT_FALSE(NetworkRange::Parse("example.com/8").ok());
  EXPECT_TRUE(NetworkRange::Parse("0.0.0.0/0")->Contains(Addr("8.8.8.8:1")));
}

TEST(Limits, ConnectionLimiter) {
  ConnectionLimiter l(3, 2);
  auto a1 = l.TryAcquire(Addr("10.0.0.1:1"));
  auto a2 = l.TryAcquire(Addr("10.0.0.1:2"));
  EXPECT_TRUE(a1 && a2);
  EXPECT_FALSE(l.TryAcquire(Addr("10.0.0.1:3"))) << "per address";
  auto b1 = l.TryAcquire(Addr("10.0.0.2:1"));
  EXPECT_TRUE(b1);
  EXPECT_FALSE(l.TryAcquire(Addr("10.0.0.3:1"))) << "total";
  EXPECT_EQ(l.total(), 3);
  a1.reset();
  EXPECT_EQ(l.total(), 2);
  EXPECT_TRUE(l.TryAcquire(Addr("10.0.0.3:1")));
}

TEST(Limits, AuthFailureLimiterWindowAndBound) {
  AuthFailureLimiter l(3, std::chrono::milliseconds(200), 4);
  auto a = Addr("10.0.0.1:1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(l.Blocked(a));
    l.RecordFailure(a);
  }
  EXPECT_TRUE(l.Blocked(a));
  EXPECT_TRUE(l.Blocked(Addr("10.0.0.1:9"))) << "by address, not port";
  EXPECT_FALSE(l.Blocked(Addr("10.0.0.2:1")));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_FALSE(l.Blocked(a)) << "the window has passed";
  for (int i = 0; i < 3; ++i) l.RecordFailure(a);
  EXPECT_TRUE(l.Blocked(a));
  // At most 4 addresses are tracked: a flood of others pushes the oldest out.
  for (int i = 0; i < 100; ++i) {
    l.RecordFailure(Addr(("10.9.0." + std::to_string(i) + ":1").c_str()));
  }
  EXPECT_FALSE(l.Blocked(a));
  EXPECT_FALSE(l.Blocked(Addr("10.9.0.0:1")));
  EXPECT_FALSE(l.Blocked(Addr("10.9.0.99:1"))) << "one failure only";
}

}  // namespace
}  // namespace salvo::smtp
