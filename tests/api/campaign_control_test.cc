// GET /v1/campaigns/{id}, POST .../pause|resume|cancel, GET .../events and
// .../report, and the suppression list (GET/POST /v1/suppressions) on a real
// server with a real spool: curl for status and control, Python's
// http.client for paging, the report and the bulk suppressions. The delivery
// side is played by the test through Spool::TakeDue / RecordOutcome.
#include <map>

#include "fmt/format.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;

json SpringCampaign(std::vector<std::string> addresses) {
  json rows = json::array();
  for (const std::string& a : addresses) rows.push_back({{"address", a}});
  return {{"name", "spring"},
          {"from", "Shop <news@shop.example>"},
          {"subject", "Hello"},
          {"text", "Hi"},
          {"settings", {{"max_age", 86400}, {"tags", {{"team", "growth"}}}}},
          {"recipients", std::move(rows)}};
}

queue::DeliveryOutcome Outcome(queue::DeliveryOutcome::Kind kind, int code, std::string enhanced) {
  return {.kind = kind,
          .response = {.host = "mx.example.com",
                       .ip = "127.0.0.1",
                       .code = code,
                       .enhanced_status = std::move(enhanced),
                       .text = "reply"}};
}

class CampaignControlTest : public SubmissionTest {
 protected:
  std::string Create(std::vector<std::string> addresses) {
    ApiAnswer a = PostJson("/v1/campaigns", SpringCampaign(std::move(addresses)));
    EXPECT_EQ(a.status, 202) << a.body;
    return a.json.value("id", "");
  }
  // Delivers, defers and fails each campaign's due recipients in turn.
  void PlayDelivery(size_t expected) {
    std::vector<queue::DueRecipient> due = spool_->TakeDue(100);
    ASSERT_EQ(due.size(), expected);
    using K = queue::DeliveryOutcome::Kind;
    std::map<queue::ContentId, int> turn;
    for (size_t d = 0; d < due.size(); ++d) {
      int i = turn[due[d].content]++;
      queue::DeliveryOutcome o = i % 3 == 0   ? Outcome(K::kDelivered, 250, "2.0.0")
                                 : i % 3 == 1 ? Outcome(K::kDeferred, 451, "4.7.1")
                                              : Outcome(K::kFailed, 550, "5.1.1");
      ASSERT_TRUE(spool_->RecordOutcome(due[d], o).Wait().ok());
    }
  }
};

TEST_F(CampaignControlTest, StatusPauseResumeCancelOverCurl) {
  std::string id = Create({"ann@example.com", "bob@example.org", "cy@example.net"});
  ApiAnswer status = Request("GET", "/v1/campaigns/" + id);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.json["name"], "spring");
  EXPECT_EQ(status.json["status"], "closed");
  EXPECT_EQ(status.json["settings"]["from"], "news@shop.example");
  EXPECT_EQ(status.json["settings"]["max_age"], 86400);
  EXPECT_EQ(status.json["settings"]["tags"]["team"], "growth");
  EXPECT_EQ(status.json["counts"]["recipients"], 3);
  EXPECT_EQ(status.json["counts"]["queued"], 3);

  ApiAnswer paused = Request("POST", "/v1/campaigns/" + id + "/pause");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(paused.json["status"], "paused");
  EXPECT_EQ(Request("POST", "/v1/campaigns/" + id + "/pause").status, 200);  // idempotent
  EXPECT_TRUE(spool_->TakeDue(100).empty());
  Start();  // a restart keeps it paused
  EXPECT_EQ(Request("GET", "/v1/campaigns/" + id).json["status"], "paused");
  EXPECT_TRUE(spool_->TakeDue(100).empty());
  ApiAnswer resumed = Request("POST", "/v1/campaigns/" + id + "/resume");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(resumed.json["status"], "closed");

  PlayDelivery(3);
  status = Request("GET", "/v1/campaigns/" + id);
  EXPECT_EQ(status.json["status"], "running");
  EXPECT_EQ(status.json["counts"]["delivered"], 1);
  EXPECT_EQ(status.json["counts"]["deferred"], 1);
  EXPECT_EQ(status.json["counts"]["failed"], 1);
  EXPECT_EQ(status.json["counts"]["queued"], 0);

  ApiAnswer cancelled = Request("POST", "/v1/campaigns/" + id + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.json["status"], "cancelled");
  EXPECT_EQ(cancelled.json["counts"]["cancelled"], 1);
  EXPECT_EQ(cancelled.json["counts"]["deferred"], 0);
  EXPECT_EQ(Request("POST", "/v1/campaigns/" + id + "/cancel").status, 200);
  ApiAnswer conflict = Request("POST", "/v1/campaigns/" + id + "/resume");
  EXPECT_EQ(conflict.status, 409) << conflict.body;
  EXPECT_EQ(conflict.Code(), "conflict");

  ApiAnswer unknown = Request("GET", "/v1/campaigns/01a20627-0639-7000-8b04-04e8e7c9da1b");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.Code(), "not_found");
  EXPECT_EQ(Request("POST", "/v1/campaigns/not-an-id/pause").status, 404);
  EXPECT_EQ(Request("GET", "/v1/campaigns/" + id, "", "", /*auth=*/false).status, 401);
  ApiAnswer body = Request("POST", "/v1/campaigns/" + id + "/pause", "{}");
  EXPECT_EQ(body.status, 400);
}

TEST_F(CampaignControlTest, EventsAndReportThroughHttpClient) {
  std::string id = Create({"a1@a.example", "a2@a.example", "a3@a.example", "b1@b.example",
                           "b2@b.example", "b3@b.example"});
  std::string other = Create({"x@other.example"});
  PlayDelivery(7);
  CommandResult r = RunPython(R"(
import csv, http.client, io, json, sys
port, token, cid, other = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
conn = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
def get(path):
    conn.request('GET', path, headers={'Authorization': 'Bearer ' + token})
    resp = conn.getresponse()
    return resp.status, resp.getheader('Content-Type'), resp.read().decode()
seen, after = [], ''
for _ in range(10):
    s, t, body = get('/v1/campaigns/%s/events?limit=4&after=%s' % (cid, after))
    page = json.loads(body)
    if not page['events']: break
    seen += page['events']; after = page['next']
print(len(seen), len(set(e['id'] for e in seen)), all(e['content'] == cid for e in seen))
print(sorted(set(e['kind'] for e in seen)))
s, t, body = get('/v1/campaigns/%s/report' % cid)
rep = json.loads(body)
print(s, t, rep['events'], rep['outcomes']['delivered'], rep['outcomes']['deferred'], rep['outcomes']['failed'])
print(sorted((d['domain'], d['total']) for d in rep['domains']))
print(sorted((x['reply'], x['count']) for x in rep['replies']))
print(rep['delivery_seconds']['count'], rep['delivery_seconds']['p50'] is not None, rep['counts']['recipients'])
s, t, body = get('/v1/campaigns/%s/report?format=csv' % cid)
rows = list(csv.reader(io.StringIO(body)))
print(s, t.split(';')[0], rows[0], [r for r in rows if r[0] == 'outcome' and r[2] == 'failed'])
print(sorted(r[1] for r in rows if r[0] == 'delivery_seconds'))
s, t, body = get('/v1/campaigns/%s/report?format=xml' % cid); print(s, json.loads(body)['error']['code'])
s, t, body = get('/v1/campaigns/%s/events?limit=0' % cid); print(s)
s, t, body = get('/v1/campaigns/%s/events' % other); print(s, len(json.loads(body)['events']))
)",
                              {std::to_string(server_->port()), kSubmissionToken, id, other});
  EXPECT_EQ(r.output,
            "6 6 True\n"
            "['deferred', 'delivered', 'failed']\n"
            "200 application/json 6 2 2 2\n"
            "[('a.example', 3), ('b.example', 3)]\n"
            "[('250 2.0.0', 2), ('451 4.7.1', 2), ('550 5.1.1', 2)]\n"
            "2 True 6\n"
            "200 text/csv ['section', 'key', 'outcome', 'value'] [['outcome', '', 'failed', '2']]\n"
            "['count', 'p50', 'p90', 'p99']\n"
            "400 invalid_field\n"
            "400\n"
            "200 1\n")
      << r.output;
}

TEST_F(CampaignControlTest, SuppressionListIsPagedAndBulkAddIsAllOrNothing) {
  CommandResult r = RunPython(R"(
import http.client, json, sys
port, token = int(sys.argv[1]), sys.argv[2]
conn = http.client.HTTPConnection('127.0.0.1', port, timeout=20)
def call(method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body),
                 headers={'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'})
    resp = conn.getresponse()
    return resp.status, json.loads(resp.read())
s, b = call('POST', '/v1/suppressions', [{'address': 'C@example.com', 'reason': 'bounced'},
                                         {'address': 'a@example.com'}, {'address': 'b@example.com'}])
print(s, b)
s, b = call('POST', '/v1/suppressions', [{'address': 'd@example.com'}, {'address': 'nope'},
                                         {'address': 'e@example.com', 'colour': 'red'}])
print(s, b['error']['code'], sorted(d['field'] for d in b['error']['details']))
s, b = call('POST', '/v1/suppressions', [{'address': 'x%d@example.com' % i} for i in range(1001)])
print(s, b['error']['code'])
s, b = call('POST', '/v1/suppressions', {'address': 'a@example.com'}); print(s)
seen, after = [], ''
for _ in range(5):
    s, b = call('GET', '/v1/suppressions?limit=2&after=' + after)
    if not b['suppressions']: break
    seen += [(e['address'], e['reason'], e['source']) for e in b['suppressions']]
    after = b['next']
print(seen)
s, b = call('DELETE', '/v1/suppressions/b@example.com'); print(s, b['deleted'])
s, b = call('GET', '/v1/suppressions'); print([e['address'] for e in b['suppressions']])
s, b = call('GET', '/v1/suppressions?limit=5000'); print(s)
)",
                              {std::to_string(server_->port()), kSubmissionToken});
  EXPECT_EQ(r.output,
            "201 {'added': 3}\n"
            "400 invalid_request ['[1].address', '[2].colour']\n"
            "400 invalid_request\n"
            "400\n"
            "[('a@example.com', '', 'api'), ('b@example.com', '', 'api'), "
            "('c@example.com', 'bounced', 'api')]\n"
            "200 True\n"
            "['a@example.com', 'c@example.com']\n"
            "400\n")
      << r.output;
  absl::StatusOr<std::optional<queue::SuppressionEntry>> d =
      spool_->FindSuppression("d@example.com").Wait();
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->has_value());  // the rejected request added nothing
}

}  // namespace
}  // namespace salvo::testing
