// The router: literal and parameter segments, percent-decoding, the most
// specific match, 404 / 405 with Allow, HEAD served by GET, bad patterns.
#include "api/http/router.h"

#include "gtest/gtest.h"

namespace salvo {
namespace {

// Handlers are not run here: the router only matches.
HttpHandler Named(std::string_view) {
  return [](HttpRequest&) -> Task<absl::StatusOr<HttpResponse>> { return {}; };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(router_.Add(HttpMethod::kGet, "/v1/campaigns", Named("list")).ok());
    ASSERT_TRUE(router_.Add(HttpMethod::kPost, "/v1/campaigns", Named("create")).ok());
    ASSERT_TRUE(router_.Add(HttpMethod::kGet, "/v1/campaigns/{id}", Named("get")).ok());
    ASSERT_TRUE(router_.Add(HttpMethod::kGet, "/v1/campaigns/stats", Named("stats")).ok());
    ASSERT_TRUE(router_.Add(HttpMethod::kPost, "/v1/campaigns/{id}/pause", Named("pause")).ok());
    ASSERT_TRUE(
        router_.Add(HttpMethod::kDelete, "/v1/suppressions/{domain}/{local}", Named("del")).ok());
  }
  HttpRouter router_;
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
  HttpRouter::Match m = router_.Find(HttpMethod::kPost, "/v1/campaigns/c-42/pause");
  ASSERT_EQ(m.kind, HttpRouter::Match::kFound);
  EXPECT_EQ(m.route->pattern, "/v1/campaigns/{id}/pause");
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>("id", "c-42")));

  m = router_.Find(HttpMethod::kDelete, "/v1/suppressions/example.com/j%C3%B6rg%2Bx");
  ASSERT_EQ(m.kind, HttpRouter::Match::kFound);
  EXPECT_EQ(m.params[0].second, "example.com");
  EXPECT_EQ(m.params[1].second, "j\xC3\xB6rg+x");  // decoded; '+' stays '+' in a path
}

TEST_F(RouterTest, LiteralBeatsParameter) {
  HttpRouter::Match m = router_.Find(HttpMethod::kGet, "/v1/campaigns/stats");
  ASSERT_EQ(m.kind, HttpRouter::Match::kFound);
  EXPECT_EQ(m.route->pattern, "/v1/campaigns/stats");
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(router_.Find(HttpMethod::kGet, "/v1/campaigns/other").route->pattern,
            "/v1/campaigns/{id}");
}

TEST_F(RouterTest, UnknownPathsAre404) {
  for (const char* path : {"/", "/v1", "/v1/campaigns/", "/v1/campaigns/x/y", "/v2/campaigns",
                           "/v1/campaigns//pause", "/v1/campaigns/%zz/pause"}) {
    EXPECT_EQ(router_.Find(HttpMethod::kGet, path).kind, HttpRouter::Match::kNotFound) << path;
  }
  EXPECT_EQ(router_.Find(HttpMethod::kGet, "campaigns").kind, HttpRouter::Match::kBadPath);
  EXPECT_EQ(router_.Find(HttpMethod::kGet, "*").kind, HttpRouter::Match::kBadPath);
}

TEST_F(RouterTest, OtherMethodsAre405WithAllow) {
  HttpRouter::Match m = router_.Find(HttpMethod::kDelete, "/v1/campaigns");
  EXPECT_EQ(m.kind, HttpRouter::Match::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, POST");
  m = router_.Find(HttpMethod::kGet, "/v1/campaigns/c1/pause");
  EXPECT_EQ(m.kind, HttpRouter::Match::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "POST");
  m = router_.Find(HttpMethod::kOther, "/v1/campaigns");
  EXPECT_EQ(m.kind, HttpRouter::Match::kMethodNotAllowed);
}

TEST_F(RouterTest, HeadIsServedByGet) {
  HttpRouter::Match m = router_.Find(HttpMethod::kHead, "/v1/campaigns/c1");
  ASSERT_EQ(m.kind, HttpRouter::Match::kFound);
  EXPECT_EQ(m.route->method, HttpMethod::kGet);
  EXPECT_EQ(m.params[0].second, "c1");
}

TEST_F(RouterTest, RefusesBadAndDuplicatePatterns) {
  EXPECT_TRUE(
      absl::IsAlreadyExists(router_.Add(HttpMethod::kGet, "/v1/campaigns/{other}", Named("dup"))));
  EXPECT_TRUE(absl::IsInvalidArgument(router_.Add(HttpMethod::kGet, "v1/x", Named("x"))));
  EXPECT_TRUE(absl::IsInvalidArgument(router_.Add(HttpMethod::kGet, "/v1/{a", Named("x"))));
  EXPECT_TRUE(absl::IsInvalidArgument(router_.Add(HttpMethod::kGet, "/v1/x{a}", Named("x"))));
  EXPECT_TRUE(absl::IsInvalidArgument(router_.Add(HttpMethod::kGet, "/v1/x", nullptr)));
  // The same pattern for another method is fine.
  EXPECT_TRUE(router_.Add(HttpMethod::kPut, "/v1/campaigns/{id}", Named("put")).ok());
}

}  // namespace
}  // namespace salvo
