#include "tests/api/test_routes.h"

#include <cstdlib>
#include <fstream>

#include "api/api_routes.h"
#include "api/http/api_error.h"
#include "api/http/json_body.h"
#include "engine/base/status_macros.h"
#include "fmt/format.h"

namespace salvo::testing {
namespace {

Task<absl::StatusOr<HttpResponse>> Echo(HttpRequest& request) {
  uint64_t bytes = 0, hash = 14695981039346656037ull;
  size_t max_piece = 0, pieces = 0;
  for (;;) {
    CO_ASSIGN_OR_RETURN(std::string_view piece, co_await request.body().Read());
    if (piece.empty()) break;
    for (char c : piece) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    bytes += piece.size();
    max_piece = std::max(max_piece, piece.size());
    ++pieces;
  }
  co_return JsonResponse(200, {{"bytes", bytes},
                               {"fnv", fmt::format("{:016x}", hash)},
                               {"max_piece", max_piece},
                               {"pieces", pieces},
                               {"key", request.api_key_id()}});
}

Task<absl::StatusOr<HttpResponse>> StrictJson(HttpRequest& request) {
  CO_ASSIGN_OR_RETURN(nlohmann::json body, co_await ReadJsonBody(request));
  JsonChecker check;
  JsonObjectReader r(body, "", &check);
  std::optional<std::string> name = r.String("name", kRequired, 100);
  std::optional<int64_t> count = r.Int("count", kOptional, 0, 1000);
  r.Finish();
  CO_RETURN_IF_ERROR(check.ToStatus());
  co_return JsonResponse(201, {{"name", *name}, {"count", count.value_or(0)}});
}

Task<absl::StatusOr<HttpResponse>> PathName(HttpRequest& request) {
  co_return JsonResponse(
      200, {{"name", std::string(*request.Param("name"))}, {"target", request.target()}});
}

Task<absl::StatusOr<HttpResponse>> Ignore(HttpRequest&) {
  co_return JsonResponse(200, {{"ignored", true}});
}

class Lines final : public HttpBodySource {
 public:
  explicit Lines(int n) : n_(n) {}
  Task<absl::StatusOr<bool>> Next(std::string& out, Deadline) override {
    if (i_ == n_) co_return false;
    // Several lines per piece, as a report writer would batch them.
    for (int k = 0; k < 10 && i_ < n_; ++k) out += fmt::format("line {}\n", i_++);
    co_return true;
  }

 private:
  int n_;
  int i_ = 0;
};

Task<absl::StatusOr<HttpResponse>> Stream(HttpRequest& request) {
  int n = std::atoi(request.QueryParam("n").value_or("10").c_str());
  HttpResponse r;
  r.headers.Add("Content-Type", "text/plain");
  r.stream = std::make_unique<Lines>(n);
  co_return r;
}

}  // namespace

std::string Fnv1a(std::string_view data) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : data) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ull;
  }
  return fmt::format("{:016x}", hash);
}

HttpRouter TestRouter(MetricsRegistry* metrics, bool metrics_open_on_loopback) {
  HttpRouter router;
  absl::Status s = api::AddOperationalRoutes(
      router, {.metrics = metrics, .open_on_loopback = metrics_open_on_loopback});
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/echo", Echo, {.body_limit = kEchoBodyLimit}).ok());
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/json", StrictJson).ok());
  EXPECT_TRUE(router.Add(HttpMethod::kGet, "/path/{name}", PathName).ok());
  EXPECT_TRUE(
      router.Add(HttpMethod::kGet, "/open/path/{name}", PathName, {.access = HttpAccess::kOpen})
          .ok());
  EXPECT_TRUE(router.Add(HttpMethod::kPost, "/ignore", Ignore).ok());
  EXPECT_TRUE(router.Add(HttpMethod::kGet, "/stream", Stream).ok());
  return router;
}

void HttpServerTest::StartServer(HttpLimits limits, int shards, std::shared_ptr<TlsContext> tls,
                                 bool metrics_open) {
  server_.reset();
  HttpServerOptions options;
  options.limits = limits;
  options.metrics = metrics_.get();
  options.tls = std::move(tls);
  absl::StatusOr<ApiKeyAuth> auth = ApiKeyAuth::Create({"sha256:" + Sha256Hex(kTestToken)});
  ASSERT_TRUE(auth.ok());
  options.auth = *auth;
  server_ =
      TestHttpServer::Start(std::move(options), TestRouter(metrics_.get(), metrics_open), shards);
  ASSERT_NE(server_, nullptr);
}

CommandResult HttpServerTest::Curl(const std::string& args) {
  return RunCommand("curl -sS --max-time 10 " + args, 20);
}

std::string HttpServerTest::AuthHeader() const {
  return ShellQuote(fmt::format("Authorization: Bearer {}", kTestToken));
}

std::string HttpServerTest::WriteFile(std::string_view name, size_t size, std::string* content) {
  std::string path = fmt::format("{}/{}", ::testing::TempDir(), name);
  std::string data;
  data.reserve(size);
  for (size_t i = 0; data.size() < size; ++i)
    data += fmt::format("{},row-{}\n", i, i * 7919 % 104729);
  data.resize(size);
  std::ofstream(path, std::ios::binary) << data;
  if (content) *content = std::move(data);
  return path;
}

}  // namespace salvo::testing
