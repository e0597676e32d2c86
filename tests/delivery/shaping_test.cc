// Traffic shaping seen from the remote side: connection caps and message
// rates counted by the receiving MTA (peer_mta.py --events), a site shared by
// domains living on different shards, automatic backoff, weighted source
// addresses with their EHLO names, config reload, and a clean shutdown.
#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "dns/mx_set.h"
#include "fmt/format.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ringbuffer_sink.h"
#include "spdlog/spdlog.h"
#include "tests/delivery/delivery_harness.h"

namespace salvo::delivery::testing {
namespace {

using queue::RecipientState;

struct PeerEvents {
  int max_concurrent = 0;
  int connects = 0;
  int disconnects = 0;
  std::vector<double> message_times;
  std::vector<double> connect_times;
};

PeerEvents ReadEvents(const std::string& path) {
  std::vector<nlohmann::json> events;
  for (const std::string& line : ReadLines(path)) events.push_back(nlohmann::json::parse(line));
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a["t"] < b["t"]; });
  PeerEvents out;
  int open = 0;
  for (const auto& e : events) {
    std::string kind = e["event"];
    if (kind == "connect") {
      ++out.connects;
      out.connect_times.push_back(e["t"]);
      out.max_concurrent = std::max(out.max_concurrent, ++open);
    } else if (kind == "disconnect") {
      ++out.disconnects;
      --open;
    } else if (kind == "message") {
      out.message_times.push_back(e["t"]);
    }
  }
  return out;
}

// The peer's events once it has logged a disconnect for every connect: after
// Salvo's shutdown the peer notes the closes in its own time (up to 10 s).
PeerEvents ReadEventsOnceClosed(const std::string& path) {
  PeerEvents ev = ReadEvents(path);
  for (int i = 0; i < 500 && ev.disconnects < ev.connects; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ev = ReadEvents(path);
  }
  return ev;
}

// The most messages seen in any window [t, t + width).
int MaxInWindow(const std::vector<double>& times, double width) {
  int best = 0;
  for (size_t i = 0; i < times.size(); ++i) {
    int n = 0;
    for (size_t j = i; j < times.size() && times[j] < times[i] + width; ++j) ++n;
    best = std::max(best, n);
  }
  return best;
}

class Shaping : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(TestDns(), nullptr);
    events_ = h_.dir() + "/events.jsonl";
    out_ = h_.dir() + "/peer.jsonl";
  }
  int Peer(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--events", events_, "--pipelining"});
    int port = StartPeer(peer_, "127.0.0.2", 0, out_, std::move(flags));
    EXPECT_GT(port, 0);
    return port;
  }
  void SendEach(const std::string& domain, int n, const std::string& prefix = "u") {
    for (int i = 0; i < n; ++i) h_.Send({prefix + std::to_string(i) + "@" + domain});
  }
  void ExpectAllDelivered() {
    for (auto& [id, f] : h_.Finals()) {
      EXPECT_EQ(f.state, RecipientState::kDelivered) << f.address << ": " << f.reason;
    }
  }

  DeliveryHarness h_;
  ChildProcess peer_;
  std::string events_, out_;
};

DestinationRule Rule(const Config& c, std::string pattern, MatchOn match = MatchOn::kDomain) {
  DestinationRule r{.pattern = *DomainPattern::Parse(pattern), .match = match};
  r.policy = c.delivery.defaults;
  return r;
}

TEST_F(Shaping, capped_domain_never_sees_more_than_two_connections_and_ten_messages_a_second) {
  Config c = TestConfig(Peer());
  DestinationRule rule = Rule(c, "capped.test");
  rule.policy.max_connections = 2;
  rule.policy.max_messages_per_connection = 4;  // reconnects under the cap too
  rule.policy.message_rate = Rate{.count = 10, .period = 1s};
  c.delivery.destinations.push_back(rule);
  h_.Start(c);
  SendEach("capped.test", 30);
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  ExpectAllDelivered();
  h_.Stop();
  PeerEvents ev = ReadEventsOnceClosed(events_);
  ASSERT_EQ(ev.message_times.size(), 30u);
  EXPECT_LE(ev.max_concurrent, 2);
  EXPECT_GE(ev.connects, 8);  // 30 messages at 4 per connection
  // Paced at 100 ms: at most 10 in any second (50 ms allowed for the
  // loopback's jitter between client and server clocks).
  EXPECT_LE(MaxInWindow(ev.message_times, 0.95), 10);
  EXPECT_GE(ev.message_times.back() - ev.message_times.front(), 2.8);
}

TEST_F(Shaping, connection_rate_spaces_new_connections) {
  Config c = TestConfig(Peer());
  DestinationRule rule = Rule(c, "capped.test");
  rule.policy.max_messages_per_connection = 1;  // every message needs a new connection
  rule.policy.connection_rate = Rate{.count = 4, .period = 1s};
  c.delivery.destinations.push_back(rule);
  h_.Start(c);
  SendEach("capped.test", 8);
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  ExpectAllDelivered();
  h_.Stop();
  PeerEvents ev = ReadEventsOnceClosed(events_);
  ASSERT_EQ(ev.connect_times.size(), 8u);
  // 250 ms apart: at most 4 in any second (50 ms allowed for clock jitter).
  EXPECT_LE(MaxInWindow(ev.connect_times, 0.95), 4);
  EXPECT_GE(ev.connect_times.back() - ev.connect_times.front(), 1.6);
}

TEST_F(Shaping, recipients_per_transaction_split_one_message) {
  Config c = TestConfig(Peer());
  DestinationRule rule = Rule(c, "a.test");
  rule.policy.max_recipients_per_transaction = 3;
  c.delivery.destinations.push_back(rule);
  h_.Start(c);
  std::vector<std::string> rcpts;
  for (int i = 0; i < 7; ++i) rcpts.push_back("r" + std::to_string(i) + "@a.test");
  h_.Send(rcpts);
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  ExpectAllDelivered();
  std::multiset<size_t> sizes;
  std::set<std::string> seen;
  for (const std::string& line : ReadLines(out_)) {
    auto r = nlohmann::json::parse(line);
    sizes.insert(r["rcpt_tos"].size());
    for (const auto& a : r["rcpt_tos"]) seen.insert(a.get<std::string>());
  }
  EXPECT_EQ(sizes, (std::multiset<size_t>{1, 3, 3}));
  EXPECT_EQ(seen.size(), 7u);
}

TEST_F(Shaping, one_connection_is_reused_for_every_message) {
  Config c = TestConfig(Peer());
  c.delivery.defaults.max_connections = 1;
  c.delivery.defaults.idle_timeout = 5s;
  h_.Start(c);
  SendEach("a.test", 5);
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  SendEach("b.test", 5, "v");  // same site, after the first ones are done
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  ExpectAllDelivered();
  h_.Stop();
  PeerEvents ev = ReadEventsOnceClosed(events_);
  EXPECT_EQ(ev.message_times.size(), 10u);
  EXPECT_EQ(ev.connects, 1);
  EXPECT_EQ(ev.disconnects, 1);  // QUIT at shutdown
}

TEST_F(Shaping, work_arriving_while_a_held_message_settles_reuses_the_connection) {
  // The peer answers each end of data after 1 s. The first message is held
  // (pipelining across messages) and settled with no work left; the second
  // arrives during that second and must go on the same connection at once,
  // not wait out the 10 s idle timeout of a session nobody woke.
  Config c = TestConfig(Peer({"--data-delay", "1"}));
  c.delivery.defaults.max_connections = 1;
  c.delivery.defaults.idle_timeout = 10s;
  h_.Start(c);
  auto start = std::chrono::steady_clock::now();
  h_.Send({"first@a.test"});
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  h_.Send({"second@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ExpectAllDelivered();
  EXPECT_LT(took, 6.0);
  h_.Stop();
  PeerEvents ev = ReadEventsOnceClosed(events_);
  EXPECT_EQ(ev.message_times.size(), 2u);
  EXPECT_EQ(ev.connects, 1);
}

TEST_F(Shaping, site_shared_by_domains_on_two_shards_is_capped_once) {
  // Two domains owned by different shards whose MX host is the same.
  std::string d0, d1;
  for (int i = 1; i <= 8; ++i) {
    std::string d = fmt::format("s{}.test", i);
    (dns::SiteId(d) % 2 == 0 ? d0 : d1) = d;
  }
  ASSERT_FALSE(d0.empty() || d1.empty());
  Config c = TestConfig(Peer({"--tarpit", "0.05"}));
  DestinationRule rule = Rule(c, "shared.peer.test", MatchOn::kMxHost);
  rule.policy.max_connections = 2;
  rule.policy.max_messages_per_connection = 3;
  c.delivery.destinations.push_back(rule);
  h_.Start(c);
  SendEach(d0, 15);
  SendEach(d1, 15);
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  ExpectAllDelivered();
  h_.Stop();
  PeerEvents ev = ReadEventsOnceClosed(events_);
  EXPECT_EQ(ev.message_times.size(), 30u);
  EXPECT_LE(ev.max_concurrent, 2);
  EXPECT_EQ(ev.connects, ev.disconnects);
}

TEST_F(Shaping, backoff_slows_a_site_answering_4xx_and_recovers) {
  Config c = TestConfig(Peer({"--tempfail-rcpt", "@", "--tempfail-times", "1"}));
  DeliveryTuning t = TestTuning();
  t.backoff = BackoffOptions{.enabled = true,
                             .window = 10,
                             .min_attempts = 5,
                             .trigger_share = 0.5,
                             .factor = 0.5,
                             .max_level = 2,
                             .recovery_successes = 5,
                             .min_hold = 0s};
  // Every change of level is logged: capture the default logger's lines.
  auto captured = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  spdlog::default_logger()->sinks().push_back(captured);
  h_.Start(c, t);
  SendEach("a.test", 20);
  bool done = h_.WaitUntilDone(40s);
  h_.Stop();
  spdlog::default_logger()->sinks().pop_back();
  ASSERT_TRUE(done);
  ExpectAllDelivered();
  DeliveryStats s = h_.engine().stats();
  EXPECT_GE(s.backoff_changes, 2u);  // down, and back up
  EXPECT_EQ(s.delivered, 20u);
  EXPECT_EQ(s.deferred, 20u);
  int slowed = 0, recovered = 0;
  for (const std::string& line : captured->last_formatted()) {
    slowed += line.find("backoff: site mx1.peer.test slowed down") != std::string::npos;
    recovered += line.find("backoff: site mx1.peer.test recovered") != std::string::npos;
  }
  EXPECT_GE(slowed, 1);
  EXPECT_GE(recovered, 1);
  EXPECT_EQ(static_cast<uint64_t>(slowed + recovered), s.backoff_changes);
}

TEST_F(Shaping, source_pool_by_weight_with_each_sources_ehlo_name) {
  Config c = TestConfig(Peer());
  c.source_pools.push_back(
      SourcePool{.name = "bulk",
                 .sources = {{*SocketAddress::Parse("127.0.0.3", 0), "one.salvo.test", 3},
                             {*SocketAddress::Parse("127.0.0.4", 0), "two.salvo.test", 1}}});
  c.delivery.defaults.source_pool = "bulk";
  h_.Start(c);
  SendEach("a.test", 8);
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  ExpectAllDelivered();
  std::map<std::string, int> by_source;
  for (const std::string& line : ReadLines(out_)) {
    auto r = nlohmann::json::parse(line);
    std::string peer = r["peer"], ehlo = r["ehlo"];
    EXPECT_EQ(ehlo, peer == "127.0.0.3" ? "one.salvo.test" : "two.salvo.test") << peer;
    ++by_source[peer];
  }
  EXPECT_EQ(by_source["127.0.0.3"], 6);
  EXPECT_EQ(by_source["127.0.0.4"], 2);
}

TEST_F(Shaping, reload_routes_new_mail_without_losing_any) {
  int port = Peer();
  ChildProcess second;
  std::string out2 = h_.dir() + "/second.jsonl";
  int port2 = StartPeer(second, "127.0.0.1", 0, out2);
  ASSERT_GT(port2, 0);
  Config c = TestConfig(port);
  h_.Start(c);
  h_.Send({"before@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  c.routes.push_back(
      Route{.domain = *DomainPattern::Parse("a.test"), .host = "127.0.0.1", .port = port2});
  h_.engine().Apply(std::make_shared<const Config>(c));
  h_.Send({"after@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  ExpectAllDelivered();
  EXPECT_EQ(ReadLines(out_).size(), 1u);
  auto second_lines = ReadLines(out2);
  ASSERT_EQ(second_lines.size(), 1u);
  EXPECT_NE(second_lines[0].find("after@a.test"), std::string::npos);
}

TEST_F(Shaping, shutdown_releases_leased_recipients_and_quits_sessions) {
  Config c = TestConfig(Peer({"--tarpit", "1"}));
  c.delivery.defaults.max_connections = 1;
  h_.Start(c);
  SendEach("a.test", 5);
  // Wait until the first transaction is under way at the peer.
  for (int i = 0; i < 200 && ReadEvents(events_).connects == 0; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(200ms);
  h_.Stop();
  queue::SpoolStats s = h_.spool().stats();
  EXPECT_EQ(s.in_flight, 0u);
  size_t delivered = 0;
  for (auto& [id, f] : h_.Finals()) delivered += f.state == RecipientState::kDelivered;
  EXPECT_EQ(s.queued + delivered, 5u);
  EXPECT_GE(s.queued, 3u);  // most were still waiting: given back, not lost
  std::this_thread::sleep_for(200ms);
  PeerEvents ev = ReadEventsOnceClosed(events_);
  EXPECT_EQ(ev.connects, ev.disconnects);
}

}  // namespace
}  // namespace salvo::delivery::testing
