// The HTTP server against real clients on a real shard: curl (keep-alive
// across URLs, HTTP/1.0, chunked and -T uploads, Expect: 100-continue,
// HEAD, streamed responses, HTTPS), Python's http.client, pipelined requests
// over a raw socket, /metrics read by two Prometheus parsers, shutdown.
#include <fstream>

#include "api/http/api_key_auth.h"
#include "engine/tls/self_signed.h"
#include "fmt/format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/api/prometheus_text.h"
#include "tests/api/test_routes.h"

namespace salvo::testing {
namespace {

using namespace std::chrono_literals;

// The JSON body at the end of curl -i / -v output.
nlohmann::json LastJson(const std::string& out) {
  size_t start = out.rfind("\n{");
  std::string body = out.substr(start == std::string::npos ? 0 : start + 1);
  body = body.substr(0, body.rfind('}') + 1);
  return nlohmann::json::parse(body, nullptr, false);
}

TEST_F(HttpServerTest, CurlGetsHealthz) {
  StartServer();
  CommandResult r = Curl("-i " + Url("/healthz"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK\r\n")) << r.output;
  EXPECT_NE(r.output.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(r.output.find("Date: "), std::string::npos);
  nlohmann::json body = LastJson(r.output);
  EXPECT_EQ(body["status"], "ok");
  EXPECT_EQ(body["version"], SALVO_TEST_VERSION);
  EXPECT_TRUE(body["uptime_seconds"].is_number());
}

TEST_F(HttpServerTest, CurlKeepsOneConnectionForSeveralUrls) {
  StartServer();
  CommandResult r = Curl(
      fmt::format("-H {} {} {} {}", AuthHeader(), Url("/path/a"), Url("/path/b"), Url("/healthz")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(R"("name":"a")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("name":"b")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("status":"ok")"), std::string::npos) << r.output;
  EXPECT_EQ(Accepted(), 1u);
  // "Connection: close" from the client: one connection per URL.
  r = Curl(fmt::format("-H 'Connection: close' {} {}", Url("/healthz"), Url("/healthz")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Accepted(), 3u);
}

TEST_F(HttpServerTest, CurlHttp10) {
  StartServer();
  CommandResult r = Curl("--http1.0 -i " + Url("/healthz"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK")) << r.output;
  EXPECT_NE(r.output.find("Connection: close\r\n"), std::string::npos) << r.output;
  // HTTP/1.0 keep-alive when asked for.
  r = Curl(
      fmt::format("--http1.0 -H 'Connection: keep-alive' {} {}", Url("/healthz"), Url("/healthz")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(Count(r.output, R"("status":"ok")"), 2);
  EXPECT_EQ(Accepted(), 2u);
}

TEST_F(HttpServerTest, CurlChunkedUploadStreamsThroughBoundedPieces) {
  StartServer();
  std::string content;
  std::string file = WriteFile("chunked_upload.csv", 6 << 20, &content);
  CommandResult r = Curl(fmt::format("-H {} -H 'Transfer-Encoding: chunked' --data-binary @{} {}",
                                     AuthHeader(), file, Url("/echo")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  nlohmann::json body = LastJson(r.output);
  EXPECT_EQ(body["bytes"], content.size()) << r.output;
  EXPECT_EQ(body["fnv"], Fnv1a(content));
  EXPECT_EQ(body["key"], "sha256:" + Sha256Hex(kTestToken).substr(0, 8));
  // The handler saw the body in receive-sized pieces, never whole.
  EXPECT_LE(body["max_piece"].get<size_t>(), 64u << 10);
  EXPECT_GT(body["pieces"].get<size_t>(), 90u);
}

TEST_F(HttpServerTest, CurlPutWithExpectContinue) {
  StartServer();
  std::string content;
  std::string file = WriteFile("put_upload.csv", 3 << 20, &content);
  // -T sends PUT; route it to /echo with -X POST.
  CommandResult r = Curl(fmt::format("-v -X POST -H {} -H 'Expect: 100-continue' -T {} {}",
                                     AuthHeader(), file, Url("/echo")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("< HTTP/1.1 100 Continue"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("< HTTP/1.1 200 OK"), std::string::npos) << r.output;
  EXPECT_EQ(LastJson(r.output)["fnv"], Fnv1a(content));
}

TEST_F(HttpServerTest, ExpectContinueRefusedBeforeTheBodyIsSent) {
  StartServer();
  std::string file = WriteFile("refused_upload.csv", 2 << 20);
  CommandResult r =
      Curl(fmt::format("-v -H 'Expect: 100-continue' --data-binary @{} {}", file, Url("/echo")));
  EXPECT_NE(r.output.find("< HTTP/1.1 401 Unauthorized"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("100 Continue"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("WWW-Authenticate: Bearer"), std::string::npos) << r.output;
}

TEST_F(HttpServerTest, HeadAndOptions) {
  StartServer();
  CommandResult r = Curl("-I " + Url("/healthz"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK")) << r.output;
  EXPECT_NE(r.output.find("Content-Length: "), std::string::npos);
  EXPECT_EQ(r.output.find("\"status\""), std::string::npos) << "HEAD has no body";
  r = Curl("-i -X OPTIONS " + Url("/echo"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 204 No Content")) << r.output;
  EXPECT_NE(r.output.find("Allow: POST\r\n"), std::string::npos) << r.output;
}

TEST_F(HttpServerTest, StreamedResponseIsChunkedOrEndsAtClose) {
  StartServer();
  CommandResult r = Curl(fmt::format("-i -H {} '{}'", AuthHeader(), Url("/stream?n=5000")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(Count(r.output, "line "), 5000);
  EXPECT_NE(r.output.find("line 4999\n"), std::string::npos);
  r = Curl(fmt::format("--http1.0 -i -H {} '{}'", AuthHeader(), Url("/stream?n=300")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("Transfer-Encoding"), std::string::npos);
  EXPECT_NE(r.output.find("Connection: close\r\n"), std::string::npos);
  EXPECT_EQ(Count(r.output, "line "), 300);
}

TEST_F(HttpServerTest, PythonHttpClientOverOneConnection) {
  StartServer();
  std::string script = R"(
import http.client, json, sys
port, token = int(sys.argv[1]), sys.argv[2]
auth = {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}
c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
def call(method, path, body=None, headers={}, **kw):
    c.request(method, path, body=body, headers=headers, **kw)
    r = c.getresponse()
    return r, r.read()
r, b = call('GET', '/healthz')
assert r.status == 200 and json.loads(b)['status'] == 'ok', (r.status, b)
r, b = call('POST', '/json', json.dumps({'name': 'spring', 'count': 3}), auth)
assert r.status == 201 and json.loads(b) == {'name': 'spring', 'count': 3}, (r.status, b)
r, b = call('POST', '/json', '{"name": "x", "colour": "red"}', auth)
e = json.loads(b)['error']
assert r.status == 400 and e['code'] == 'unknown_field' and 'colour' in e['message'], b
r, b = call('POST', '/json', '{"name": ', auth)
e = json.loads(b)['error']
assert r.status == 400 and e['code'] == 'malformed_json' and e['details'][0]['position'] > 0, b
r, b = call('POST', '/json', '{"count": 3}', auth)
assert r.status == 400 and json.loads(b)['error']['code'] == 'missing_field', b
r, b = call('GET', '/nope')
assert r.status == 404 and json.loads(b)['error']['code'] == 'not_found', b
r, b = call('DELETE', '/healthz')
assert r.status == 405 and r.getheader('Allow') == 'GET, HEAD', (r.status, r.getheader('Allow'))
def pieces():
    for i in range(100):
        yield b'x' * 1000
r, b = call('POST', '/echo', pieces(), {'Authorization': 'Bearer ' + token}, encode_chunked=True)
assert r.status == 200 and json.loads(b)['bytes'] == 100000, b
r, b = call('GET', '/path/caf%C3%A9?x=1', headers=auth)
assert json.loads(b) == {'name': 'caf\u00e9', 'target': '/path/caf%C3%A9?x=1'}, b
print('ok')
)";
  CommandResult r = RunPython(script, {std::to_string(server_->port()), kTestToken});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "ok\n");
  EXPECT_EQ(Accepted(), 1u) << "every request on one keep-alive connection";
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  std::string auth = fmt::format("Authorization: Bearer {}\r\n", kTestToken);
  std::string requests =
      "GET /path/first HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n" +
      "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n" + auth + "\r\nhello" +
      "POST /json HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n" + auth +
      "\r\n4\r\n{\"na\r\n8\r\nme\":\"x\"}\r\n0\r\n\r\n" + "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n" +
      "GET /path/last HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n";
  ASSERT_TRUE(c.Send(requests));
  std::string out = c.ReadResponses(5, 10s);
  ASSERT_EQ(Count(out, "HTTP/1.1 "), 5) << out;
  size_t first = out.find(R"("name":"first")");
  size_t echo = out.find(R"("bytes":5)");
  size_t json = out.find(R"({"count":0,"name":"x"})");
  size_t nope = out.find("404 Not Found");
  size_t last = out.find(R"("name":"last")");
  ASSERT_NE(last, std::string::npos) << out;
  EXPECT_LT(first, echo);
  EXPECT_LT(echo, json);
  EXPECT_LT(json, nope);
  EXPECT_LT(nope, last);
  // The connection stays open for more.
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  std::string tail = c.ReadUntilClose(10s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_NE(tail.find("Connection: close"), std::string::npos) << tail;
}

TEST_F(HttpServerTest, RequestsArrivingOneByteAtATime) {
  StartServer();
  RawClient c(server_->port());
  std::string request = fmt::format(
      "POST /echo HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n"
      "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1;x=y\r\n \r\n5\r\nworld\r\n0\r\n\r\n"
      "GET /path/next HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {}\r\n\r\n",
      kTestToken, kTestToken);
  ASSERT_TRUE(c.SendByteByByte(request, 200us));
  std::string out = c.ReadResponses(2, 10s);
  EXPECT_NE(out.find(fmt::format(R"("bytes":11,"fnv":"{}")", Fnv1a("hello world"))),
            std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("name":"next")"), std::string::npos) << out;
}

TEST_F(HttpServerTest, UnreadSmallBodyIsDrainedAndTheConnectionKept) {
  StartServer();
  RawClient c(server_->port());
  std::string auth = fmt::format("Authorization: Bearer {}\r\n", kTestToken);
  ASSERT_TRUE(c.Send("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n" + auth +
                     "\r\n" + std::string(1000, 'z') + "GET /path/after HTTP/1.1\r\nHost: t\r\n" +
                     auth + "\r\n"));
  std::string out = c.ReadResponses(2, 10s);
  EXPECT_NE(out.find(R"("ignored":true)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("name":"after")"), std::string::npos) << out;
  EXPECT_EQ(Count(out, "Connection: keep-alive"), 2) << out;
}

TEST_F(HttpServerTest, MetricsParseAsPrometheusText) {
  StartServer();
  ASSERT_EQ(Curl(fmt::format("{} {} {}", Url("/healthz"), Url("/healthz"), Url("/nope"))).exit_code,
            0);
  CommandResult r = Curl("-i " + Url("/metrics"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos);
  std::string text = r.output.substr(r.output.find("\r\n\r\n") + 4);
  PromText parsed = ParsePrometheusText(text);
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0] << "\n" << text;
  EXPECT_EQ(FindSample(parsed, "salvo_http_requests_total",
                       {{"route", "/healthz"}, {"method", "GET"}, {"code", "200"}}),
            2.0);
  EXPECT_EQ(FindSample(parsed, "salvo_http_requests_total",
                       {{"route", "unmatched"}, {"method", "GET"}, {"code", "404"}}),
            1.0);
  EXPECT_EQ(FindSample(parsed, "salvo_http_connections_accepted_total"), 2.0);
  EXPECT_EQ(FindSample(parsed, "salvo_http_connections_open"), 1.0);  // this scrape's
  EXPECT_EQ(FindSample(parsed, "salvo_build_info", {{"version", SALVO_TEST_VERSION}}), 1.0);
  EXPECT_EQ(parsed.type["salvo_http_request_duration_seconds"], "histogram");
  EXPECT_EQ(
      FindSample(parsed, "salvo_http_request_duration_seconds_count", {{"route", "/healthz"}}),
      2.0);
  // And Prometheus's own parser agrees.
  std::string path = ::testing::TempDir() + "/scrape.txt";
  std::ofstream(path) << text;
  CommandResult py = RunPython(R"(
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams['salvo_http_requests'].type == 'counter'
assert fams['salvo_http_request_duration_seconds'].type == 'histogram'
print(len(fams))
)",
                               {path});
  EXPECT_EQ(py.exit_code, 0) << py.output;
}

TEST_F(HttpServerTest, MetricsNeedAKeyWhenNotOpenOnLoopback) {
  StartServer({}, 1, nullptr, /*metrics_open=*/false);
  CommandResult r = Curl("-i " + Url("/metrics"));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 401 Unauthorized")) << r.output;
  r = Curl(fmt::format("-i -H {} {}", AuthHeader(), Url("/metrics")));
  EXPECT_TRUE(r.output.starts_with("HTTP/1.1 200 OK")) << r.output;
}

TEST_F(HttpServerTest, HttpsWithTheEngineTlsStream) {
  std::string cert = ::testing::TempDir() + "/api_cert.pem";
  std::string key = ::testing::TempDir() + "/api_key.pem";
  ASSERT_TRUE(GenerateSelfSignedCertificate(cert, key, "localhost", 2).ok());
  absl::StatusOr<TlsContext> ctx = TlsContext::Server({cert, key});
  ASSERT_TRUE(ctx.ok()) << ctx.status();
  StartServer({}, 1, std::make_shared<TlsContext>(std::move(*ctx)));
  CommandResult r = Curl(fmt::format("--cacert {} -H {} {} {}", cert, AuthHeader(),
                                     Url("/healthz", true), Url("/path/secure", true)));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(R"("status":"ok")"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("name":"secure")"), std::string::npos) << r.output;
  EXPECT_EQ(Accepted(), 1u);
  // Plain HTTP to the HTTPS port fails the handshake, nothing else.
  r = Curl(Url("/healthz"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(server_->server().metrics().tls_handshake_failures.Value(), 1u);
}

TEST_F(HttpServerTest, TwoShardsShareThePort) {
  StartServer({}, 2);
  std::string urls;
  for (int i = 0; i < 12; ++i) urls.append(" ").append(Url(fmt::format("/open/path/n{}", i)));
  CommandResult r = Curl("-H 'Connection: close'" + urls);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (int i = 0; i < 12; ++i) {
    EXPECT_NE(r.output.find(fmt::format(R"("name":"n{}")", i)), std::string::npos);
  }
  EXPECT_EQ(Accepted(), 12u);
}

TEST_F(HttpServerTest, StopClosesIdleConnectionsAndReturns) {
  StartServer();
  RawClient c(server_->port());
  ASSERT_TRUE(c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  std::string out = c.ReadResponses(1, 10s);
  EXPECT_NE(out.find("200 OK"), std::string::npos);
  server_->Stop();  // returns only once the session has ended
  bool closed = false;
  EXPECT_EQ(c.ReadUntilClose(5s, &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(server_->server().metrics().connections_open.Value(), 0);
}

}  // namespace
}  // namespace salvo::testing
