// POST /v1/messages against a real spool: fields and raw messages accepted
// only once durable (read back from the spool), every validation error, the
// API key, and the spool's "disk full" answer.
#include <variant>

#include "fmt/format.h"
#include "tests/api/submission_fixture.h"

namespace salvo::testing {
namespace {

using nlohmann::json;

const queue::Message& AsMessage(const queue::Content& c) { return std::get<queue::Message>(c); }

TEST_F(SubmissionTest, MessageFromFieldsIsDurableWhenAnswered) {
  json body = {
      {"from", "Shop <news@shop.example>"},
      {"to", {"ann@example.com", "bob@example.org"}},
      {"subject", "Caf\u00e9 {{not a template}}"},
      {"text", "Hello {{name}}\nsecond line"},
      {"html", "<p>Hello</p>"},
      {"headers", {{"X-Campaign", "spring"}}},
      {"attachments",
       {{{"filename", "a.txt"}, {"content_type", "text/plain"}, {"content", "aGVsbG8="}}}}};
  ApiAnswer a = PostJson("/v1/messages", body);
  ASSERT_EQ(a.status, 202) << a.body;
  ASSERT_EQ(a.json["recipients"].size(), 2u);
  std::string id = a.json["id"];
  std::vector<queue::RecipientId> stored = ListRecipients(id);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].ToString(), a.json["recipients"][0]);
  EXPECT_EQ(ReadRecipient(id, stored[1]).address, "bob@example.org");
  const queue::Message m = AsMessage(ReadContent(id));
  EXPECT_EQ(m.envelope_from, "news@shop.example");
  EXPECT_NE(m.content.find("From: Shop <news@shop.example>\r\n"), std::string::npos);
  EXPECT_NE(m.content.find("To: ann@example.com, bob@example.org\r\n"), std::string::npos);
  EXPECT_NE(m.content.find("Subject: =?UTF-8?"), std::string::npos) << m.content;
  EXPECT_NE(m.content.find("X-Campaign: spring\r\n"), std::string::npos);
  EXPECT_NE(m.content.find("Hello {{name}}\r\nsecond line"), std::string::npos);
  EXPECT_NE(m.content.find("multipart/mixed"), std::string::npos);
  EXPECT_NE(m.content.find("aGVsbG8="), std::string::npos);
  EXPECT_GE(kicks_.load(), 1);

  // Python's email package reads it as a well-formed MIME message.
  std::string path = TempFile("message.eml", m.content);
  CommandResult r = RunPython(R"(
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
print(m['subject'], '|', m.get_body(('plain',)).get_content().strip().replace('\r\n', ' ').replace('\n', ' '), '|',
      [p.get_filename() for p in m.iter_attachments()])
)",
                              {path});
  EXPECT_EQ(r.output, "Caf\u00e9 {{not a template}} | Hello {{name}} second line | ['a.txt']\n")
      << r.output;
}

TEST_F(SubmissionTest, RawMessageThroughPythonHttpClient) {
  CommandResult r = RunPython(R"(
import http.client, json, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=20)
body = json.dumps({'from': 'app@origin.example', 'to': ['carol@example.net'],
                   'raw': 'Subject: raw\nFrom: app@origin.example\n\nline 1\nline 2\n'})
c.request('POST', '/v1/messages', body, {'Authorization': 'Bearer ' + sys.argv[2],
                                         'Content-Type': 'application/json'})
resp = c.getresponse()
print(resp.status, resp.read().decode())
)",
                              {std::to_string(server_->port()), kSubmissionToken});
  ASSERT_TRUE(r.output.starts_with("202 ")) << r.output;
  json a = json::parse(r.output.substr(4));
  const queue::Message m = AsMessage(ReadContent(a["id"]));
  EXPECT_EQ(m.content, "Subject: raw\r\nFrom: app@origin.example\r\n\r\nline 1\r\nline 2\r\n");
  EXPECT_EQ(m.envelope_from, "app@origin.example");
  EXPECT_EQ(ListRecipients(a["id"]).size(), 1u);
}

struct BadMessage {
  const char* name;
  std::string body;
  int status;
  const char* code;
  const char* mentions;  // in the body: the field at fault
};

TEST_F(SubmissionTest, EveryMessageValidationErrorAndNothingStored) {
  json ok = {{"from", "a@origin.example"}, {"to", {"b@example.com"}}, {"text", "hi"}};
  auto with = [&](const char* key, json value) {
    json j = ok;
    j[key] = std::move(value);
    return j.dump();
  };
  auto without = [&](const char* key) {
    json j = ok;
    j.erase(key);
    return j.dump();
  };
  json many = json::array();
  for (int i = 0; i < 1001; ++i) many.push_back(fmt::format("u{}@example.com", i));
  std::vector<BadMessage> cases = {
      {"malformed json", "{\"from\": ", 400, "malformed_json", "line"},
      {"not an object", "[1]", 400, "", ""},
      {"missing from", without("from"), 400, "missing_field", "from"},
      {"missing to", without("to"), 400, "missing_field", "to"},
      {"empty to", with("to", json::array()), 400, "invalid_field", "to"},
      {"bad address", with("to", {"ok@example.com", "no-at-sign"}), 400, "invalid_address",
       "to[1]"},
      {"address with CRLF", with("to", {"a@b.example\r\nRCPT TO:<x@y>"}), 400, "invalid_address",
       "to[0]"},
      {"too long address", with("to", {std::string(250, 'a') + "@example.com"}), 400,
       "invalid_address", "to[0]"},
      {"too many recipients", with("to", many), 400, "invalid_field", "to"},
      {"bad from", with("from", "Name <not an address>"), 400, "invalid_address", "from"},
      {"no body", without("text"), 400, "missing_field", "text"},
      {"raw with fields", with("raw", "Subject: x\r\n\r\nbody"), 400, "invalid_field", "raw"},
      {"raw without header",
       json({{"from", "a@origin.example"}, {"to", {"b@x.example"}}, {"raw", "just text"}}).dump(),
       400, "invalid_field", "raw"},
      {"unknown field", with("colour", "red"), 400, "unknown_field", "colour"},
      {"reserved header", with("headers", {{"Bcc", "spy@example.com"}}), 400, "invalid_header",
       "Bcc"},
      {"header injection", with("headers", {{"X-A", "v\r\nBcc: spy@example.com"}}), 400,
       "invalid_header", "X-A"},
      {"bad header name", with("headers", {{"X A", "v"}}), 400, "invalid_header", "X A"},
      {"bad base64",
       with("attachments",
            {{{"filename", "f"}, {"content_type", "text/plain"}, {"content", "!!!"}}}),
       400, "invalid_field", "attachments[0].content"},
      {"bad media type",
       with("attachments", {{{"filename", "f"}, {"content_type", "pdf"}, {"content", ""}}}), 400,
       "invalid_field", "attachments[0].content_type"},
      {"wrong type", with("subject", 42), 400, "invalid_field", "subject"},
  };
  for (const BadMessage& c : cases) {
    SCOPED_TRACE(c.name);
    ApiAnswer a = Request("POST", "/v1/messages", c.body);
    EXPECT_EQ(a.status, c.status) << a.body;
    if (*c.code) {
      bool listed =
          a.Code() == c.code || a.body.find(fmt::format("\"{}\"", c.code)) != std::string::npos;
      EXPECT_TRUE(listed) << a.body;
    }
    EXPECT_NE(a.body.find(c.mentions), std::string::npos) << a.body;
  }
  ApiAnswer wrong_type = Request("POST", "/v1/messages", ok.dump(), "text/plain");
  EXPECT_EQ(wrong_type.status, 415) << wrong_type.body;
  EXPECT_EQ(spool_->stats().contents, 0u);
  EXPECT_EQ(kicks_.load(), 0);
}

TEST_F(SubmissionTest, ApiKeyRequiredOnEveryRoute) {
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"POST", "/v1/messages"},
      {"POST", "/v1/campaigns"},
      {"POST", "/v1/campaigns/0190a0b0-0000-7000-8000-000000000000/recipients"},
      {"POST", "/v1/campaigns/0190a0b0-0000-7000-8000-000000000000/close"},
      {"GET", "/v1/events"},
      {"PUT", "/v1/suppressions/a@example.com"},
      {"GET", "/v1/suppressions/a@example.com"},
      {"DELETE", "/v1/suppressions/a@example.com"}};
  for (const auto& [method, path] : routes) {
    SCOPED_TRACE(method + " " + path);
    ApiAnswer none = Request(method, path, "{}", "application/json", false);
    EXPECT_EQ(none.status, 401) << none.body;
    EXPECT_EQ(none.Code(), "unauthorized");
    ApiAnswer wrong = Request(method, path, "{}", "application/json", false,
                              "-H 'Authorization: Bearer not-the-token'");
    EXPECT_EQ(wrong.status, 401) << wrong.body;
  }
  EXPECT_EQ(spool_->stats().contents, 0u);
}

class FullDiskTest : public SubmissionTest {
 protected:
  queue::SpoolOptions Options() override {
    queue::SpoolOptions o = SubmissionTest::Options();
    o.min_free_bytes = uint64_t{1} << 60;  // never that much free: accepts are refused
    return o;
  }
};

TEST_F(FullDiskTest, SpoolOutOfSpaceIs507AndNothingAccepted) {
  json body = {{"from", "a@origin.example"}, {"to", {"b@example.com"}}, {"text", "hi"}};
  ApiAnswer a = PostJson("/v1/messages", body);
  EXPECT_EQ(a.status, 507) << a.body;
  EXPECT_EQ(a.Code(), "insufficient_storage");
  json campaign = {{"name", "c"},
                   {"from", "a@origin.example"},
                   {"subject", "s"},
                   {"text", "t"},
                   {"recipients", {{{"address", "b@example.com"}}}}};
  ApiAnswer c = PostJson("/v1/campaigns", campaign);
  EXPECT_EQ(c.status, 507) << c.body;
  EXPECT_EQ(kicks_.load(), 0);
}

}  // namespace
}  // namespace salvo::testing
