// HttpServer: the HTTP/1.1 server of the API, on the engine's loop.
//
// One HttpServer (options, router, API keys, metrics) is shared read-only by
// every shard; each shard runs Serve() on its own Listener (SO_REUSEPORT on
// the same address), and each accepted connection gets one session
// coroutine (http_session.h) that reads requests, runs their handlers and
// writes the responses, in order. Optional implicit TLS (HTTPS) wraps the
// connection in an engine/tls TlsStream before the first request.
//
// Every bound is explicit (HttpLimits): head bytes and fields, body bytes
// (per route, capped), requests per connection, connections per shard, and
// the time allowed for each phase (first byte, head, body gaps, the whole
// request, each write, the TLS handshake, the lingering close).
//
// Shutdown: when the shard is asked to stop, Serve() closes its listener,
// idle keep-alive connections are closed at once, requests in progress
// finish (within their deadlines) and answer with "Connection: close", and
// Serve() returns once the last of its sessions has ended.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "api/http/api_key_auth.h"
#include "api/http/router.h"
#include "engine/base/deadline.h"
#include "engine/base/metrics.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"
#include "engine/tls/tls_context.h"

namespace salvo {

struct HttpLimits {
  size_t max_header_bytes = 8192;                         // request line + header fields (431)
  size_t max_header_fields = 100;                         // (431)
  uint64_t default_body_bytes = 1 << 20;                  // routes without their own limit (413)
  uint64_t max_body_bytes = 1ull << 30;                   // the most any route may allow (413)
  int max_requests_per_connection = 1000;                 // then "Connection: close"
  int max_connections = 1000;                             // per shard; beyond: 503 and close
  Duration header_timeout = std::chrono::seconds(10);     // first byte (or connect) -> full head
  Duration idle_timeout = std::chrono::seconds(60);       // keep-alive wait for the next request
  Duration body_read_timeout = std::chrono::seconds(30);  // longest gap in a request body
  // Reading a request's body and streaming its response; the handler gets it
  // as request.deadline().
  Duration request_timeout = std::chrono::minutes(10);
  Duration write_timeout = std::chrono::seconds(30);  // each write of a response
  Duration tls_handshake_timeout = std::chrono::seconds(10);
  uint64_t drain_body_bytes = 64 << 10;  // unread body discarded to keep a connection open
  Duration linger_timeout = std::chrono::seconds(2);  // reading after our FIN (lingering close)
  uint64_t linger_bytes = 1 << 20;
};

struct HttpServerOptions {
  std::string name = "http";  // the listener's name (logs)
  HttpLimits limits;
  ApiKeyAuth auth;
  std::shared_ptr<TlsContext> tls;  // set: HTTPS (implicit TLS)
  MetricsRegistry* metrics = &MetricsRegistry::Default();
};

// The server's own metrics.
struct HttpMetrics {
  explicit HttpMetrics(MetricsRegistry& registry);
  CounterFamily requests;          // salvo_http_requests_total{route,method,code}
  HistogramFamily duration;        // salvo_http_request_duration_seconds{route}
  Counter connections_accepted;    // salvo_http_connections_accepted_total
  Counter connections_rejected;    // salvo_http_connections_rejected_total
  Gauge connections_open;          // salvo_http_connections_open
  Counter tls_handshake_failures;  // salvo_http_tls_handshake_failures_total
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpRouter router);
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Accepts and serves connections on the calling shard until it is asked to
  // stop (Ring::RequestStop); returns when every session has ended.
  Task<void> Serve(Listener listener) const;

  const HttpServerOptions& options() const { return options_; }
  const HttpLimits& limits() const { return options_.limits; }
  const HttpRouter& router() const { return router_; }
  const HttpMetrics& metrics() const { return metrics_; }

 private:
  HttpServerOptions options_;
  HttpRouter router_;
  HttpMetrics metrics_;
};

}  // namespace salvo
