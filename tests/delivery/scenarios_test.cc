// Delivery scenarios end to end: the engine takes recipients from a real
// spool, resolves MX records from a real dnsmasq, and delivers to real MTAs
// on 127.0.0.x (aiosmtpd scripted by peer_mta.py, smtp-sink). Every test
// ends with every recipient delivered or failed, with the right reason.
#include <set>

#include "absl/strings/str_cat.h"
#include "engine/render/verp.h"
#include "engine/tls/self_signed.h"
#include "nlohmann/json.hpp"
#include "tests/delivery/delivery_harness.h"

namespace salvo::delivery::testing {
namespace {

using queue::RecipientState;

class DeliveryScenario : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(TestDns(), nullptr); }
  // Peer on 127.0.0.2 (the MX hosts' address) on a fresh port.
  int Peer(std::vector<std::string> flags = {}) {
    out_ = h_.dir() + "/peer.jsonl";
    int port = StartPeer(peer_, "127.0.0.2", 0, out_, std::move(flags));
    EXPECT_GT(port, 0);
    return port;
  }
  std::vector<nlohmann::json> Received() {
    std::vector<nlohmann::json> out;
    for (const std::string& line : ReadLines(out_)) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  DeliveryHarness h_;
  ChildProcess peer_;
  std::string out_;
};

TEST_F(DeliveryScenario, delivered_single_message_shares_one_transaction_per_domain) {
  int port = Peer({"--pipelining"});
  h_.Start(TestConfig(port));
  h_.Send({"x@a.test", "y@a.test", "z@c.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  auto finals = h_.Finals();
  ASSERT_EQ(finals.size(), 3u);
  for (auto& [id, f] : finals) {
    EXPECT_EQ(f.state, RecipientState::kDelivered) << f.address << " " << f.reason;
    EXPECT_EQ(f.response.code, 250);
    EXPECT_EQ(f.response.ip, "127.0.0.2");
    EXPECT_FALSE(f.response.host.empty());
  }
  std::set<std::vector<std::string>> txns;
  for (auto& r : Received()) txns.insert(r["rcpt_tos"].get<std::vector<std::string>>());
  EXPECT_EQ(txns, (std::set<std::vector<std::string>>{{"x@a.test", "y@a.test"}, {"z@c.test"}}));
  h_.Stop();
  std::string log = ReadFile(h_.dir() + "/delivery.jsonl");
  EXPECT_NE(log.find("\"event\":\"delivered\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"rcpt\":\"z@c.test\""), std::string::npos) << log;
}

TEST_F(DeliveryScenario, campaign_rendered_per_recipient_with_verp_return_path) {
  int port = Peer({"--pipelining"});
  std::string secret(32, 'k');
  h_.Start(TestConfig(port), TestTuning(), 2, secret);
  std::vector<queue::RecipientId> ids = h_.SendCampaign({"ann@a.test", "bob@b.test"});
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  for (auto& [id, f] : h_.Finals()) EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
  auto received = Received();
  ASSERT_EQ(received.size(), 2u);
  render::VerpCodec verp(secret);
  for (auto& r : received) {
    std::string rcpt = r["rcpt_tos"][0];
    std::string content = r["content"];
    std::string name = rcpt.substr(0, rcpt.find('@'));
    EXPECT_NE(content.find("Subject: Hello " + name), std::string::npos) << content;
    EXPECT_NE(content.find("Dear " + name + ","), std::string::npos) << content;
    EXPECT_NE(content.find("To: " + rcpt), std::string::npos) << content;
    EXPECT_NE(content.find("Message-ID: <"), std::string::npos);
    EXPECT_NE(content.find("@mta.salvo.test>"), std::string::npos);
    EXPECT_NE(content.find("Date: "), std::string::npos);
    EXPECT_NE(content.find("X-Campaign: spring"), std::string::npos);
    std::string from = r["mail_from"];
    EXPECT_EQ(from.rfind("bounce+", 0), 0u) << from;
    auto key = verp.VerifyAddress(from);
    ASSERT_TRUE(key.ok()) << key.status();
    std::string id_bytes(key->begin(), key->end());
    bool known = false;
    for (auto& id : ids) known = known || id.Bytes() == id_bytes;
    EXPECT_TRUE(known) << from;
  }
}

TEST_F(DeliveryScenario, campaign_messages_pipelined_one_behind_the_other) {
  // Without CHUNKING, each message's end of data goes out in one write with
  // the next message's commands; a message refused at its end fails alone.
  std::string chunks = h_.dir() + "/chunks.jsonl";
  int port = Peer({"--pipelining", "--chunks", chunks, "--reject-data", "Dear rejectme,"});
  h_.Start(TestConfig(port));
  std::vector<std::string> rcpts = {"p1@a.test", "p2@a.test", "rejectme@a.test",
                                    "p3@a.test", "p4@a.test", "p5@a.test"};
  ASSERT_EQ(h_.SendCampaign(rcpts).size(), rcpts.size());
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  auto finals = h_.Finals();
  ASSERT_EQ(finals.size(), rcpts.size());
  for (auto& [id, f] : finals) {
    if (f.address == "rejectme@a.test") {
      EXPECT_EQ(f.state, RecipientState::kFailed) << f.reason;
      EXPECT_EQ(f.response.code, 554);
      EXPECT_EQ(f.response.enhanced_status, "5.7.1");
    } else {
      EXPECT_EQ(f.state, RecipientState::kDelivered) << f.address << " " << f.reason;
      EXPECT_EQ(f.response.code, 250);
    }
  }
  std::set<std::string> got;
  for (auto& r : Received()) got.insert(r["rcpt_tos"][0].get<std::string>());
  EXPECT_EQ(got, (std::set<std::string>{"p1@a.test", "p2@a.test", "p3@a.test", "p4@a.test",
                                        "p5@a.test"}));
  std::string wire = ReadFile(chunks);
  EXPECT_NE(wire.find("\\r\\n.\\r\\nMAIL FROM:<"), std::string::npos) << wire;
}

TEST_F(DeliveryScenario, deferred_then_delivered) {
  int port = Peer({"--tempfail-rcpt", "@", "--tempfail-times", "2"});
  h_.Start(TestConfig(port));
  h_.Send({"once@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto finals = h_.Finals();
  ASSERT_EQ(finals.size(), 1u);
  const FinalState& f = finals.begin()->second;
  EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
  EXPECT_EQ(f.deferrals, 2);
  EXPECT_EQ(f.attempts, 3);
}

TEST_F(DeliveryScenario, rejected_recipients_fail_with_the_reason) {
  int port = Peer({"--pipelining", "--reject-rcpt", "^bad"});
  h_.Start(TestConfig(port));
  h_.Send({"good@a.test", "bad1@a.test", "bad2@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  for (auto& [id, f] : h_.Finals()) {
    if (f.address.rfind("bad", 0) == 0) {
      EXPECT_EQ(f.state, RecipientState::kFailed);
      EXPECT_EQ(f.response.code, 550);
      EXPECT_EQ(f.response.enhanced_status, "5.1.1");
      EXPECT_NE(f.response.text.find("User unknown"), std::string::npos) << f.response.text;
    } else {
      EXPECT_EQ(f.state, RecipientState::kDelivered);
    }
  }
}

TEST_F(DeliveryScenario, dropped_in_data_deferred_then_delivered) {
  int port = Peer({"--drop-in-data", "1"});
  h_.Start(TestConfig(port));
  h_.Send({"drop@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
  EXPECT_EQ(f.deferrals, 1);
  EXPECT_EQ(Received().size(), 1u);
}

TEST_F(DeliveryScenario, dropped_in_data_every_time_fails_as_expired) {
  std::string dir = h_.SubDir("sink");
  ChildProcess sink;
  int port = FreePort();
  ASSERT_TRUE(StartSink(sink, "127.0.0.2", port, dir, {"-q", "."}));
  Config config = TestConfig(port);
  config.queue.max_age = 3s;
  h_.Start(config);
  h_.Send({"never@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kFailed);
  EXPECT_GE(f.attempts, 2);
  EXPECT_NE(f.reason.find("expired"), std::string::npos) << f.reason;
}

TEST_F(DeliveryScenario, no_pipelining_offered_goes_stepwise) {
  std::string dir = h_.SubDir("sink");
  ChildProcess sink;
  int port = FreePort();
  ASSERT_TRUE(StartSink(sink, "127.0.0.2", port, dir, {"-p"}));
  h_.Start(TestConfig(port));
  h_.Send({"p1@a.test", "p2@a.test"});
  h_.Send({"p3@c.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  for (auto& [id, f] : h_.Finals()) EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 2);
}

TEST_F(DeliveryScenario, tiny_size_limit_fails_the_big_message_locally) {
  int port = Peer({"--size", "200"});
  h_.Start(TestConfig(port));
  h_.Send({"big@a.test"}, absl::StrCat("Subject: big\r\n\r\n", std::string(1000, 'x'), "\r\n"));
  h_.Send({"small@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  for (auto& [id, f] : h_.Finals()) {
    if (f.address == "big@a.test") {
      EXPECT_EQ(f.state, RecipientState::kFailed);
      EXPECT_EQ(f.response.code, 552);
      EXPECT_EQ(f.response.enhanced_status, "5.3.4");
    } else {
      EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
    }
  }
}

TEST_F(DeliveryScenario, tarpit_times_out_and_expires) {
  int port = Peer({"--tarpit", "3"});
  Config config = TestConfig(port);
  config.delivery.defaults.command_timeout = 300ms;
  config.queue.max_age = 2s;
  h_.Start(config);
  h_.Send({"slow@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kFailed);
  EXPECT_NE(f.reason.find("expired"), std::string::npos) << f.reason;
  EXPECT_NE(f.reason.find("transaction"), std::string::npos) << f.reason;
}

TEST_F(DeliveryScenario, starttls_required_by_peer_is_used) {
  std::string dir = h_.SubDir("tls");
  ASSERT_TRUE(
      GenerateSelfSignedCertificate(dir + "/cert.pem", dir + "/key.pem", "localhost", 1).ok());
  int port = Peer({"--cert", dir + "/cert.pem", "--key", dir + "/key.pem", "--require-starttls"});
  h_.Start(TestConfig(port));
  h_.Send({"secure@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  EXPECT_EQ(h_.Final().state, RecipientState::kDelivered);
  auto received = Received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(received[0]["tls"].get<bool>());
}

TEST_F(DeliveryScenario, tls_required_but_not_offered_defers_then_expires) {
  int port = Peer();
  Config config = TestConfig(port);
  config.delivery.defaults.tls = TlsPolicy::kRequired;
  config.queue.max_age = 2s;
  h_.Start(config);
  h_.Send({"plain@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kFailed);
  EXPECT_GE(f.deferrals, 1);
  EXPECT_NE(f.reason.find("STARTTLS"), std::string::npos) << f.reason;
  EXPECT_TRUE(Received().empty());
}

TEST_F(DeliveryScenario, next_mx_tried_when_the_first_refuses) {
  int port = Peer();
  h_.Start(TestConfig(port));
  h_.Send({"fb@fallback.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kDelivered) << f.reason;
  EXPECT_EQ(f.response.host, "mx1.peer.test");
  EXPECT_EQ(f.deferrals, 0);
}

TEST_F(DeliveryScenario, unreachable_site_deferred_then_expires) {
  Config config = TestConfig(FreePort());
  config.queue.max_age = 2s;
  h_.Start(config);
  h_.Send({"d1@dead.test", "d2@dead.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  for (auto& [id, f] : h_.Finals()) {
    EXPECT_EQ(f.state, RecipientState::kFailed);
    EXPECT_GE(f.deferrals, 1);
    EXPECT_EQ(f.response.host, "dead.peer.test");
  }
}

TEST_F(DeliveryScenario, nxdomain_and_null_mx_fail_permanently) {
  h_.Start(TestConfig(FreePort()));
  h_.Send({"who@nowhere.test"});
  h_.Send({"who@nullmx.test"});
  ASSERT_TRUE(h_.WaitUntilDone(20s));
  for (auto& [id, f] : h_.Finals()) {
    EXPECT_EQ(f.state, RecipientState::kFailed) << f.address;
    EXPECT_EQ(f.deferrals, 0);
    EXPECT_EQ(f.response.enhanced_status, f.address == "who@nullmx.test" ? "5.1.10" : "5.1.2")
        << f.address;
  }
}

TEST_F(DeliveryScenario, dns_timeout_defers) {
  Config config = TestConfig(FreePort());
  config.dns.resolvers = {*SocketAddress::Parse("127.0.0.1:" + std::to_string(FreePort()))};
  config.queue.max_age = 2s;
  h_.Start(config);
  h_.Send({"who@a.test"});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  const FinalState f = h_.Final();
  EXPECT_EQ(f.state, RecipientState::kFailed);
  EXPECT_GE(f.deferrals, 1);
  EXPECT_NE(f.reason.find("DNS"), std::string::npos) << f.reason;
}

}  // namespace
}  // namespace salvo::delivery::testing
