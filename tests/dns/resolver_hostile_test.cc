// The resolver against a scripted DNS server: server failures, silence,
// negative caching with an SOA, and hostile answers (truncated, oversized,
// mismatched ids, compression loops, garbage). Each must end as a clear
// temporary failure (or success where the answer is usable), never a crash.
#include <gtest/gtest.h>

#include "dns/outcome.h"
#include "dns/resolver.h"
#include "engine/base/strings.h"
#include "engine/loop/ops.h"
#include "tests/dns/resolver_fixture.h"
#include "tests/dns/scripted_dns_server.h"
#include "tests/dns/wire_builder.h"

namespace salvo::dns {
namespace {

using namespace std::chrono_literals;
using testing::Encode;
using testing::ReceivedQuery;
using testing::RunWithResolver;
using testing::ScriptedDnsServer;
using testing::WireMessage;

// Short timeouts: a silent server costs timeout x tries.
ResolverOptions FastOptions(const ScriptedDnsServer& server) {
  ResolverOptions o;
  o.servers = {server.address()};
  o.timeout = 200ms;
  o.tries = 1;
  return o;
}

WireMessage ReplyTo(const ReceivedQuery& q) {
  WireMessage w;
  w.id = q.id;
  w.question_name = q.name;
  w.question_type = q.type;
  return w;
}

// A well-behaved zone: example.test MX 10 mx.example.test, which has 192.0.2.25.
std::vector<std::string> GoodZone(const ReceivedQuery& q) {
  WireMessage w = ReplyTo(q);
  if (q.type == RrType::kMx) {
    w.answers = {testing::MxRecordRr(q.name, 300, 10, "mx.example.test")};
  } else if (q.type == RrType::kA) {
    w.answers = {testing::ARr(q.name, 300, "192.0.2.25")};
  } else {
    w.authority = {testing::SoaRr("example.test", 300, 300)};
  }
  return {Encode(w)};
}

absl::StatusOr<MxSet> ResolveOnce(const ScriptedDnsServer& server, const std::string& domain) {
  absl::StatusOr<MxSet> result = absl::UnknownError("not run");
  RunWithResolver(FastOptions(server),
                  [&](Resolver& r) -> Task<void> { result = co_await r.ResolveMx(domain); });
  return result;
}

void ExpectTemporary(const absl::StatusOr<MxSet>& result, std::string_view reason_part) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
  EXPECT_FALSE(IsPermanentDnsFailure(result.status()));
  EXPECT_NE(result.status().message().find(ToAbsl(reason_part)), absl::string_view::npos)
      << result.status();
}

TEST(ResolverHostileTest, WellBehavedScriptedZoneResolves) {
  ScriptedDnsServer server(GoodZone);
  auto set = ResolveOnce(server, "example.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->hosts[0].addresses[0].ToString(), "192.0.2.25");
}

TEST(ResolverHostileTest, ServfailAndRefusedAreTemporary) {
  for (Rcode rcode : {Rcode::kServFail, Rcode::kRefused}) {
    ScriptedDnsServer server([rcode](const ReceivedQuery& q) {
      WireMessage w = ReplyTo(q);
      w.rcode = rcode;
      return std::vector<std::string>{Encode(w)};
    });
    ExpectTemporary(ResolveOnce(server, "example.test"), RcodeName(rcode));
  }
}

TEST(ResolverHostileTest, SilentServerTimesOutTemporarily) {
  ScriptedDnsServer server([](const ReceivedQuery&) { return std::vector<std::string>{}; });
  ExpectTemporary(ResolveOnce(server, "example.test"), "timeout");
}

TEST(ResolverHostileTest, MismatchedIdIsIgnored) {
  // Only wrong ids: nothing matches, so the query times out.
  ScriptedDnsServer wrong([](const ReceivedQuery& q) {
    auto replies = GoodZone(q);
    replies[0][0] ^= 0x5A;
    return replies;
  });
  ExpectTemporary(ResolveOnce(wrong, "example.test"), "timeout");
  // A forged answer with a wrong id first, then the real one: the real one wins.
  ScriptedDnsServer forged_first([](const ReceivedQuery& q) {
    WireMessage forged = ReplyTo(q);
    forged.id = q.id ^ 0xFFFF;
    forged.answers = {testing::MxRecordRr(q.name, 300, 10, "evil.example.test")};
    std::vector<std::string> replies = {Encode(forged)};
    for (std::string& r : GoodZone(q)) replies.push_back(std::move(r));
    return replies;
  });
  auto set = ResolveOnce(forged_first, "example.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->hosts[0].name, "mx.example.test");
}

TEST(ResolverHostileTest, CutShortAnswerIsTemporary) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    auto replies = GoodZone(q);
    replies[0].resize(replies[0].size() - 5);  // header and question intact, record cut
    return replies;
  });
  ExpectTemporary(ResolveOnce(server, "example.test"), "malformed");
}

TEST(ResolverHostileTest, TruncatedUdpAnswerIsRetriedOverTcp) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    if (q.tcp) return GoodZone(q);
    WireMessage w = ReplyTo(q);
    w.flags |= 0x0200;  // TC: "ask again over TCP"
    return std::vector<std::string>{Encode(w)};
  });
  auto set = ResolveOnce(server, "example.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->hosts[0].addresses[0].ToString(), "192.0.2.25");
}

TEST(ResolverHostileTest, TruncatedEvenOverTcpIsTemporary) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    w.flags |= 0x0200;
    return std::vector<std::string>{Encode(w)};
  });
  ExpectTemporary(ResolveOnce(server, "example.test"), "truncated");
}

TEST(ResolverHostileTest, TcpAnswerCutShortIsTemporary) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    w.flags |= 0x0200;
    if (!q.tcp) return std::vector<std::string>{Encode(w)};
    // Announces 65535 bytes, sends 14, closes.
    return std::vector<std::string>{std::string(testing::kRawTcp) + "\xff\xff" +
                                    Encode(w).substr(0, 14)};
  });
  auto result = ResolveOnce(server, "example.test");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable) << result.status();
}

TEST(ResolverHostileTest, CompressionLoopIsTemporary) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    std::string wire = Encode(w);
    size_t answer_at = wire.size();
    wire[7] = 1;  // ANCOUNT = 1
    // Owner: label "b" then a pointer back to that label: an endless name.
    wire += std::string(
        "\x01"
        "b",
        2);
    wire.push_back(static_cast<char>(0xC0 | (answer_at >> 8)));
    wire.push_back(static_cast<char>(answer_at & 0xFF));
    wire += std::string("\x00\x0f\x00\x01\x00\x00\x01\x00\x00\x03\x00\x0a\x00", 13);
    return std::vector<std::string>{wire};
  });
  ExpectTemporary(ResolveOnce(server, "example.test"), "malformed");
}

TEST(ResolverHostileTest, OversizedAnswers) {
  // 3 KB over UDP, more than the EDNS size offered: c-ares takes it as
  // truncated and asks again over TCP, where the same 3 KB arrive.
  ScriptedDnsServer big([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    if (q.type != RrType::kA) return GoodZone(q);
    for (int i = 0; i < 180; ++i) {
      w.answers.push_back(testing::ARr(q.name, 300, "192.0.2." + std::to_string(i)));
    }
    return std::vector<std::string>{Encode(w)};
  });
  auto set = ResolveOnce(big, "example.test");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->hosts[0].addresses.size(), 180u);
  EXPECT_EQ(big.QueryCount("mx.example.test", RrType::kA), 2);  // UDP, then TCP
  // 62 KB datagrams, and a TCP answer with 2000 MX records: parsed, and only
  // the most preferred max_mx_hosts hosts are looked up.
  ScriptedDnsServer huge([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    if (q.type != RrType::kMx) return GoodZone(q);
    for (int i = 0; i < 2000; ++i) {
      w.answers.push_back(testing::MxRecordRr(q.name, 300, i, "mx.example.test"));
    }
    return std::vector<std::string>{Encode(w)};
  });
  auto many = ResolveOnce(huge, "example.test");
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(many->hosts.size(), 10u);
  EXPECT_EQ(many->hosts[0].preference, 0);
}

TEST(ResolverHostileTest, GarbageAndWrongQuestionAreIgnored) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    WireMessage other = ReplyTo(q);
    other.question_name = "other.test";
    return std::vector<std::string>{"\x01\x02garbage", Encode(other)};
  });
  ExpectTemporary(ResolveOnce(server, "example.test"), "timeout");
}

TEST(ResolverHostileTest, NegativeAnswerIsCachedForSoaMinimum) {
  ScriptedDnsServer server([](const ReceivedQuery& q) {
    WireMessage w = ReplyTo(q);
    w.rcode = Rcode::kNxDomain;
    w.authority = {testing::SoaRr("test", 300, 1)};  // negative TTL = min(300, 1) = 1 s
    return std::vector<std::string>{Encode(w)};
  });
  RunWithResolver(FastOptions(server), [&](Resolver& r) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto set = co_await r.ResolveMx("gone.test");
      EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
    }
    EXPECT_EQ(server.QueryCount("gone.test", RrType::kMx), 1);
    co_await SleepFor(1100ms);
    auto set = co_await r.ResolveMx("gone.test");
    EXPECT_EQ(set.status().code(), absl::StatusCode::kNotFound);
  });
  EXPECT_EQ(server.QueryCount("gone.test", RrType::kMx), 2);
}

TEST(ResolverHostileTest, LookupsAfterCloseFailTemporarily) {
  ScriptedDnsServer server(GoodZone);
  salvo::testing::RunOnRing([](const ScriptedDnsServer* s) -> Task<void> {
    auto r = Resolver::Create(FastOptions(*s));
    EXPECT_TRUE(r.ok());
    if (!r.ok()) co_return;
    co_await (*r)->Close();
    auto set = co_await (*r)->ResolveMx("example.test");
    EXPECT_EQ(set.status().code(), absl::StatusCode::kUnavailable);
  }(&server));
  EXPECT_EQ(server.TotalQueries(), 0);
}

Task<void> ResolveInto(Resolver* r, std::string domain, absl::Status* out) {
  *out = (co_await r->ResolveMx(std::move(domain))).status();
}

TEST(ResolverHostileTest, CloseFailsQueriesStillOnTheWire) {
  ScriptedDnsServer silent([](const ReceivedQuery&) { return std::vector<std::string>{}; });
  absl::Status status = absl::UnknownError("not run");
  salvo::testing::RunOnRing([](const ScriptedDnsServer* s, absl::Status* st) -> Task<void> {
    ResolverOptions o = FastOptions(*s);
    o.timeout = 5s;
    auto r = Resolver::Create(o);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) co_return;
    Ring::Current()->gate().Spawn(ResolveInto(r->get(), "example.test", st));
    co_await SleepFor(50ms);
    co_await (*r)->Close();  // well before the 5 s timeout
  }(&silent, &status));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("closing"), absl::string_view::npos) << status;
}

}  // namespace
}  // namespace salvo::dns
