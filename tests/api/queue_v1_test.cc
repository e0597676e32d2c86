// GET /v1/queue and POST /v1/queue/flush, /v1/queue/{domain}/flush on a real
// server with a real spool, curl as the client. The delivery side is played
// by the test through Spool::TakeDue / RecordOutcome.
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;

queue::DeliveryOutcome Deferred() {
  return {.kind = queue::DeliveryOutcome::Kind::kDeferred,
          .response = {.host = "mx.down.example",
                       .ip = "127.0.0.1",
                       .code = 421,
                       .enhanced_status = "4.3.2",
                       .text = "closing"}};
}

class QueueApiTest : public SubmissionTest {
 protected:
  void Submit(std::vector<std::string> to) {
    json body = {{"from", "shop@origin.example"}, {"to", std::move(to)}, {"text", "hi"}};
    ApiAnswer a = PostJson("/v1/messages", body);
    ASSERT_EQ(a.status, 202) << a.body;
  }
  json Destination(const json& summary, const std::string& domain) {
    for (const json& d : summary["destinations"]) {
      if (d["domain"] == domain) return d;
    }
    ADD_FAILURE() << "no " << domain << " in " << summary.dump();
    return json::object();
  }
};

TEST_F(QueueApiTest, SummaryThenDeferThenFlushOneDomainAndAll) {
  Submit({"a@down.example", "b@down.example", "c@Down.Example"});
  Submit({"d@up.example"});

  ApiAnswer q = Request("GET", "/v1/queue");
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_EQ(q.json["recipients"], 4);
  EXPECT_EQ(q.json["queued"], 4);
  EXPECT_EQ(q.json["domains"], 2);
  ASSERT_EQ(q.json["destinations"].size(), 2u);
  EXPECT_EQ(q.json["destinations"][0]["domain"], "down.example");
  EXPECT_EQ(q.json["destinations"][0]["queued"], 3);
  EXPECT_TRUE(q.json["destinations"][0]["next_attempt"].is_string()) << q.body;
  EXPECT_TRUE(q.json["destinations"][0]["oldest_accepted"].is_string()) << q.body;

  ApiAnswer one = Request("GET", "/v1/queue?limit=1");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.json["destinations"].size(), 1u);
  EXPECT_EQ(one.json["domains"], 2);

  // Every attempt is deferred: nothing is due for minutes.
  absl::Time now = absl::Now();
  std::vector<queue::DueRecipient> due = spool_->TakeDue(100, now);
  ASSERT_EQ(due.size(), 4u);
  for (const queue::DueRecipient& d : due) {
    ASSERT_TRUE(spool_->RecordOutcome(d, Deferred(), now).Wait().ok());
  }
  ASSERT_TRUE(spool_->TakeDue(100, now).empty());
  q = Request("GET", "/v1/queue");
  json down = Destination(q.json, "down.example");
  EXPECT_EQ(down["deferred"], 3);
  EXPECT_EQ(down["max_attempts"], 1);
  EXPECT_EQ(q.json["deferred"], 4);

  int kicks = kicks_.load();
  ApiAnswer f = Request("POST", "/v1/queue/DOWN.example/flush");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.json, json({{"domain", "down.example"}, {"rescheduled", 3}}));
  EXPECT_EQ(kicks_.load(), kicks + 1);  // the delivery engine is woken
  std::vector<queue::DueRecipient> again = spool_->TakeDue(100, absl::Now());
  ASSERT_EQ(again.size(), 3u);
  // Leased now: flushing again moves nothing, and a domain never queued is 0.
  f = Request("POST", "/v1/queue/down.example/flush");
  EXPECT_EQ(f.json["rescheduled"], 0) << f.body;
  f = Request("POST", "/v1/queue/never.example/flush");
  EXPECT_EQ(f.status, 200);
  EXPECT_EQ(f.json["rescheduled"], 0) << f.body;
  q = Request("GET", "/v1/queue");
  EXPECT_EQ(Destination(q.json, "down.example")["in_flight"], 3);

  f = Request("POST", "/v1/queue/flush");
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.json, json({{"rescheduled", 1}}));
  EXPECT_EQ(spool_->TakeDue(100, absl::Now()).size(), 1u);
}

TEST_F(QueueApiTest, BadRequestsAreRefusedWithTheField) {
  ApiAnswer a = Request("GET", "/v1/queue?limit=0");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(a.json["error"]["details"][0]["field"], "limit");
  a = Request("GET", "/v1/queue?limit=1001");
  EXPECT_EQ(a.status, 400) << a.body;
  a = Request("POST", "/v1/queue/" + std::string(256, 'x') + "/flush");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(a.json["error"]["details"][0]["field"], "domain");
  a = Request("POST", "/v1/queue/flush", "{}");
  EXPECT_EQ(a.status, 400) << a.body;
  EXPECT_EQ(a.Code(), "invalid_request");
  a = Request("GET", "/v1/queue", "", "application/json", /*auth=*/false);
  EXPECT_EQ(a.status, 401) << a.body;
  a = Request("POST", "/v1/queue/flush", "", "application/json", /*auth=*/false);
  EXPECT_EQ(a.status, 401) << a.body;
}

}  // namespace
}  // namespace salvo::testing
