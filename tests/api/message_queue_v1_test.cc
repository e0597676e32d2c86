// GET and DELETE /v1/messages/{id} on a real server with a real spool, curl
// as the client: a submitted message's recipients by state, `postsuper -d`
// cancelling the queued ones (their events say "cancelled") while one being
// delivered is left to its attempt, and the errors (unknown or malformed id,
// a campaign's id, a body on DELETE). The delivery side is played by the test
// through Spool::TakeDue / RecordOutcome.
#include <set>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;

class MessageQueueApiTest : public SubmissionTest {
 protected:
  // The message's id and its recipients' ids, as POST /v1/messages answers.
  json Submit(std::vector<std::string> to) {
    json body = {{"from", "shop@origin.example"}, {"to", std::move(to)}, {"text", "hi"}};
    ApiAnswer a = PostJson("/v1/messages", body);
    EXPECT_EQ(a.status, 202) << a.body;
    return a.json;
  }
};

TEST_F(MessageQueueApiTest, ViewThenCancelLeavesTheOneInFlightToItsAttempt) {
  json m = Submit({"a@one.example", "b@two.example", "c@Two.Example"});
  json other = Submit({"d@three.example"});
  std::string path = "/v1/messages/" + m["id"].get<std::string>();

  ApiAnswer v = Request("GET", path);
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json["id"], m["id"]);
  EXPECT_TRUE(v.json["accepted"].is_string()) << v.body;
  EXPECT_EQ(v.json["recipients"], 3);
  EXPECT_EQ(v.json["queued"], 3);
  EXPECT_EQ(v.json["in_flight"], 0);
  EXPECT_EQ(v.json["cancelled"], false);
  EXPECT_EQ(v.json["more"], false);
  ASSERT_EQ(v.json["pending"].size(), 3u);
  std::set<std::string> ids, domains;
  for (const json& p : v.json["pending"]) {
    ids.insert(p["id"].get<std::string>());
    domains.insert(p["domain"].get<std::string>());
    EXPECT_EQ(p["state"], "queued");
    EXPECT_EQ(p["attempts"], 0);
    EXPECT_TRUE(p["next_attempt"].is_string()) << v.body;
  }
  std::set<std::string> submitted;
  for (const json& id : m["recipients"]) submitted.insert(id.get<std::string>());
  EXPECT_EQ(ids, submitted);
  EXPECT_EQ(domains, (std::set<std::string>{"one.example", "two.example"}));

  // The delivery engine takes one recipient of the message; the rest go back.
  std::vector<queue::DueRecipient> due = spool_->TakeDue(100, absl::Now());
  ASSERT_EQ(due.size(), 4u);
  const queue::DueRecipient* leased = nullptr;
  for (const queue::DueRecipient& d : due) {
    if (leased == nullptr && d.content.ToString() == m["id"]) {
      leased = &d;
    } else {
      ASSERT_TRUE(spool_->Release(d).ok());
    }
  }
  ASSERT_NE(leased, nullptr);
  v = Request("GET", path);
  EXPECT_EQ(v.json["in_flight"], 1) << v.body;
  EXPECT_EQ(v.json["queued"], 2) << v.body;

  ApiAnswer c = Request("DELETE", path, "", "");
  ASSERT_EQ(c.status, 200) << c.body;
  EXPECT_EQ(c.json, (json{{"id", m["id"]}, {"cancelled", 2}, {"in_flight", 1}}));
  v = Request("GET", path);
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.json["cancelled"], true);
  EXPECT_EQ(v.json["recipients"], 1);
  ASSERT_EQ(v.json["pending"].size(), 1u);
  EXPECT_EQ(v.json["pending"][0]["state"], "in_flight");
  EXPECT_TRUE(v.json["pending"][0]["next_attempt"].is_null()) << v.body;

  ApiAnswer events = Request("GET", "/v1/events?limit=1000");
  ASSERT_EQ(events.status, 200) << events.body;
  int cancelled = 0;
  for (const json& e : events.json["events"]) {
    if (e["content"] != m["id"]) continue;
    EXPECT_EQ(e["kind"], "failed") << e.dump();
    EXPECT_EQ(e["reason"], "cancelled") << e.dump();
    ++cancelled;
  }
  EXPECT_EQ(cancelled, 2);

  // Its last recipient is delivered: the message has left the queue.
  queue::DeliveryOutcome ok{.kind = queue::DeliveryOutcome::Kind::kDelivered,
                            .response = {.host = "mx.one.example", .code = 250, .text = "ok"}};
  ASSERT_TRUE(spool_->RecordOutcome(*leased, ok, absl::Now()).Wait().ok());
  v = Request("GET", path);
  EXPECT_EQ(v.status, 404) << v.body;
  EXPECT_EQ(v.json["error"]["code"], "not_found") << v.body;
  EXPECT_EQ(Request("DELETE", path, "", "").status, 404);

  // The other message was not touched.
  ApiAnswer o = Request("GET", "/v1/messages/" + other["id"].get<std::string>());
  ASSERT_EQ(o.status, 200) << o.body;
  EXPECT_EQ(o.json["queued"], 1);
}

TEST_F(MessageQueueApiTest, RefusesBadIdsCampaignsAndABody) {
  EXPECT_EQ(Request("GET", "/v1/messages/not-an-id").status, 404);
  EXPECT_EQ(Request("GET", "/v1/messages/01a209b2-33c6-7008-8242-6c7d278d3210").status, 404);
  EXPECT_EQ(Request("DELETE", "/v1/messages/01a209b2-33c6-7008-8242-6c7d278d3210", "", "").status,
            404);

  ApiAnswer campaign =
      PostJson("/v1/campaigns", {{"name", "autumn"},
                                 {"from", "news@shop.example"},
                                 {"subject", "Hi"},
                                 {"text", "Hello {{name}}"},
                                 {"recipients", {{{"address", "x@list.example"}}}}});
  ASSERT_EQ(campaign.status, 202) << campaign.body;
  std::string cpath = "/v1/messages/" + campaign.json["id"].get<std::string>();
  ApiAnswer v = Request("GET", cpath);
  EXPECT_EQ(v.status, 409) << v.body;
  EXPECT_EQ(v.json["error"]["code"], "conflict") << v.body;
  EXPECT_EQ(Request("DELETE", cpath, "", "").status, 409);

  json m = Submit({"a@one.example"});
  std::string path = "/v1/messages/" + m["id"].get<std::string>();
  ApiAnswer body = Request("DELETE", path, "{}");
  EXPECT_EQ(body.status, 400) << body.body;
  EXPECT_EQ(body.json["error"]["code"], "invalid_request") << body.body;
  EXPECT_EQ(Request("GET", path).json["queued"], 1);  // still there
}

}  // namespace
}  // namespace salvo::testing
