// The HTTP server against hostile and broken peers: every limit answers with
// its status and the JSON error, and a connection whose input can no longer
// be trusted is closed — oversize heads (431), oversize bodies (413), garbage
// (400), slowloris (408 then close), stalled bodies, idle keep-alive, bad
// auth (401), unknown routes (404), wrong methods (405), too many requests
// per connection and too many connections.
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/test_routes.h"

namespace salvo::testing {
namespace {

using namespace std::chrono_literals;

// The JSON error in a raw response.
std::string ErrorCode(const std::string& response) {
  size_t start = response.find("\r\n\r\n");
  if (start == std::string::npos) return "";
  std::string body = response.substr(start + 4);
  body = body.substr(0, body.find("}}") + 2);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() ? j["error"]["code"].get<std::string>() : "";
}

// Sends `request` on a fresh connection; returns everything until close.
std::string Exchange(int port, std::string_view request, bool* closed) {
  RawClient c(port);
  EXPECT_TRUE(c.Send(request));
  return c.ReadUntilClose(10s, closed);
}

TEST_F(HttpServerTest, OversizeHeadersAre431) {
  StartServer({.max_header_bytes = 4096});
  CommandResult r =
      Curl(fmt::format("-i -H 'X-Big: {}' {}", std::string(5000, 'a'), Url("/healthz")));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 431 Request Header Fields Too Large")) << r.output;
  EXPECT_NE(r.output.find(R"("code":"headers_too_large")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Connection: close"), std::string::npos);

  std::string many = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 150; ++i) many += fmt::format("X-{}: v\r\n", i);
  bool closed = false;
  std::string out = Exchange(server_->port(), many + "\r\n", &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 431 ")) << out;
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, OversizeBodiesAre413) {
  StartServer();
  std::string auth = fmt::format("Authorization: Bearer {}\r\n", kTestToken);
  // Declared too large: refused from the head, before any body byte.
  bool closed = false;
  std::string out =
      Exchange(server_->port(),
               "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n" + auth + "\r\n{\"na",
               &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 413 Content Too Large")) << out;
  EXPECT_EQ(ErrorCode(out), "payload_too_large");
  EXPECT_TRUE(closed);
  // Chunked: refused when a chunk crosses the route's limit (1 MiB default).
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /json HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n" + auth + "\r\n"));
  std::string chunk(256 << 10, ' ');
  for (int i = 0; i < 5; ++i) c.Send(fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk));
  out = c.ReadUntilClose(10s, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 413 ")) << out.substr(0, 200);
  EXPECT_TRUE(closed);
  // curl too (it may use Expect: 100-continue for a large body).
  std::string file = WriteFile("too_big.json", 3 << 20);
  CommandResult r =
      Curl(fmt::format("-i -H {} -H 'Content-Type: application/json' "
                       "--data-binary @{} {}",
                       AuthHeader(), file, Url("/json")));
  EXPECT_NE(r.output.find("HTTP/1.1 413 Content Too Large"), std::string::npos) << r.output;
}

TEST_F(HttpServerTest, GarbageIs400AndClosed) {
  StartServer();
  for (std::string_view garbage :
       {std::string_view("HELLO\r\n\r\n"), std::string_view("GET / HTTP/1.1\r\nHost t\r\n\r\n"),
        std::string_view("GET /x HTTP/1.1\r\n\r\n"),  // no Host
        std::string_view("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11)}) {
    bool closed = false;
    std::string out = Exchange(server_->port(), garbage, &closed);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 400 Bad Request")) << out;
    EXPECT_EQ(ErrorCode(out), "bad_request");
    EXPECT_TRUE(closed);
  }
  bool closed = false;
  std::string out =
      Exchange(server_->port(), "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
               &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 501 ")) << out;
  out = Exchange(server_->port(), "GET / HTTP/2.0\r\nHost: t\r\n\r\n", &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 505 ")) << out;
  out = Exchange(server_->port(), "GET / HTTP/1.1\r\nHost: t\r\nExpect: coffee\r\n\r\n", &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 417 ")) << out;
}

TEST_F(HttpServerTest, SlowlorisIsCutOffByTheHeaderTimeout) {
  StartServer({.header_timeout = 1s});
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: "));
  // One byte every 100 ms: each read is quick, the head never completes.
  std::string out;
  bool closed = false;
  for (int i = 0; i < 60 && !closed && out.empty(); ++i) {
    c.Send("a");
    out += c.ReadUntilClose(100ms, &closed);
  }
  out += c.ReadUntilClose(5s, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 408 Request Timeout")) << out;
  EXPECT_EQ(ErrorCode(out), "request_timeout");
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, SilentAndIdleConnectionsAreClosed) {
  StartServer({.header_timeout = 500ms, .idle_timeout = 500ms});
  // Connects and says nothing.
  RawClient silent(server_->port());
  bool closed = false;
  EXPECT_EQ(silent.ReadUntilClose(5s, &closed), "");
  EXPECT_TRUE(closed);
  // Keep-alive after one request: closed quietly when idle.
  RawClient idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  EXPECT_NE(idle.ReadResponses(1, 5s).find("200 OK"), std::string::npos);
  EXPECT_EQ(idle.ReadUntilClose(5s, &closed), "");
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, StalledBodyIs408) {
  StartServer({.body_read_timeout = 500ms});
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send(fmt::format(
      "POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n"
      "only ten..",
      kTestToken)));
  bool closed = false;
  std::string out = c.ReadUntilClose(5s, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 408 ")) << out;
  EXPECT_TRUE(closed);
  // A body cut short by the client's close: 400, not a hang.
  RawClient cut(server_->port());
  ASSERT_TRUE(cut.Send(fmt::format(
      "POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n"
      "short",
      kTestToken)));
  cut.ShutdownWrite();
  out = cut.ReadUntilClose(5s, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 400 ")) << out;
  EXPECT_EQ(ErrorCode(out), "incomplete_body");
}

TEST_F(HttpServerTest, BadAuthIs401) {
  StartServer();
  CommandResult r = Curl("-i " + Url("/path/x"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 401 Unauthorized")) << r.output;
  EXPECT_NE(r.output.find("WWW-Authenticate: Bearer realm=\"salvo\"\r\n"), std::string::npos);
  EXPECT_NE(r.output.find(R"("code":"unauthorized")"), std::string::npos);
  r = Curl("-i -H 'Authorization: Bearer wrong-token' " + Url("/path/x"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 401 ")) << r.output;
  EXPECT_NE(r.output.find("error=\"invalid_token\""), std::string::npos) << r.output;
  r = Curl("-i -u user:pass " + Url("/path/x"));  // Basic is not accepted
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 401 ")) << r.output;
  r = Curl(fmt::format("-i -H {} {}", AuthHeader(), Url("/path/x")));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK")) << r.output;
  // An open route needs nothing.
  r = Curl("-i " + Url("/open/path/x"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK")) << r.output;
}

TEST_F(HttpServerTest, UnknownRouteIs404AndWrongMethodIs405) {
  StartServer();
  CommandResult r = Curl("-i " + Url("/v1/nothing-here"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 404 Not Found")) << r.output;
  EXPECT_NE(r.output.find(R"("code":"not_found")"), std::string::npos);
  r = Curl("-i -X PUT " + Url("/healthz"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 405 Method Not Allowed")) << r.output;
  EXPECT_NE(r.output.find("Allow: GET, HEAD\r\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("code":"method_not_allowed")"), std::string::npos);
}

TEST_F(HttpServerTest, RequestsPerConnectionAreBounded) {
  StartServer({.max_requests_per_connection = 3});
  RawClient c(server_->port());
  std::string req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(c.Send(req + req + req + req));
  bool closed = false;
  std::string out = c.ReadUntilClose(10s, &closed);
  EXPECT_EQ(Count(out, "HTTP/1.1 200 OK"), 3) << out;
  EXPECT_EQ(Count(out, "Connection: close"), 1);
  EXPECT_TRUE(closed);
}

TEST_F(HttpServerTest, ConnectionsPerShardAreBounded) {
  StartServer({.max_connections = 2});
  RawClient a(server_->port()), b(server_->port());
  std::string req = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  ASSERT_TRUE(a.Send(req));
  ASSERT_TRUE(b.Send(req));
  EXPECT_NE(a.ReadResponses(1, 5s).find("200 OK"), std::string::npos);
  EXPECT_NE(b.ReadResponses(1, 5s).find("200 OK"), std::string::npos);
  bool closed = false;
  std::string out = Exchange(server_->port(), req, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 503 Service Unavailable")) << out;
  EXPECT_EQ(ErrorCode(out), "too_many_connections");
  EXPECT_NE(out.find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(server_->server().metrics().connections_rejected.Value(), 1u);
}

TEST_F(HttpServerTest, LargeUnreadBodyClosesTheConnection) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(
      c.Send(fmt::format("POST /ignore HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer "
                         "{}\r\nContent-Length: 500000\r\n\r\n",
                         kTestToken)));
  c.Send(std::string(100000, 'q'));
  bool closed = false;
  std::string out = c.ReadUntilClose(10s, &closed);
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK")) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace salvo::testing
