// GET /v1/events and PUT/GET/DELETE /v1/suppressions/{address} against a
// real spool: an outcome recorded by the delivery side shows up as an event,
// paging by id, parameter errors; suppressions through Python's urllib.
#include "fmt/format.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;

TEST_F(SubmissionTest, DeliveryEventsArePagedById) {
  ApiAnswer empty = Request("GET", "/v1/events");
  ASSERT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(empty.json["events"].size(), 0u);
  json body = {
      {"from", "a@origin.example"}, {"to", {"b@example.com", "c@example.com"}}, {"text", "hi"}};
  ASSERT_EQ(PostJson("/v1/messages", body).status, 202);
  std::vector<queue::DueRecipient> due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 2u);
  for (const queue::DueRecipient& d : due) {
    queue::DeliveryOutcome outcome;
    outcome.kind = queue::DeliveryOutcome::Kind::kDelivered;
    outcome.response = {.host = "mx.example.com",
                        .ip = "127.0.0.1",
                        .code = 250,
                        .enhanced_status = "2.0.0",
                        .text = "ok"};
    ASSERT_TRUE(spool_->RecordOutcome(d, outcome).Wait().ok());
  }
  ApiAnswer first = Request("GET", "/v1/events?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.json["events"].size(), 1u);
  const json& e = first.json["events"][0];
  EXPECT_EQ(e["kind"], "delivered");
  EXPECT_EQ(e["response"]["code"], 250);
  EXPECT_TRUE(e["time"].get<std::string>().ends_with("Z"));
  std::string next = first.json["next"];
  ApiAnswer second = Request("GET", "/v1/events?limit=10&after=" + next);
  ASSERT_EQ(second.json["events"].size(), 1u) << second.body;
  EXPECT_NE(second.json["events"][0]["address"], e["address"]);
  ApiAnswer done = Request("GET", "/v1/events?after=" + second.json["next"].get<std::string>());
  EXPECT_EQ(done.json["events"].size(), 0u);
  EXPECT_EQ(done.json["next"], second.json["next"]);

  EXPECT_EQ(Request("GET", "/v1/events?limit=0").status, 400);
  EXPECT_EQ(Request("GET", "/v1/events?limit=1001").status, 400);
  EXPECT_EQ(Request("GET", "/v1/events?limit=x").status, 400);
  ApiAnswer bad_after = Request("GET", "/v1/events?after=nope");
  EXPECT_EQ(bad_after.status, 400);
  EXPECT_NE(bad_after.body.find("after"), std::string::npos);
}

TEST_F(SubmissionTest, SuppressionsThroughUrllib) {
  CommandResult r = RunPython(R"(
import json, sys, urllib.request, urllib.error
base, token = sys.argv[1], sys.argv[2]
def call(method, address, body=None):
    req = urllib.request.Request(base + '/v1/suppressions/' + address, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={'Authorization': 'Bearer ' + token,
                                          'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
s, b = call('PUT', 'Ann@Example.COM', {'reason': 'asked us'}); print(s, b['address'], b['source'], b['reason'])
s, b = call('PUT', 'ann@example.com', {'reason': 'again'}); print(s, b['reason'])
s, b = call('GET', 'ANN@example.com'); print(s, b['reason'], b['created'][-1])
s, b = call('DELETE', 'ann@example.com'); print(s, b['deleted'])
s, b = call('GET', 'ann@example.com'); print(s, b['error']['code'])
s, b = call('DELETE', 'ann@example.com'); print(s, b['error']['code'])
s, b = call('PUT', 'not-an-address'); print(s, b['error']['code'])
s, b = call('PUT', 'b@example.com', {'why': 'x'}); print(s, b['error']['code'])
s, b = call('PUT', 'c%40example.com'); print(s, b['address'])
)",
                              {server_->Url(""), kSubmissionToken});
  EXPECT_EQ(r.output,
            "201 ann@example.com api asked us\n"
            "200 again\n"
            "200 again Z\n"
            "200 True\n"
            "404 not_found\n"
            "404 not_found\n"
            "400 invalid_address\n"
            "400 unknown_field\n"
            "201 c@example.com\n")
      << r.output;
  absl::StatusOr<std::optional<queue::SuppressionEntry>> c =
      spool_->FindSuppression("c@example.com").Wait();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->has_value());
}

}  // namespace
}  // namespace salvo::testing
