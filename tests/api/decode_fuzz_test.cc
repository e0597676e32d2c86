// Mutation fuzzing of the HTTP API's I/O-free request decoding: JSON bodies
// (ParseJson and the fields of POST /v1/messages through JsonObjectReader,
// ReadHeaders, ReadAttachments, ReadVariables, CheckAddress), CSV recipient
// uploads (CsvReader) and HTTP/1.1 requests (HttpRequestParser). Seeded
// mutations of valid inputs with a dictionary of tokens, bounded in count.
// The invariants are those of tests/fuzz/api_checks.h: errors are 400s,
// values round-trip (JSON through dump(), CSV rows through quoting), and
// the CSV and HTTP readers give the same result however the bytes arrive.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "tests/fuzz/api_message_checks.h"
#include "tests/fuzz/mutator.h"

namespace salvo {
namespace {

const std::vector<std::string> kJsonSeeds = {
    R"({"from": "Shop <news@example.com>", "to": ["a@example.org", "b@example.net"],
        "subject": "Hi", "text": "Hello", "headers": {"X-Campaign": "spring"},
        "attachments": [{"filename": "a.txt", "content_type": "text/plain", "content": "aGk="}],
        "vars": {"name": "Ann", "n": 3, "vip": true, "none": null}})",
    R"({"from": "news@example.com", "to": [], "raw": "Subject: x\r\n\r\nbody"})",
    R"([1, 2.5e3, -0, "\u00e9\ud83d\ude00", {"a": {"b": [null, false]}}])",
    R"({"from": "\"Odd, Name\" <x@[192.0.2.1]>", "to": ["user@xn--bcher-kva.example"]})",
};

const std::vector<std::string> kJsonTokens = {
    "{",           "}",
    "[",           "]",
    "\"",          ":",
    ",",           "\\u0000",
    "\\ud800",     "\\n",
    "\r",          "1e999",
    "-",           "null",
    "true",        "@",
    "<",           ">",
    "\"to\"",      "\"from\"",
    "\"headers\"", "\"vars\"",
    "[[[[[[[[",    "\xff",
    "\xc3",        "0.0000000000000000001",
    "\"Bcc\"",
};

TEST(ApiDecodeFuzz, MutatedJsonBodiesKeepInvariants) {
  constexpr int kIterations = 2'500;
  fuzz::Mutator m(8259, kJsonTokens);
  int parsed = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string text = m.Mutate(kJsonSeeds[m.Below(kJsonSeeds.size())], 3, 4000);
    ASSERT_EQ(fuzz::CheckJson(text), "") << "json: " << testing::PrintToString(text);
    parsed += ParseJson(text).ok();
  }
  EXPECT_GT(parsed, kIterations / 20);
}

TEST(ApiDecodeFuzz, DeepJsonIsRefusedBeforeParsing) {
  std::string deep(100'000, '[');
  absl::StatusOr<nlohmann::json> json = ParseJson(deep);
  EXPECT_FALSE(json.ok());
  EXPECT_EQ(HttpStatusFor(json.status()), 400);
}

// Found by MutatedJsonBodiesKeepInvariants: nlohmann's out_of_range (number
// overflow) escaped ParseJson, and an exception in a handler's coroutine
// terminates the daemon (Task::unhandled_exception).
TEST(ApiDecodeFuzz, NumberOverflowIsMalformedJson) {
  for (const char* text : {"{\"a\": 1e999}", "[-2.51e9990]", "1E400"}) {
    absl::StatusOr<nlohmann::json> json = ParseJson(text);
    ASSERT_FALSE(json.ok()) << text;
    EXPECT_EQ(HttpStatusFor(json.status()), 400);
    EXPECT_EQ(ApiErrorCode(json.status()), "malformed_json");
  }
  EXPECT_TRUE(absl::StrContains(ParseJson("{\"a\": 1e999}").status().message(), "at byte 7"));
}

const std::vector<std::string> kCsvSeeds = {
    "email,name,city\r\na@example.org,Ann,Paris\r\n\"b@example.org\",\"Bob "
    "\"\"B\"\"\",\"New\r\nYork\"\r\n",
    "email\nc@example.org\n\nd@example.org",
    "email,vars\r\"e@x.org\",\"a,b\"\r",
};

TEST(ApiDecodeFuzz, MutatedCsvIsSplitInvariantAndRoundTrips) {
  constexpr int kIterations = 6'000;
  fuzz::Mutator m(4180,
                  {",", "\"", "\"\"", "\r\n", "\n", "\r", "\r\n\r\n", ",,,,,,,,", "\xff", " "});
  api::CsvLimits limits;
  limits.max_field_bytes = 64;
  limits.max_row_bytes = 256;
  limits.max_columns = 8;
  int rows = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string text = m.Mutate(kCsvSeeds[m.Below(kCsvSeeds.size())], 4, 2000);
    std::vector<size_t> cuts = m.Splits(text.size());
    ASSERT_EQ(fuzz::CheckCsv(text, cuts, limits), "") << "csv: " << testing::PrintToString(text);
    rows += static_cast<int>(fuzz::ReadCsv(text, {text.size()}, limits).rows.size());
  }
  EXPECT_GT(rows, kIterations);
}

const std::vector<std::string> kHttpSeeds = {
    "POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
    "Content-Length: 13\r\n\r\n{\"a\": [1, 2]}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST /v1/campaigns/c1/recipients HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
    "Expect: 100-continue\r\n\r\n5\r\nemail\r\n0\r\nX-Trailer: t\r\n\r\n",
    "GET /v1/events?limit=10 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "DELETE /v1/suppressions/a%40b HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
};

TEST(ApiDecodeFuzz, MutatedHttpRequestsAreSplitInvariant) {
  constexpr int kIterations = 4'000;
  fuzz::Mutator m(9112, {"\r\n", "\r\n\r\n", ":", " ", "Content-Length: ", "Transfer-Encoding: ",
                         "chunked", "gzip, chunked", "ffffffffffffffff\r\n", "0\r\n\r\n", ";ext=1",
                         "Host: h\r\n", "Expect: ", "HTTP/1.1", "HTTP/2.0", "\n", "\t", "\0"});
  int complete = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string text = m.Mutate(kHttpSeeds[m.Below(kHttpSeeds.size())], 4, 3000);
    std::vector<size_t> cuts = m.Splits(text.size());
    ASSERT_EQ(fuzz::CheckHttp(text, cuts), "") << "request: " << testing::PrintToString(text);
    complete += !fuzz::ParseHttp(text, {text.size()}, 300).bodies.empty();
  }
  EXPECT_GT(complete, kIterations / 10);
}

// Found by http_request_fuzzer: when the request line came in a piece of its
// own and no field followed, the bare-LF scan missed the end of the head and
// refused the request for a bare LF in what followed it.
TEST(ApiDecodeFuzz, HeadWithoutFieldsEndsAtItsEmptyLine) {
  std::string input = "POST /v1/x HTTP/1.0\r\n\r\nbad\nrequest\r\n\r\n";
  fuzz::HttpResult whole = fuzz::ParseHttp(input, {input.size()}, 300);
  fuzz::HttpResult split = fuzz::ParseHttp(input, {21, input.size()}, 300);
  EXPECT_EQ(whole.heads.size(), 1u);
  EXPECT_EQ(split.heads, whole.heads);
  EXPECT_EQ(split.bodies, whole.bodies);
  EXPECT_EQ(fuzz::CheckHttp(input, {21, 22, input.size()}), "");
}

}  // namespace
}  // namespace salvo
