// DSNs out, end to end: the delivery engine with a real spool, dnsmasq and an
// aiosmtpd peer on 127.0.0.2 that refuses (550) or defers (451) chosen
// recipients. The engine's DSNs go into the same spool and are delivered by
// the same engine to the sender's MX (the same peer: b.test), where they are
// checked with an independent parser (Python's email package).
#include <cstdio>
#include <fstream>

#include "nlohmann/json.hpp"
#include "tests/delivery/delivery_harness.h"

namespace salvo::delivery::testing {
namespace {

using queue::RecipientState;

// Parses a DSN with Python's email package (compat32, the strict classic
// parser) and prints what a DSN consumer reads from it, as JSON.
constexpr const char* kParseDsn = R"PY(
import email, json, sys
from email import policy
raw = open(sys.argv[1], 'rb').read()
m = email.message_from_bytes(raw, policy=policy.compat32)
out = {'content_type': m.get_content_type(), 'report_type': m.get_param('report-type'),
       'from': m['From'], 'to': m['To'], 'subject': m['Subject'],
       'auto_submitted': m['Auto-Submitted'], 'message_id': m['Message-ID'], 'date': m['Date'],
       'defects': [str(d) for d in m.defects]}
parts = m.get_payload() if m.is_multipart() else []
out['parts'] = [p.get_content_type() for p in parts]
if len(parts) >= 2 and parts[1].get_content_type() == 'message/delivery-status':
    groups = parts[1].get_payload()
    out['per_message'] = dict(groups[0].items())
    out['recipients'] = [dict(g.items()) for g in groups[1:]]
if len(parts) >= 3:
    third = parts[2]
    if third.get_content_type() == 'message/rfc822':
        out['returned'] = third.get_payload()[0].as_string()
    else:
        out['returned'] = third.get_payload()
for p in parts:
    out['defects'] += [str(d) for d in p.defects]
print(json.dumps(out))
)PY";

class DsnOut : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(TestDns(), nullptr); }

  int Peer(std::vector<std::string> flags = {}) {
    out_ = h_.dir() + "/peer.jsonl";
    int port = StartPeer(peer_, "127.0.0.2", 0, out_, std::move(flags));
    EXPECT_GT(port, 0);
    return port;
  }
  static Config DsnConfig(int port) {
    Config c = TestConfig(port);
    c.delivery.dsn.enabled = true;
    return c;
  }
  std::vector<nlohmann::json> Received() {
    std::vector<nlohmann::json> out;
    for (const std::string& line : ReadLines(out_)) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  // What the peer received from <> (the DSNs).
  std::vector<nlohmann::json> Dsns() {
    std::vector<nlohmann::json> out;
    for (auto& r : Received()) {
      if (r["mail_from"] == "<>") out.push_back(r);  // aiosmtpd's spelling of MAIL FROM:<>
    }
    return out;
  }
  queue::AcceptedMessage Submit(std::string from, std::vector<queue::NewRecipient> rcpts,
                                std::string content = "",
                                queue::DsnReturn ret = queue::DsnReturn::kUnspecified,
                                std::string envid = "") {
    if (content.empty()) {
      content =
          "From: Sender <sender@b.test>\r\nTo: someone@a.test\r\nSubject: quarterly figures\r\n"
          "Message-ID: <orig-1@b.test>\r\n\r\nBODY-MARKER the figures\r\n";
    }
    auto r = h_.spool()
                 .AcceptMessage(queue::Message{.envelope_from = std::move(from),
                                               .content = std::move(content),
                                               .ret = ret,
                                               .envid = std::move(envid)},
                                std::move(rcpts))
                 .Wait();
    EXPECT_TRUE(r.ok()) << r.status();
    h_.engine().Kick();
    return r.ok() ? *r : queue::AcceptedMessage{};
  }
  nlohmann::json Parse(const std::string& dsn) {
    std::string file = h_.dir() + "/dsn-" + std::to_string(parsed_++) + ".eml";
    std::string script = h_.dir() + "/parse_dsn.py";
    std::ofstream(file, std::ios::binary) << dsn;
    std::ofstream(script) << kParseDsn;
    std::string cmd = "/usr/bin/python3 " + script + " " + file;
    FILE* f = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (f != nullptr && fgets(buf, sizeof buf, f) != nullptr) out += buf;
    int rc = f != nullptr ? pclose(f) : -1;
    EXPECT_EQ(rc, 0) << out;
    auto j = nlohmann::json::parse(out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }
  static const nlohmann::json* RecipientGroup(const nlohmann::json& dsn, const std::string& addr) {
    if (!dsn.contains("recipients")) return nullptr;
    for (const auto& g : dsn["recipients"]) {
      std::string fr = g.value("Final-Recipient", "");
      if (fr.find(addr) != std::string::npos) return &g;
    }
    return nullptr;
  }
  std::map<std::string, FinalState> FinalsByAddress() {
    std::map<std::string, FinalState> out;
    for (auto& [id, f] : h_.Finals()) out[f.address] = f;
    return out;
  }

  DeliveryHarness h_;
  ChildProcess peer_;
  std::string out_;
  int parsed_ = 0;
};

TEST_F(DsnOut, failed_recipients_of_one_message_share_one_dsn_to_the_sender) {
  int port = Peer({"--pipelining", "--reject-rcpt", "^bad"});
  h_.Start(DsnConfig(port));
  Submit("sender@b.test",
         {{.address = "good@a.test"},
          {.address = "bad1@a.test", .dsn = {.orcpt = "rfc822;Bad1+2Balias@a.test"}},
          {.address = "bad2@a.test"}},
         "", queue::DsnReturn::kHeaders, "Q+2B42-envid");
  ASSERT_TRUE(h_.WaitUntilDone(30s));

  auto finals = FinalsByAddress();
  EXPECT_EQ(finals["good@a.test"].state, RecipientState::kDelivered);
  EXPECT_EQ(finals["bad1@a.test"].state, RecipientState::kFailed);
  EXPECT_EQ(finals["bad2@a.test"].state, RecipientState::kFailed);
  // The DSN was a message of its own in the spool, delivered by the engine.
  ASSERT_EQ(finals.count("sender@b.test"), 1u);
  EXPECT_EQ(finals["sender@b.test"].state, RecipientState::kDelivered);
  EXPECT_EQ(finals.size(), 4u);

  auto dsns = Dsns();
  ASSERT_EQ(dsns.size(), 1u) << "exactly one DSN for the two failures";
  EXPECT_EQ(dsns[0]["rcpt_tos"], nlohmann::json::array({"sender@b.test"}));
  nlohmann::json d = Parse(dsns[0]["content"]);
  EXPECT_TRUE(d["defects"].empty()) << d.dump();
  EXPECT_EQ(d["content_type"], "multipart/report");
  EXPECT_EQ(d["report_type"], "delivery-status");
  EXPECT_EQ(d["parts"], nlohmann::json::array(
                            {"text/plain", "message/delivery-status", "text/rfc822-headers"}));
  EXPECT_NE(d["from"].get<std::string>().find("MAILER-DAEMON@"), std::string::npos);
  EXPECT_NE(d["to"].get<std::string>().find("sender@b.test"), std::string::npos);
  EXPECT_FALSE(d["message_id"].is_null());
  EXPECT_FALSE(d["date"].is_null());
  const auto& pm = d["per_message"];
  EXPECT_EQ(pm.value("Reporting-MTA", ""), "dns; mta.salvo.test");
  EXPECT_EQ(pm.value("Original-Envelope-Id", ""), "Q+42-envid");
  EXPECT_FALSE(pm.value("Arrival-Date", "").empty());
  ASSERT_EQ(d["recipients"].size(), 2u) << d.dump();
  for (std::string addr : {"bad1@a.test", "bad2@a.test"}) {
    const nlohmann::json* g = RecipientGroup(d, addr);
    ASSERT_NE(g, nullptr) << addr << " " << d.dump();
    EXPECT_EQ(g->value("Final-Recipient", ""), "rfc822; " + addr);
    EXPECT_EQ(g->value("Action", ""), "failed");
    EXPECT_EQ(g->value("Status", ""), "5.1.1");
    EXPECT_EQ(g->value("Remote-MTA", ""), "dns; mx1.peer.test");
    std::string diag = g->value("Diagnostic-Code", "");
    EXPECT_EQ(diag.rfind("smtp; 550 5.1.1", 0), 0u) << diag;
    EXPECT_NE(diag.find("User unknown"), std::string::npos) << diag;
    EXPECT_FALSE(g->value("Last-Attempt-Date", "").empty());
  }
  EXPECT_EQ(RecipientGroup(d, "bad1@a.test")->value("Original-Recipient", ""),
            "rfc822;Bad1+alias@a.test");
  EXPECT_FALSE(RecipientGroup(d, "bad2@a.test")->contains("Original-Recipient"));
  EXPECT_EQ(RecipientGroup(d, "good@a.test"), nullptr);
  // RET=HDRS: the header section only.
  std::string returned = d["returned"];
  EXPECT_NE(returned.find("Subject: quarterly figures"), std::string::npos) << returned;
  EXPECT_EQ(returned.find("BODY-MARKER"), std::string::npos) << returned;
}

TEST_F(DsnOut, ret_full_returns_the_message_up_to_the_bound) {
  int port = Peer({"--pipelining", "--reject-rcpt", "^bad"});
  Config config = DsnConfig(port);
  config.delivery.dsn.max_returned_bytes = 4000;
  h_.Start(config);
  Submit("sender@b.test", {{.address = "bad-small@a.test"}}, "", queue::DsnReturn::kFull);
  std::string big = "From: sender@b.test\r\nSubject: big one\r\n\r\nBODY-MARKER " +
                    std::string(8000, 'x') + "\r\n";
  Submit("sender@b.test", {{.address = "bad-big@a.test"}}, big, queue::DsnReturn::kFull);
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto dsns = Dsns();
  ASSERT_EQ(dsns.size(), 2u);
  int checked = 0;
  for (auto& r : dsns) {
    nlohmann::json d = Parse(r["content"]);
    EXPECT_TRUE(d["defects"].empty()) << d.dump();
    std::string returned = d.value("returned", "");
    if (RecipientGroup(d, "bad-small@a.test") != nullptr) {
      EXPECT_EQ(d["parts"][2], "message/rfc822");
      EXPECT_NE(returned.find("BODY-MARKER the figures"), std::string::npos) << returned;
      ++checked;
    } else if (RecipientGroup(d, "bad-big@a.test") != nullptr) {
      EXPECT_EQ(d["parts"][2], "text/rfc822-headers") << "too big for RET=FULL";
      EXPECT_NE(returned.find("Subject: big one"), std::string::npos) << returned;
      EXPECT_EQ(returned.find("BODY-MARKER"), std::string::npos);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST_F(DsnOut, no_dsn_when_none_is_owed) {
  int port = Peer({"--pipelining", "--reject-rcpt", "^bad"});
  h_.Start(DsnConfig(port));
  // NOTIFY=NEVER; NOTIFY=SUCCESS only (no FAILURE); the null sender; a
  // message that is itself a DSN; a campaign (events, not DSN mail).
  Submit("sender@b.test",
         {{.address = "bad-never@a.test", .dsn = {.notify = queue::kNotifyNever}}});
  Submit("sender@b.test",
         {{.address = "bad-success-only@a.test", .dsn = {.notify = queue::kNotifySuccess}}});
  Submit("", {{.address = "bad-null-sender@a.test"}});
  Submit("sender@b.test", {{.address = "bad-report@a.test"}},
         "From: MAILER-DAEMON@b.test\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n"
         "--b1\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b1--\r\n");
  std::vector<queue::RecipientId> campaign = h_.SendCampaign({"bad-campaign@a.test"});
  ASSERT_EQ(campaign.size(), 1u);
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto finals = FinalsByAddress();
  EXPECT_EQ(finals.size(), 5u) << "no DSN recipient was added";
  for (auto& [addr, f] : finals) {
    EXPECT_EQ(f.state, RecipientState::kFailed) << addr;
    EXPECT_EQ(f.response.code, 550) << addr;
  }
  EXPECT_TRUE(Dsns().empty());
}

TEST_F(DsnOut, a_failing_dsn_makes_no_dsn) {
  int port = Peer({"--pipelining", "--reject-rcpt", "^bad"});
  h_.Start(DsnConfig(port));
  Submit("bad-sender@b.test", {{.address = "bad-rcpt@a.test"}});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto finals = FinalsByAddress();
  EXPECT_EQ(finals["bad-rcpt@a.test"].state, RecipientState::kFailed);
  // The DSN to bad-sender@b.test was made, refused in its turn, and that
  // failure (of a message from <>, with NOTIFY=NEVER) made nothing more.
  ASSERT_EQ(finals.count("bad-sender@b.test"), 1u);
  EXPECT_EQ(finals["bad-sender@b.test"].state, RecipientState::kFailed);
  EXPECT_EQ(finals["bad-sender@b.test"].response.code, 550);
  EXPECT_EQ(finals.size(), 2u);
  EXPECT_TRUE(Dsns().empty());
}

TEST_F(DsnOut, deferral_past_max_age_fails_with_4_4_7) {
  int port = Peer({"--pipelining", "--tempfail-rcpt", "^slow", "--tempfail-times", "1000"});
  Config config = DsnConfig(port);
  config.queue.max_age = 3s;
  h_.Start(config);
  Submit("sender@b.test", {{.address = "slow@a.test"}});
  ASSERT_TRUE(h_.WaitUntilDone(40s));
  auto finals = FinalsByAddress();
  EXPECT_TRUE(finals["slow@a.test"].state == RecipientState::kFailed ||
              finals["slow@a.test"].state == RecipientState::kExpired);
  EXPECT_GE(finals["slow@a.test"].deferrals, 1);
  auto dsns = Dsns();
  ASSERT_EQ(dsns.size(), 1u);
  nlohmann::json d = Parse(dsns[0]["content"]);
  const nlohmann::json* g = RecipientGroup(d, "slow@a.test");
  ASSERT_NE(g, nullptr) << d.dump();
  EXPECT_EQ(g->value("Action", ""), "failed");
  EXPECT_EQ(g->value("Status", ""), "4.4.7");
  std::string diag = g->value("Diagnostic-Code", "");
  EXPECT_EQ(diag.rfind("smtp; 451 4.7.1", 0), 0u) << "the last reply, as said: " << diag;
  EXPECT_NE(diag.find("try again later"), std::string::npos) << diag;
}

// Recipients the spool expires on its own (no attempt decided them: here the
// engine's shards never run, as with [delivery] hold) owe their sender the
// same failure DSN, accepted into the spool before the expiry is written.
TEST_F(DsnOut, recipients_the_spool_expires_unattempted_get_a_failure_dsn) {
  h_.CreateEngine(DsnConfig(1));  // no shards: nothing is ever attempted
  queue::Message m{.envelope_from = "sender@b.test",
                   .content =
                       "From: sender@b.test\r\nSubject: held\r\n"
                       "Message-ID: <held-1@b.test>\r\n\r\nheld body\r\n",
                   .envid = "held-42"};
  m.max_age = absl::Seconds(1);
  auto accepted =
      h_.spool()
          .AcceptMessage(std::move(m),
                         {{.address = "waiting@a.test"},
                          {.address = "quiet@a.test", .dsn = {.notify = queue::kNotifyNever}}})
          .Wait();
  ASSERT_TRUE(accepted.ok()) << accepted.status();
  absl::Time later = absl::Now() + absl::Seconds(5);
  EXPECT_EQ(h_.spool().SweepExpired(later), 2u);
  // Both original recipients are expired; the only one queued now is the
  // DSN's, to the sender, from <>.
  std::vector<queue::DueRecipient> due = h_.spool().TakeDue(10, later);
  ASSERT_EQ(due.size(), 1u);
  auto r = h_.spool().ReadRecipient(due[0].content, due[0].id).Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->address, "sender@b.test");
  auto content = h_.spool().ReadContent(due[0].content).Wait();
  ASSERT_TRUE(content.ok()) << content.status();
  const auto* dsn = std::get_if<queue::Message>(&*content);
  ASSERT_NE(dsn, nullptr);
  EXPECT_EQ(dsn->envelope_from, "");
  nlohmann::json d = Parse(dsn->content);
  ASSERT_NE(RecipientGroup(d, "waiting@a.test"), nullptr) << d.dump();
  EXPECT_EQ(RecipientGroup(d, "quiet@a.test"), nullptr) << "NOTIFY=NEVER: " << d.dump();
  const nlohmann::json& g = *RecipientGroup(d, "waiting@a.test");
  EXPECT_EQ(g.value("Action", ""), "failed");
  EXPECT_EQ(g.value("Status", ""), "4.4.7");
  EXPECT_EQ(d["per_message"].value("Original-Envelope-Id", ""), "held-42") << d.dump();
  EXPECT_EQ(h_.spool().SweepExpired(later), 0u);  // nothing owed twice
}

TEST_F(DsnOut, notify_success_and_delay_send_notices) {
  // aiosmtpd does not offer DSN: NOTIFY=SUCCESS is answered here ("relayed").
  int port = Peer({"--pipelining", "--tempfail-rcpt", "^late", "--tempfail-times", "1"});
  h_.Start(DsnConfig(port));
  Submit("sender@b.test", {{.address = "ok@a.test",
                            .dsn = {.notify = queue::kNotifySuccess | queue::kNotifyFailure}}});
  Submit("sender@b.test", {{.address = "late@a.test",
                            .dsn = {.notify = queue::kNotifyDelay | queue::kNotifyFailure}}});
  // Default NOTIFY (FAILURE,DELAY implied): no delay notice, no success notice.
  Submit("sender@b.test", {{.address = "late-default@a.test"}});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto finals = FinalsByAddress();
  EXPECT_EQ(finals["ok@a.test"].state, RecipientState::kDelivered);
  EXPECT_EQ(finals["late@a.test"].state, RecipientState::kDelivered);
  EXPECT_EQ(finals["late@a.test"].deferrals, 1);
  EXPECT_EQ(finals["late-default@a.test"].state, RecipientState::kDelivered);
  auto dsns = Dsns();
  ASSERT_EQ(dsns.size(), 2u);
  int relayed = 0, delayed = 0;
  for (auto& r : dsns) {
    nlohmann::json d = Parse(r["content"]);
    EXPECT_TRUE(d["defects"].empty()) << d.dump();
    ASSERT_EQ(d["recipients"].size(), 1u) << d.dump();
    const auto& g = d["recipients"][0];
    if (g.value("Final-Recipient", "") == "rfc822; ok@a.test") {
      EXPECT_EQ(g.value("Action", ""), "relayed");
      EXPECT_EQ(g.value("Status", "")[0], '2');
      ++relayed;
    } else if (g.value("Final-Recipient", "") == "rfc822; late@a.test") {
      EXPECT_EQ(g.value("Action", ""), "delayed");
      EXPECT_EQ(g.value("Status", ""), "4.7.1");
      ++delayed;
    }
  }
  EXPECT_EQ(relayed, 1);
  EXPECT_EQ(delayed, 1);
}

TEST_F(DsnOut, local_permanent_failures_are_reported) {
  int port = Peer({"--pipelining"});
  h_.Start(DsnConfig(port));
  Submit("sender@b.test", {{.address = "who@nowhere.test"}, {.address = "who@nullmx.test"}});
  ASSERT_TRUE(h_.WaitUntilDone(30s));
  auto dsns = Dsns();
  std::map<std::string, std::string> status;
  for (auto& r : dsns) {
    nlohmann::json d = Parse(r["content"]);
    for (const auto& g : d["recipients"]) {
      status[g.value("Final-Recipient", "")] = g.value("Status", "");
      EXPECT_EQ(g.value("Action", ""), "failed");
      EXPECT_FALSE(g.contains("Remote-MTA")) << "no MTA answered";
      EXPECT_FALSE(g.value("Diagnostic-Code", "").empty());
    }
  }
  EXPECT_EQ(status["rfc822; who@nowhere.test"], "5.1.2");
  EXPECT_EQ(status["rfc822; who@nullmx.test"], "5.1.10");
}

}  // namespace
}  // namespace salvo::delivery::testing
