// Campaign feedback over HTTP on a real server and spool: a one-click
// unsubscribe POST (RFC 8058) suppresses the address and leaves an
// "unsubscribed" event and count, once however often it is posted; a bounce
// recorded in the spool (as the bounce MX does) shows as a "bounced" event
// with its category; both are counted by the campaign's status and by its
// report, in JSON and CSV.
#include <algorithm>

#include "api/api_routes.h"
#include "api/handlers/unsubscribe_v1.h"
#include "api/http/api_key_auth.h"
#include "engine/render/unsubscribe.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;
constexpr char kVerpSecret[] = "0123456789abcdef0123456789abcdef";

class CampaignFeedbackTest : public SubmissionTest {
 protected:
  void SetUp() override {
    SubmissionTest::SetUp();
    // The same spool behind a server with the unsubscribe routes too.
    server_.reset();
    HttpRouter router;
    ASSERT_TRUE(api::AddSubmissionRoutes(
                    router, spool_.get(), [] {}, dir_)
                    .ok());
    ASSERT_TRUE(api::AddUnsubscribeRoutes(router, spool_.get(), kVerpSecret).ok());
    HttpServerOptions options;
    options.metrics = metrics_.get();
    options.auth = *ApiKeyAuth::Create({"sha256:" + Sha256Hex(kSubmissionToken)});
    server_ = TestHttpServer::Start(std::move(options), std::move(router));
    ASSERT_NE(server_, nullptr);
  }

  std::string Token(queue::RecipientId rcpt, queue::CampaignId campaign, std::string address) {
    render::UnsubscribeTarget t{.address = std::move(address)};
    std::string r = rcpt.Bytes(), c = campaign.Bytes();
    std::copy(r.begin(), r.end(), t.recipient.begin());
    std::copy(c.begin(), c.end(), t.campaign.begin());
    return render::UnsubscribeCodec(kVerpSecret).Token(t);
  }
};

TEST_F(CampaignFeedbackTest, UnsubscribeAndBounceShowInEventsStatusAndReport) {
  json campaign = {
      {"name", "spring"},
      {"from", "news@shop.example"},
      {"subject", "Hello"},
      {"text", "Hi"},
      {"recipients", {{{"address", "ann@example.com"}}, {{"address", "bob@example.org"}}}}};
  ApiAnswer created = PostJson("/v1/campaigns", campaign);
  ASSERT_EQ(created.status, 202) << created.body;
  std::string id = created.json.value("id", "");
  queue::CampaignId cid = *queue::CampaignId::Parse(id);
  std::vector<queue::DueRecipient> due = spool_->TakeDue(10);
  ASSERT_EQ(due.size(), 2u);
  queue::Recipient first = ReadRecipient(id, due[0].id);
  queue::Recipient second = ReadRecipient(id, due[1].id);
  for (const auto& d : due) {
    queue::DeliveryOutcome delivered{.kind = queue::DeliveryOutcome::Kind::kDelivered,
                                     .response = {.code = 250}};
    ASSERT_TRUE(spool_->RecordOutcome(d, delivered).Wait().ok());
  }

  // One-click unsubscribe, posted twice (some clients do): counted once.
  std::string path = "/v1/unsubscribe/" + Token(due[0].id, cid, first.address);
  for (int i = 0; i < 2; ++i) {
    ApiAnswer a = Request("POST", path, "List-Unsubscribe=One-Click",
                          "application/x-www-form-urlencoded", /*auth=*/false);
    ASSERT_EQ(a.status, 200) << a.body;
  }
  ASSERT_EQ(Request("GET", "/v1/suppressions/" + first.address).status, 200);

  // A bounce of the other recipient, as the bounce MX records it.
  queue::CampaignFeedback bounce{.recipient = due[1].id,
                                 .kind = queue::FeedbackKind::kBounced,
                                 .category = "bad-mailbox",
                                 .address = second.address,
                                 .detail = "5.1.1 user unknown"};
  ASSERT_TRUE(spool_->RecordCampaignFeedback(bounce).Wait().ok());

  ApiAnswer events = Request("GET", "/v1/campaigns/" + id + "/events");
  ASSERT_EQ(events.status, 200) << events.body;
  std::vector<json> feedback;
  for (const json& e : events.json["events"]) {
    if (e["kind"] == "unsubscribed" || e["kind"] == "bounced") feedback.push_back(e);
  }
  ASSERT_EQ(feedback.size(), 2u) << events.body;
  EXPECT_EQ(feedback[0]["kind"], "unsubscribed");
  EXPECT_EQ(feedback[0]["category"], "one-click");
  EXPECT_EQ(feedback[0]["recipient"], due[0].id.ToString());
  EXPECT_EQ(feedback[0]["address"], first.address);
  EXPECT_TRUE(feedback[0]["time"].is_string());
  EXPECT_EQ(feedback[1]["kind"], "bounced");
  EXPECT_EQ(feedback[1]["category"], "bad-mailbox");
  EXPECT_EQ(feedback[1]["address"], second.address);

  ApiAnswer status = Request("GET", "/v1/campaigns/" + id);
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(status.json["counts"]["unsubscribed"], 1);
  EXPECT_EQ(status.json["counts"]["bounced"], 1);
  EXPECT_EQ(status.json["counts"]["delivered"], 2);

  ApiAnswer report = Request("GET", "/v1/campaigns/" + id + "/report");
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(report.json["events"], 2);  // delivery events, as before
  EXPECT_EQ(report.json["outcomes"]["delivered"], 2);
  EXPECT_EQ(report.json["feedback"]["unsubscribed"], 1);
  EXPECT_EQ(report.json["feedback"]["bounced"], 1);
  EXPECT_EQ(report.json["feedback"]["complained"], 0);
  ASSERT_EQ(report.json["feedback_categories"].size(), 2u);
  EXPECT_EQ(report.json["counts"]["unsubscribed"], 1);

  ApiAnswer csv = Request("GET", "/v1/campaigns/" + id + "/report?format=csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.body.find("feedback,,unsubscribed,1\r\n"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find("feedback_category,bad-mailbox,bounced,1\r\n"), std::string::npos);
  EXPECT_NE(csv.body.find("feedback_category,one-click,unsubscribed,1\r\n"), std::string::npos);
}

}  // namespace
}  // namespace salvo::testing
