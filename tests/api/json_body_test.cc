// API errors and JSON bodies: the error shape and status mapping, malformed
// JSON named by position, strict objects (unknown / missing / invalid
// fields named by path), and API keys checked against hashed digests.
#include "api/http/json_body.h"

#include "api/http/api_error.h"
#include "api/http/api_key_auth.h"
#include "engine/base/strings.h"
#include "gtest/gtest.h"
#include "tests/engine/ring_fixture.h"

namespace salvo {
namespace {

nlohmann::json ErrorBody(const absl::Status& s) {
  return nlohmann::json::parse(ErrorResponse(s).body);
}

TEST(ApiError, CarriesStatusCodeAndDetails) {
  absl::Status s = ApiError(413, "payload_too_large", "too big", {{{"limit", 10}}});
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(HttpStatusFor(s), 413);
  HttpResponse r = ErrorResponse(s);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "payload_too_large");
  EXPECT_EQ(body["error"]["message"], "too big");
  EXPECT_EQ(body["error"]["details"], nlohmann::json::parse(R"([{"limit":10}])"));
}

TEST(ApiError, PlainStatusesMapByCode) {
  EXPECT_EQ(HttpStatusFor(absl::NotFoundError("no campaign c1")), 404);
  EXPECT_EQ(ErrorBody(absl::NotFoundError("no campaign c1"))["error"]["code"], "not_found");
  EXPECT_EQ(HttpStatusFor(absl::InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(absl::AlreadyExistsError("x")), 409);
  EXPECT_EQ(HttpStatusFor(absl::UnavailableError("x")), 503);
  EXPECT_EQ(HttpStatusFor(absl::DeadlineExceededError("x")), 504);
  EXPECT_EQ(HttpStatusFor(absl::ResourceExhaustedError("x")), 429);
  // Internal errors do not leak their text.
  nlohmann::json internal = ErrorBody(absl::InternalError("rocksdb: /var/lib/secret corrupt"));
  EXPECT_EQ(internal["error"]["code"], "internal");
  EXPECT_EQ(internal["error"]["message"], "internal error");
  EXPECT_EQ(HttpStatusFor(absl::InternalError("x")), 500);
}

TEST(ParseJson, NamesThePositionOfASyntaxError) {
  absl::StatusOr<nlohmann::json> j = ParseJson("{\n  \"name\": \"spring\",\n  \"rate\": tru\n}");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(HttpStatusFor(j.status()), 400);
  nlohmann::json e = ErrorBody(j.status())["error"];
  EXPECT_EQ(e["code"], "malformed_json");
  EXPECT_EQ(e["details"][0]["line"], 3);
  // Where the parser noticed: the newline after "tru".
  EXPECT_EQ(e["details"][0]["column"], 14);
  EXPECT_EQ(e["details"][0]["position"], 36);
  EXPECT_NE(std::string(e["message"]).find("line 3, column 14"), std::string::npos) << e;
  EXPECT_TRUE(ParseJson("{\"a\": [1, 2, {\"b\": null}]}").ok());
  EXPECT_FALSE(ParseJson("").ok());
  EXPECT_FALSE(ParseJson("{} {}").ok());
}

TEST(ParseJson, RefusesDeepNestingBeforeParsing) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  absl::StatusOr<nlohmann::json> j = ParseJson(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(ToStd(j.status().message()).find("nested deeper than 64"), std::string::npos);
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJson("{\"s\": \"" + std::string(1000, '[') + "\"}").ok());
}

TEST(JsonObjectReader, ReadsKnownFieldsAndNamesUnknownOnes) {
  nlohmann::json body = nlohmann::json::parse(
      R"({"name":"spring","rate":100,"track":true,"colour":"red",
          "from":{"address":"a@example.com","nmae":"x"}})");
  JsonChecker check;
  JsonObjectReader r(body, "", &check);
  EXPECT_EQ(r.String("name", kRequired), "spring");
  EXPECT_EQ(r.Int("rate", kOptional, 1, 1000), 100);
  EXPECT_EQ(r.Bool("track", kOptional), true);
  EXPECT_EQ(r.String("missing", kOptional), std::nullopt);
  const nlohmann::json* from = r.Object("from", kRequired);
  ASSERT_NE(from, nullptr);
  JsonObjectReader f(*from, r.Path("from"), &check);
  EXPECT_EQ(f.String("address", kRequired), "a@example.com");
  f.Finish();
  r.Finish();
  absl::Status s = check.ToStatus();
  ASSERT_FALSE(s.ok());
  nlohmann::json e = ErrorBody(s)["error"];
  EXPECT_EQ(e["code"], "invalid_request");
  ASSERT_EQ(e["details"].size(), 2u);
  EXPECT_EQ(e["details"][0]["field"], "from.nmae");
  EXPECT_EQ(e["details"][0]["code"], "unknown_field");
  EXPECT_EQ(e["details"][1]["field"], "colour");
}

TEST(JsonObjectReader, OneUnknownFieldIsTheError) {
  nlohmann::json body = nlohmann::json::parse(R"({"name":"x","colour":"red"})");
  JsonChecker check;
  JsonObjectReader r(body, "", &check);
  r.String("name", kRequired);
  r.Finish();
  nlohmann::json e = ErrorBody(check.ToStatus())["error"];
  EXPECT_EQ(e["code"], "unknown_field");
  EXPECT_EQ(e["message"], "unknown field \"colour\"");
  EXPECT_EQ(HttpStatusFor(check.ToStatus()), 400);
}

TEST(JsonObjectReader, MissingAndInvalidFields) {
  nlohmann::json body = nlohmann::json::parse(
      R"({"rate":"fast","count":1.5,"big":1e30,"neg":-5,"list":[1,2,3],"s":"toolong"})");
  JsonChecker check;
  JsonObjectReader r(body, "recipients[2]", &check);
  EXPECT_FALSE(r.String("email", kRequired));
  EXPECT_FALSE(r.Int("rate", kRequired, 0, 10));
  EXPECT_FALSE(r.Int("count", kRequired, 0, 10));
  EXPECT_FALSE(r.Int("big", kRequired, 0, 10));
  EXPECT_FALSE(r.Int("neg", kRequired, 0, 10));
  EXPECT_EQ(r.Array("list", kRequired, 2), nullptr);
  EXPECT_FALSE(r.String("s", kRequired, 3));
  r.Finish();
  nlohmann::json d = ErrorBody(check.ToStatus())["error"]["details"];
  ASSERT_EQ(d.size(), 7u);
  EXPECT_EQ(d[0]["field"], "recipients[2].email");
  EXPECT_EQ(d[0]["code"], "missing_field");
  EXPECT_EQ(d[1]["message"], "\"recipients[2].rate\" must be an integer, not a string");
  EXPECT_EQ(d[4]["message"], "\"recipients[2].neg\" must be between 0 and 10");
  for (int i = 1; i < 7; ++i) EXPECT_EQ(d[i]["code"], "invalid_field");
}

TEST(JsonObjectReader, NotAnObject) {
  JsonChecker check;
  JsonObjectReader r(nlohmann::json::parse("[1]"), "", &check);
  EXPECT_EQ(r.String("name", kRequired), std::nullopt);
  r.Finish();
  nlohmann::json e = ErrorBody(check.ToStatus())["error"];
  EXPECT_EQ(e["message"], "the request body must be a JSON object, not an array");
}

TEST(ReadJsonBody, ChecksTheMediaType) {
  testing::RunOnRing([]() -> Task<void> {
    HttpRequestHead head;
    head.headers.Add("Content-Type", "text/csv");
    StringBodyReader body("{}");
    HttpRequest request(std::move(head), &body);
    absl::StatusOr<nlohmann::json> j = co_await ReadJsonBody(request);
    EXPECT_EQ(HttpStatusFor(j.status()), 415);

    HttpRequestHead head2;
    head2.headers.Add("Content-Type", "application/json; charset=utf-8");
    StringBodyReader body2("{\"a\": 1}", 3);  // arrives in 3-byte pieces
    HttpRequest request2(std::move(head2), &body2);
    absl::StatusOr<nlohmann::json> j2 = co_await ReadJsonBody(request2);
    EXPECT_TRUE(j2.ok()) << j2.status();
    if (j2.ok()) {
      EXPECT_EQ((*j2)["a"], 1);
    }
  }());
}

TEST(ApiKeyAuth, HashesAndComparesTokens) {
  // printf %s 'test-token-1' | sha256sum
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  std::string token = "s3cr3t-token_value.1~";
  absl::StatusOr<ApiKeyAuth> auth =
      ApiKeyAuth::Create({"sha256:" + std::string(64, '0'), "SHA256:" + Sha256Hex(token)});
  ASSERT_TRUE(auth.ok()) << auth.status();
  absl::StatusOr<std::string> id = auth->Check("Bearer " + token);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "sha256:" + Sha256Hex(token).substr(0, 8));
  EXPECT_TRUE(auth->Check("bearer   " + token + " ").ok());
  for (std::optional<std::string_view> bad :
       {std::optional<std::string_view>(), std::optional<std::string_view>("Bearer wrong"),
        std::optional<std::string_view>("Basic dXNlcjpwYXNz"),
        std::optional<std::string_view>("Bearer"), std::optional<std::string_view>("Bearer a b")}) {
    absl::StatusOr<std::string> r = auth->Check(bad);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(HttpStatusFor(r.status()), 401);
    EXPECT_EQ(ApiErrorCode(r.status()), "unauthorized");
  }
  EXPECT_FALSE(ApiKeyAuth::Create({"sha256:abc"}).ok());
  EXPECT_FALSE(ApiKeyAuth::Create({"md5:" + std::string(64, 'a')}).ok());
  EXPECT_FALSE(ApiKeyAuth::Create({"sha256:" + std::string(64, 'g')}).ok());
  // No keys: nothing authenticates.
  EXPECT_FALSE(ApiKeyAuth().Check("Bearer " + token).ok());
}

}  // namespace
}  // namespace salvo
