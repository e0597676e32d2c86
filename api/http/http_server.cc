#include "api/http/http_server.h"

#include <array>

#include "api/http/api_error.h"
#include "api/http/http_session.h"
#include "engine/loop/gate.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

// Counts a shard's open sessions and keeps the gauge in step.
struct OpenConnections {
  int count = 0;
  const HttpMetrics* metrics;
};

Task<void> RunSession(const HttpServer* server, Socket socket, OpenConnections* open) {
  Ring::ClientSession client;  // no batched wake-ups on this ring while it lasts
  ++open->count;
  open->metrics->connections_open.Add(1);
  co_await ServeHttpConnection(*server, std::move(socket));
  --open->count;
  open->metrics->connections_open.Sub(1);
}

// Over the connection limit: a short 503 and close, without reading.
Task<void> Refuse(const HttpServer* server, Socket socket) {
  HttpResponse r = ErrorResponse(503, "too_many_connections",
                                 "the server has too many open connections; retry later");
  std::string head;
  AppendResponseHead(head, r, ResponseFraming{false, r.body.size(), false});
  std::array<std::string_view, 2> parts = {head, r.body};
  Deadline deadline =
      After(std::min(server->limits().write_timeout, Duration(std::chrono::seconds(1))));
  if (!(co_await socket.WriteAll(parts, deadline)).ok()) co_return;
  if (!(co_await socket.ShutdownWrite(deadline)).ok()) co_return;
  // A short lingering close, so the client reads the 503 rather than a reset.
  std::string discard;
  for (int i = 0; i < 16; ++i) {
    discard.clear();
    absl::StatusOr<size_t> n = co_await socket.ReadSome(discard, deadline);
    if (!n.ok() || *n == 0) break;
  }
}

}  // namespace

HttpMetrics::HttpMetrics(MetricsRegistry& r)
    : requests(r.AddCounter("salvo_http_requests_total",
                            "HTTP requests answered, by route, method and status.",
                            {"route", "method", "code"})),
      duration(r.AddHistogram("salvo_http_request_duration_seconds",
                              "Time from a complete request head to the response written.",
                              DefaultLatencyBuckets(), {"route"})),
      connections_accepted(
          r.AddCounter("salvo_http_connections_accepted_total", "HTTP connections accepted.")
              .Get()),
      connections_rejected(r.AddCounter("salvo_http_connections_rejected_total",
                                        "HTTP connections refused over the connection limit.")
                               .Get()),
      connections_open(r.AddGauge("salvo_http_connections_open", "HTTP connections open.").Get()),
      tls_handshake_failures(r.AddCounter("salvo_http_tls_handshake_failures_total",
                                          "HTTPS connections whose TLS handshake failed.")
                                 .Get()) {}

HttpServer::HttpServer(HttpServerOptions options, HttpRouter router)
    : options_(std::move(options)), router_(std::move(router)), metrics_(*options_.metrics) {}

Task<void> HttpServer::Serve(Listener listener) const {
  Ring* ring = Ring::Current();
  Ring::StopCallback on_stop(*ring, [&listener] { listener.Close(); });
  Gate sessions;
  OpenConnections open{0, &metrics_};
  spdlog::debug("{}: serving HTTP{} on {}", options_.name, options_.tls ? "S" : "",
                listener.address().ToString());
  for (;;) {
    absl::StatusOr<Socket> socket = co_await listener.Accept(Never());
    if (!socket.ok()) break;  // closed: the shard is stopping
    if (open.count >= options_.limits.max_connections) {
      metrics_.connections_rejected.Add();
      sessions.Spawn(Refuse(this, std::move(*socket)));
      continue;
    }
    metrics_.connections_accepted.Add();
    sessions.Spawn(RunSession(this, std::move(*socket), &open));
  }
  listener.Close();
  co_await sessions.Close();
}

}  // namespace salvo
