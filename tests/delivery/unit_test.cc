// The delivery engine's I/O-free parts: rate limiter, backoff, source
// picking, outcome mapping, destination settings; and the delivery log's
// rotation on a real file.
#include <filesystem>
#include <fstream>

#include "engine/delivery/backoff.h"
#include "engine/delivery/delivery_log.h"
#include "engine/delivery/destination_settings.h"
#include "engine/delivery/outcome_mapping.h"
#include "engine/delivery/outcome_recorder.h"
#include "engine/delivery/rate_limiter.h"
#include "engine/delivery/read_ahead_budget.h"
#include "engine/delivery/source_picker.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace salvo::delivery {
namespace {

using namespace std::chrono_literals;
using Kind = queue::DeliveryOutcome::Kind;

TEST(RateLimiter, PacesWithoutBursts) {
  RateLimiter r(Rate{.count = 10, .period = 1s});
  Deadline t0 = Clock::now();
  // Ten reservations at the same instant get slots 100 ms apart.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.Reserve(t0), t0 + i * 100ms);
  // Never more than 10 in any one-second window.
  EXPECT_GE(r.Reserve(t0), t0 + 1s);
}

TEST(RateLimiter, TryAcquireAndScale) {
  RateLimiter r(Rate{.count = 2, .period = 1s});
  Deadline t0 = Clock::now();
  EXPECT_TRUE(r.TryAcquire(t0));
  EXPECT_FALSE(r.TryAcquire(t0 + 100ms));
  EXPECT_EQ(r.NextFree(t0), t0 + 500ms);
  r.SetScale(0.5);  // backoff: half the rate
  EXPECT_TRUE(r.TryAcquire(t0 + 500ms));
  EXPECT_EQ(r.NextFree(t0 + 500ms), t0 + 1500ms);
  RateLimiter unlimited(std::nullopt);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.TryAcquire(t0));
}

TEST(SiteBackoff, SlowsDownOnTemporaryFailuresAndRecovers) {
  BackoffOptions o{.window = 10,
                   .min_attempts = 5,
                   .trigger_share = 0.5,
                   .factor = 0.5,
                   .max_level = 3,
                   .recovery_successes = 4,
                   .min_hold = 0s};
  SiteBackoff b("mx.example", o);
  Deadline t = Clock::now();
  EXPECT_EQ(b.ScaledCap(8), 8);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(b.Record(false, true, "421 busy", t));
  EXPECT_TRUE(b.Record(false, true, "421 busy", t));  // 5 of 5
  EXPECT_EQ(b.level(), 1);
  EXPECT_EQ(b.ScaledCap(8), 4);
  EXPECT_DOUBLE_EQ(b.scale(), 0.5);
  // 5xx are not load signals; successes in a row bring it back.
  EXPECT_FALSE(b.Record(true, false, "", t));
  EXPECT_FALSE(b.Record(true, false, "", t));
  EXPECT_FALSE(b.Record(true, false, "", t));
  EXPECT_TRUE(b.Record(true, false, "", t));
  EXPECT_EQ(b.level(), 0);
  EXPECT_EQ(b.ScaledCap(1), 1);
}

TEST(SiteBackoff, ReplyPatternTriggersAtOnceAndHoldDelaysRecovery) {
  BackoffOptions o{
      .recovery_successes = 1, .min_hold = 1h, .reply_patterns = {"too many connections"}};
  SiteBackoff b("mx.example", o);
  Deadline t = Clock::now();
  EXPECT_TRUE(b.Record(false, true, "421 4.7.0 Too Many Connections from you", t));
  EXPECT_EQ(b.level(), 1);
  EXPECT_FALSE(b.Record(true, false, "", t + 1min));  // held for an hour
  EXPECT_TRUE(b.Record(true, false, "", t + 2h));
  EXPECT_EQ(b.level(), 0);
}

TEST(SourcePicker, FollowsWeightsSmoothly) {
  SourcePool pool{.name = "bulk",
                  .sources = {{*SocketAddress::Parse("127.0.0.3", 0), "a.example", 3},
                              {*SocketAddress::Parse("127.0.0.4", 0), "b.example", 1}}};
  SourcePicker p(&pool, "default.example");
  ASSERT_EQ(p.sources().size(), 2u);
  std::string seq;
  for (int i = 0; i < 8; ++i) seq += p.Next() == 0 ? 'a' : 'b';
  EXPECT_EQ(std::count(seq.begin(), seq.end(), 'a'), 6) << seq;
  EXPECT_EQ(seq.find("bb"), std::string::npos) << seq;
  EXPECT_EQ(p.sources()[1].ehlo, "b.example");
  SourcePicker none(nullptr, "default.example");
  EXPECT_EQ(none.Next(), 0);
  EXPECT_FALSE(none.sources()[0].address.has_value());
  EXPECT_EQ(none.sources()[0].ehlo, "default.example");
}

smtp::SmtpReply Reply(int code, std::string enhanced, std::string text, bool local = false) {
  smtp::SmtpReply r;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.lines = {std::move(text)};
  r.local = local;
  return r;
}

TEST(OutcomeMapping, RepliesMapToDeliveredDeferredFailed) {
  AttemptPeer peer{.host = "mx.example", .ip = "192.0.2.1"};
  auto ok = OutcomeFromReply(Reply(250, "2.0.0", "ok"), peer);
  EXPECT_EQ(ok.kind, Kind::kDelivered);
  EXPECT_EQ(ok.response.host, "mx.example");
  EXPECT_EQ(ok.response.ip, "192.0.2.1");
  EXPECT_EQ(OutcomeFromReply(Reply(451, "4.7.1", "later"), peer).kind, Kind::kDeferred);
  EXPECT_EQ(OutcomeFromReply(Reply(421, "", "closing"), peer).kind, Kind::kDeferred);
  auto bad = OutcomeFromReply(Reply(550, "5.1.1", "unknown"), peer);
  EXPECT_EQ(bad.kind, Kind::kFailed);
  EXPECT_EQ(bad.response.code, 550);
  EXPECT_EQ(bad.response.enhanced_status, "5.1.1");
  EXPECT_EQ(bad.response.text, "unknown");
  auto local = OutcomeFromReply(Reply(552, "5.3.4", "too big", true), peer);
  EXPECT_EQ(local.kind, Kind::kFailed);
  EXPECT_NE(local.reason.find("too big"), std::string::npos);
}

TEST(OutcomeMapping, ConnectionAndDnsFailures) {
  auto conn = OutcomeFromConnectionError(absl::DeadlineExceededError("timed out"),
                                         smtp::SmtpReply(), {"mx", "192.0.2.1"}, "connect");
  EXPECT_EQ(conn.kind, Kind::kDeferred);
  EXPECT_EQ(conn.response.code, 0);
  EXPECT_NE(conn.reason.find("connect: timed out"), std::string::npos);
  auto greeting = OutcomeFromConnectionError(absl::AbortedError("refused"),
                                             Reply(554, "", "go away"), {"mx", "ip"}, "greeting");
  EXPECT_EQ(greeting.kind, Kind::kDeferred);  // the next attempt may find another host
  EXPECT_EQ(greeting.response.code, 554);
  EXPECT_EQ(OutcomeFromDnsError(absl::NotFoundError("NXDOMAIN"), "x.test").kind, Kind::kFailed);
  auto null_mx = OutcomeFromDnsError(absl::FailedPreconditionError("null MX"), "x.test");
  EXPECT_EQ(null_mx.kind, Kind::kFailed);
  EXPECT_EQ(null_mx.response.enhanced_status, "5.1.10");
  auto servfail = OutcomeFromDnsError(absl::UnavailableError("SERVFAIL"), "x.test");
  EXPECT_EQ(servfail.kind, Kind::kDeferred);
  EXPECT_EQ(servfail.response.enhanced_status, "4.4.3");
}

TEST(OutcomeMapping, RetryScheduleAndMaxAge) {
  queue::RetryPolicy retry;
  retry.intervals = {absl::Seconds(10), absl::Seconds(60)};
  retry.jitter = 0;
  retry.max_age = absl::Minutes(5);
  absl::Time accepted = absl::FromUnixSeconds(1'000'000);
  queue::DeliveryOutcome o;
  o.kind = Kind::kDeferred;
  ApplyRetryPolicy(retry, 0, accepted, accepted + absl::Seconds(1), o);
  ASSERT_TRUE(o.retry_at.has_value());
  EXPECT_EQ(*o.retry_at, accepted + absl::Seconds(11));
  o.retry_at.reset();
  ApplyRetryPolicy(retry, 1, accepted, accepted + absl::Seconds(20), o);
  EXPECT_EQ(*o.retry_at, accepted + absl::Seconds(80));
  o.retry_at.reset();
  ApplyRetryPolicy(retry, 3, accepted, accepted + absl::Minutes(4) + absl::Seconds(30), o);
  EXPECT_EQ(*o.retry_at, accepted + absl::Minutes(5));  // the last try at the limit
  queue::DeliveryOutcome late;
  late.kind = Kind::kDeferred;
  late.reason = "451 busy";
  ApplyRetryPolicy(retry, 4, accepted, accepted + absl::Minutes(6), late);
  EXPECT_EQ(late.kind, Kind::kFailed);
  EXPECT_NE(late.reason.find("expired"), std::string::npos);
  EXPECT_NE(late.reason.find("451 busy"), std::string::npos);
}

TEST(DestinationSettings, RulesByDomainOrMxWithRetryOverrides) {
  Config c;
  c.delivery.defaults.max_connections = 20;
  DestinationRule by_domain{.pattern = *DomainPattern::Parse("capped.test")};
  by_domain.policy = c.delivery.defaults;
  by_domain.policy.max_connections = 2;
  DestinationRule by_mx{.pattern = *DomainPattern::Parse("*.bigmail.test"),
                        .match = MatchOn::kMxHost};
  by_mx.policy = c.delivery.defaults;
  by_mx.policy.max_connections = 7;
  c.delivery.destinations = {by_domain, by_mx};
  DeliveryTuning t;
  t.retry_rules.push_back(
      {.pattern = *DomainPattern::Parse("capped.test"), .schedule = {1s, 2s}, .max_age = 1h});
  auto s1 = SettingsFor(c, t, "capped.test", "mx.other.test");
  EXPECT_EQ(s1->policy.max_connections, 2);
  EXPECT_EQ(s1->rule, "domain:capped.test");
  EXPECT_EQ(s1->retry.intervals.size(), 2u);
  EXPECT_EQ(s1->retry.max_age, absl::Hours(1));
  auto s2 = SettingsFor(c, t, "hosted.test", "mx1.bigmail.test");
  EXPECT_EQ(s2->policy.max_connections, 7);
  EXPECT_EQ(s2->rule, "mx:*.bigmail.test");
  EXPECT_EQ(s2->retry.max_age, absl::FromChrono(c.queue.max_age));
  auto s3 = SettingsFor(c, t, "plain.test", "mx.plain.test");
  EXPECT_EQ(s3->rule, "");
  EXPECT_EQ(s3->policy.max_connections, 20);
  EXPECT_EQ(PolicyForRule(c, "mx:*.bigmail.test")->max_connections, 7);
  EXPECT_EQ(PolicyForRule(c, "domain:gone.test"), nullptr);
}

TEST(ReadAheadBudget, HeldContentsChargeItUntilTheLastHolderLetsGo) {
  auto budget = std::make_unique<ReadAheadBudget>(10000);
  queue::Content message =
      queue::Message{.envelope_from = "a@b.example", .content = std::string(3000, 'x')};
  size_t bytes = ReadAheadBudget::Bytes(message);
  EXPECT_GT(bytes, 3000u);
  std::shared_ptr<const queue::Content> held = budget->Hold(message);
  EXPECT_EQ(budget->available(), 10000 - bytes);
  EXPECT_EQ(std::get<queue::Message>(*held).content, std::string(3000, 'x'));
  std::shared_ptr<const queue::Content> copy = held;  // a second recipient
  std::vector<std::shared_ptr<const queue::Content>> more;
  for (int i = 0; i < 3; ++i) more.push_back(budget->Hold(message));
  EXPECT_EQ(budget->available(), 0u) << "overdrawn: nothing more is read ahead";
  more.clear();
  EXPECT_EQ(budget->available(), 10000 - bytes);
  held.reset();
  EXPECT_EQ(budget->available(), 10000 - bytes) << "a copy still holds it";
  budget.reset();  // the engine goes first; the content is freed later
  copy.reset();
}

// The delivery log's line, written field by field, against the same line
// built as an nlohmann::json object (an independent writer): byte for byte,
// with a remote reply full of what JSON must escape or replace.
TEST(DeliveryLog, LineMatchesAnIndependentJsonWriter) {
  LeasedRecipient r;
  r.due.id = queue::NewId<queue::RecipientId>();
  r.due.content = queue::NewId<queue::ContentId>();
  r.due.domain = "example.net";
  r.due.attempts = 2;
  r.address = "ann\"o@example.net";
  AttemptContext context{.site = "mx1.example.net:25", .source = "127.0.0.9", .tls = true};
  // Quotes, a backslash, controls, DEL, 8-bit text, ill-formed UTF-8 (a
  // stray byte, a cut sequence, a surrogate) and a NUL.
  constexpr char kText[] =
      "try \"later\"\\ \r\n\t\x01\x7f caf\xc3\xa9 \xff\xfe \xe2\x82 \xf0\x9f\x93\xa7 \xed\xa0\x80 "
      "\0end";
  queue::DeliveryOutcome hostile;
  hostile.kind = Kind::kDeferred;
  hostile.response = {.host = "mx1.example.net",
                      .ip = "127.0.0.2",
                      .code = 451,
                      .enhanced_status = "4.7.1",
                      .text = std::string(kText, sizeof(kText) - 1)};
  hostile.reason = "greylisted \xc0\xaf";
  queue::OutcomeResult deferred{.state = queue::RecipientState::kDeferred,
                                .next_attempt = absl::FromUnixMillis(1795000000123)};
  queue::DeliveryOutcome delivered;
  delivered.kind = Kind::kDelivered;
  delivered.response = {.host = "mx1.example.net",
                        .ip = "127.0.0.2",
                        .code = 250,
                        .text = "2.0.0 Ok: queued as 4AbC"};
  absl::StatusOr<queue::OutcomeResult> failed = absl::UnavailableError("spool \xff gone");
  struct Case {
    const queue::DeliveryOutcome* outcome;
    absl::StatusOr<queue::OutcomeResult> result;
  };
  std::vector<Case> cases = {
      {&hostile, deferred},
      {&delivered, queue::OutcomeResult{.state = queue::RecipientState::kDelivered}},
      {&hostile, failed}};
  for (const Case& c : cases) {
    std::string line = DeliveryLogLine(r, *c.outcome, context, c.result);
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    nlohmann::json j;
    j["time"] = parsed["time"];  // absl::Now() when the line was made
    std::string_view event = OutcomeKindName(c.outcome->kind);
    if (c.result.ok()) event = queue::RecipientStateName(c.result->state);
    j["event"] = event;
    j["recipient"] = r.due.id.ToString();
    j["content"] = r.due.content.ToString();
    j["rcpt"] = r.address;
    j["domain"] = std::string(r.due.domain);
    j["attempt"] = r.due.attempts + 1;
    j["site"] = context.site;
    j["mx"] = c.outcome->response.host;
    j["ip"] = c.outcome->response.ip;
    j["source"] = context.source;
    j["tls"] = context.tls;
    j["code"] = c.outcome->response.code;
    j["enhanced"] = c.outcome->response.enhanced_status;
    j["text"] = c.outcome->response.text;
    if (!c.outcome->reason.empty()) j["reason"] = c.outcome->reason;
    if (c.result.ok() && c.result->next_attempt) j["next_attempt"] = "2026-11-18T11:06:40.123Z";
    if (!c.result.ok()) j["error"] = std::string(c.result.status().message());
    EXPECT_EQ(line, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    EXPECT_EQ(parsed["time"].get<std::string>().size(), 24u) << line;  // 2026-11-24T08:50:27.123Z
  }
}

TEST(DeliveryLog, WritesJsonLinesAndRotatesBySize) {
  char tmpl[] = "/tmp/salvo-dlog-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string path = dir + "/delivery.jsonl";
  {
    auto log = DeliveryLog::Open({.path = path, .max_bytes = 1000, .keep = 2});
    ASSERT_TRUE(log.ok()) << log.status();
    std::string line = "{\"n\":\"" + std::string(90, 'x') + "\"}";
    for (int i = 0; i < 50; ++i) {
      (*log)->Append(line);
      if (i % 5 == 4) (*log)->Flush();
    }
    (*log)->Flush();
  }
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(path + ".1"));
  EXPECT_TRUE(std::filesystem::exists(path + ".2"));
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  for (const std::string& p : {path, path + ".1"}) {
    EXPECT_LE(std::filesystem::file_size(p), 1000u + 100u) << p;
    std::ifstream in(p);
    for (std::string l; std::getline(in, l);) EXPECT_EQ(l.front(), '{');
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace salvo::delivery
