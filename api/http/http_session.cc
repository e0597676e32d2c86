#include "api/http/http_session.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <array>

#include "api/http/api_error.h"
#include "engine/base/strings.h"
#include "engine/loop/ring.h"
#include "engine/tls/tls_stream.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo {
namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// Responses to pipelined requests are gathered up to this size.
constexpr size_t kGatherBytes = 64 << 10;
// Idle buffers larger than this are given back.
constexpr size_t kKeepCapacity = 16 << 10;

absl::Status ParseErrorStatus(const HttpRequestParser& p) {
  const std::string& m = p.error_message();
  switch (p.error()) {
    case HttpParseError::kHeaderTooLarge:
      return ApiError(431, "headers_too_large", m);
    case HttpParseError::kBodyTooLarge:
      return ApiError(413, "payload_too_large", m);
    case HttpParseError::kNotImplemented:
      return ApiError(501, "not_implemented", m);
    case HttpParseError::kExpectationFailed:
      return ApiError(417, "expectation_failed", m);
    case HttpParseError::kVersionNotSupported:
      return ApiError(505, "http_version_not_supported", m);
    default:
      return ApiError(400, "bad_request", m);
  }
}

bool HasNoBody(int status) { return status < 200 || status == 204 || status == 304; }

class HttpSession;

// The request body as the handler pulls it.
class SessionBodyReader final : public HttpBodyReader {
 public:
  explicit SessionBodyReader(HttpSession* session) : session_(session) {}
  Task<absl::StatusOr<std::string_view>> Read() override;
  bool done() const override;
  uint64_t bytes_read() const override;
  uint64_t limit() const override;

 private:
  HttpSession* session_;
};

class HttpSession {
 public:
  HttpSession(const HttpServer& server, Socket socket)
      : server_(server),
        limits_(server.limits()),
        socket_(std::move(socket)),
        stream_(&socket_),
        peer_(socket_.PeerAddress()),
        parser_(HttpParserLimits{limits_.max_header_bytes, limits_.max_header_fields}) {}

  Task<void> Run();

 private:
  friend class SessionBodyReader;

  Task<bool> StartTls();
  // OK(true): a head is parsed. OK(false): close quietly (end of stream,
  // idle timeout, shutdown). An error: answer it, then close.
  Task<absl::StatusOr<bool>> ReadHead(bool first);
  // Returns whether the connection stays open.
  Task<bool> HandleRequest(int served);
  Task<HttpResponse> Dispatch(HttpRequest& request);
  absl::Status Authorize(HttpRequest& request, HttpAccess access) const;
  Task<absl::StatusOr<std::string_view>> ReadBodyPiece();
  Task<bool> DrainBody();
  Task<absl::Status> WriteResponse(HttpResponse& response, bool head_only, bool keep_alive);
  Task<absl::Status> WriteStream(HttpBodySource& source, bool chunked);
  Task<absl::Status> Flush();
  // Compacts the input, flushes pending output, reads once more.
  Task<absl::StatusOr<size_t>> Fill(Deadline deadline, bool idle);
  Task<void> Answer(const absl::Status& error);
  Task<void> LingeringClose();
  void Record(std::string_view route, std::string_view method, int status, Clock::time_point start);

  std::string_view buffered() const { return std::string_view(in_).substr(pos_); }

  const HttpServer& server_;
  const HttpLimits& limits_;
  Socket socket_;
  std::unique_ptr<TlsStream> tls_;
  Stream* stream_;
  SocketAddress peer_;
  HttpRequestParser parser_;
  std::string in_;
  size_t pos_ = 0;
  std::string out_;
  bool idle_ = false;
  bool stopping_ = false;
  // The request being served.
  Deadline request_deadline_ = Never();
  bool continue_pending_ = false;
  absl::Status body_error_;
};

Task<absl::StatusOr<std::string_view>> SessionBodyReader::Read() {
  HttpSession& s = *session_;
  if (!s.body_error_.ok()) co_return s.body_error_;
  absl::StatusOr<std::string_view> piece = co_await s.ReadBodyPiece();
  if (!piece.ok()) s.body_error_ = piece.status();
  co_return piece;
}
bool SessionBodyReader::done() const { return session_->parser_.complete(); }
uint64_t SessionBodyReader::bytes_read() const { return session_->parser_.body_bytes(); }
uint64_t SessionBodyReader::limit() const { return session_->parser_.body_limit(); }

Task<void> HttpSession::Run() {
  Ring* ring = Ring::Current();
  Ring::StopCallback on_stop(*ring, [this] {
    stopping_ = true;
    if (idle_) socket_.Cancel();  // sticky: also between two reads
  });
  if (server_.options().tls && !co_await StartTls()) co_return;
  for (int served = 0;;) {
    absl::StatusOr<bool> head = co_await ReadHead(served == 0);
    if (!head.ok()) {
      co_await Answer(head.status());
      co_return;
    }
    if (!*head) co_return;
    if (!co_await HandleRequest(++served)) {
      co_await LingeringClose();
      co_return;
    }
    parser_.Reset();
  }
}

Task<bool> HttpSession::StartTls() {
  auto tls = co_await TlsStream::Handshake(*server_.options().tls, &socket_, TlsRole::kServer, "",
                                           After(limits_.tls_handshake_timeout));
  if (!tls.ok()) {
    server_.metrics().tls_handshake_failures.Add();
    spdlog::debug("{}: TLS handshake with {} failed: {}", server_.options().name, peer_.ToString(),
                  tls.status().ToString());
    co_return false;
  }
  tls_ = std::move(*tls);
  stream_ = tls_.get();
  co_return true;
}

Task<absl::StatusOr<bool>> HttpSession::ReadHead(bool first) {
  Deadline wait = After(first ? limits_.header_timeout : limits_.idle_timeout);
  Deadline head_deadline = Never();
  for (;;) {
    if (!buffered().empty()) {
      HttpRequestParser::Step step = parser_.Feed(buffered());
      pos_ += step.consumed;
      if (step.kind == HttpRequestParser::Step::kHead) co_return true;
      if (step.kind == HttpRequestParser::Step::kError) co_return ParseErrorStatus(parser_);
      if (IsNever(head_deadline)) head_deadline = After(limits_.header_timeout);
    }
    bool idle = !parser_.started() && buffered().empty();
    if (idle && stopping_) co_return false;
    if (idle && in_.capacity() > kKeepCapacity) {
      std::string().swap(in_);
      pos_ = 0;
    }
    absl::StatusOr<size_t> n = co_await Fill(idle ? wait : head_deadline, idle);
    if (!n.ok()) {
      if (absl::IsDeadlineExceeded(n.status()) && !idle) {
        co_return ApiError(408, "request_timeout", "the request head did not arrive in time");
      }
      co_return false;
    }
    if (*n == 0) co_return false;
  }
}

Task<bool> HttpSession::HandleRequest(int served) {
  Clock::time_point start = Clock::now();
  request_deadline_ = After(limits_.request_timeout);
  body_error_ = absl::OkStatus();
  HttpRequestHead& head = parser_.mutable_head();
  continue_pending_ = head.expect_continue && !parser_.complete();
  bool head_only = head.method == HttpMethod::kHead;
  bool keep = head.keep_alive;
  SessionBodyReader body(this);
  HttpRequest request(std::move(head), &body);
  request.set_peer(peer_);
  request.set_tls(tls_ != nullptr);
  request.set_deadline(request_deadline_);

  HttpResponse response = co_await Dispatch(request);
  keep = keep && !response.close_connection && !stopping_ &&
         served < limits_.max_requests_per_connection &&
         !(response.stream && request.version() < 11);
  if (!body_error_.ok()) {
    response = ErrorResponse(body_error_);
    keep = false;
  } else if (!parser_.complete()) {
    keep = keep && co_await DrainBody();
  }
  absl::Status written = co_await WriteResponse(response, head_only, keep);
  Record(request.route().empty() ? "unmatched" : request.route(), HttpMethodName(request.method()),
         response.status, start);
  if (!written.ok()) {
    spdlog::debug("{}: writing to {}: {}", server_.options().name, peer_.ToString(),
                  written.ToString());
    co_return false;
  }
  co_return keep;
}

absl::Status HttpSession::Authorize(HttpRequest& request, HttpAccess access) const {
  if (access == HttpAccess::kOpen) return absl::OkStatus();
  if (access == HttpAccess::kOpenOnLoopback && peer_.IsLoopback()) return absl::OkStatus();
  absl::StatusOr<std::string> key = server_.options().auth.Check(request.Header("Authorization"));
  if (!key.ok()) return key.status();
  request.set_api_key_id(std::move(*key));
  return absl::OkStatus();
}

Task<HttpResponse> HttpSession::Dispatch(HttpRequest& request) {
  HttpRouter::Match m = server_.router().Find(request.method(), request.path());
  switch (m.kind) {
    case HttpRouter::Match::kBadPath:
      co_return ErrorResponse(400, "bad_request", "the request target must be an absolute path");
    case HttpRouter::Match::kNotFound:
      co_return ErrorResponse(404, "not_found",
                              fmt::format("no such resource: {}", request.path()));
    case HttpRouter::Match::kMethodNotAllowed: {
      HttpResponse r;
      if (request.method() == HttpMethod::kOptions) {
        r.status = 204;
      } else {
        r = ErrorResponse(405, "method_not_allowed",
                          fmt::format("{} is not allowed on {}; allowed: {}", request.method_text(),
                                      request.path(), m.allow));
      }
      r.headers.Add("Allow", m.allow);
      co_return r;
    }
    case HttpRouter::Match::kFound:
      break;
  }
  const HttpRoute& route = *m.route;
  request.set_route(route.pattern);
  for (auto& [name, value] : m.params) request.AddParam(std::move(name), std::move(value));
  uint64_t limit = route.options.body_limit ? route.options.body_limit : limits_.default_body_bytes;
  parser_.set_body_limit(std::min(limit, limits_.max_body_bytes));

  if (absl::Status auth = Authorize(request, route.options.access); !auth.ok()) {
    HttpResponse r = ErrorResponse(auth);
    r.headers.Add("WWW-Authenticate", request.Header("Authorization")
                                          ? "Bearer realm=\"salvo\", error=\"invalid_token\""
                                          : "Bearer realm=\"salvo\"");
    co_return r;
  }
  if (parser_.body_too_large()) {
    co_return ErrorResponse(
        413, "payload_too_large",
        fmt::format("the request body ({} bytes) is over the limit of {} bytes",
                    parser_.content_length().value_or(0), parser_.body_limit()));
  }
  absl::StatusOr<HttpResponse> r = co_await route.handler(request);
  if (!r.ok()) co_return ErrorResponse(r.status());
  co_return std::move(*r);
}

Task<absl::StatusOr<std::string_view>> HttpSession::ReadBodyPiece() {
  for (;;) {
    HttpRequestParser::Step step = parser_.Feed(buffered());
    pos_ += step.consumed;
    switch (step.kind) {
      case HttpRequestParser::Step::kBodyPiece:
        co_return step.body;
      case HttpRequestParser::Step::kComplete:
        co_return std::string_view();
      case HttpRequestParser::Step::kError:
        co_return ParseErrorStatus(parser_);
      default:
        break;
    }
    if (continue_pending_) {
      out_ += kContinue;
      continue_pending_ = false;
    }
    Deadline deadline = std::min(After(limits_.body_read_timeout), request_deadline_);
    absl::StatusOr<size_t> n = co_await Fill(deadline, false);
    if (!n.ok()) {
      if (absl::IsDeadlineExceeded(n.status())) {
        co_return ApiError(408, "request_timeout", "the request body stopped arriving");
      }
      co_return ApiError(400, "bad_request",
                         fmt::format("reading the request body: {}", ToStd(n.status().message())));
    }
    if (*n == 0) {
      co_return ApiError(400, "incomplete_body",
                         "the connection closed before the request body ended");
    }
  }
}

Task<bool> HttpSession::DrainBody() {
  // A client still waiting for "100 Continue" must not be invited to send.
  if (continue_pending_) co_return false;
  std::optional<uint64_t> length = parser_.content_length();
  uint64_t budget = limits_.drain_body_bytes;
  if (length && *length - parser_.body_bytes() > budget) co_return false;
  parser_.set_body_limit(parser_.body_bytes() + budget);
  for (;;) {
    absl::StatusOr<std::string_view> piece = co_await ReadBodyPiece();
    if (!piece.ok()) co_return false;
    if (piece->empty()) co_return true;
  }
}

Task<absl::Status> HttpSession::WriteResponse(HttpResponse& response, bool head_only,
                                              bool keep_alive) {
  bool no_body = HasNoBody(response.status);
  ResponseFraming framing;
  framing.keep_alive = keep_alive;
  bool streamed = response.stream != nullptr && !no_body;
  if (streamed) {
    framing.chunked = keep_alive;  // HTTP/1.0 (not kept alive): the body ends at close
  } else if (!no_body) {
    framing.content_length = response.body.size();
  }
  AppendResponseHead(out_, response, framing);
  if (streamed && !head_only) co_return co_await WriteStream(*response.stream, framing.chunked);
  std::string_view body = no_body || head_only ? std::string_view() : response.body;
  // Gather the answers to pipelined requests into one write.
  if (keep_alive && !buffered().empty() && out_.size() + body.size() < kGatherBytes) {
    out_ += body;
    co_return absl::OkStatus();
  }
  std::array<std::string_view, 2> parts = {out_, body};
  absl::Status s = co_await stream_->WriteAll(parts, After(limits_.write_timeout));
  out_.clear();
  co_return s;
}

Task<absl::Status> HttpSession::WriteStream(HttpBodySource& source, bool chunked) {
  if (absl::Status s = co_await Flush(); !s.ok()) co_return s;
  std::string piece;
  for (;;) {
    piece.clear();
    absl::StatusOr<bool> more = co_await source.Next(piece, request_deadline_);
    if (!more.ok()) co_return more.status();  // the body ends without its last chunk
    if (!*more) break;
    if (piece.empty()) continue;
    std::string size = chunked ? fmt::format("{:x}\r\n", piece.size()) : std::string();
    std::array<std::string_view, 3> parts = {size, piece, chunked ? "\r\n" : ""};
    if (absl::Status s = co_await stream_->WriteAll(parts, After(limits_.write_timeout)); !s.ok()) {
      co_return s;
    }
  }
  if (!chunked) co_return absl::OkStatus();
  out_ += "0\r\n\r\n";
  co_return co_await Flush();
}

Task<absl::Status> HttpSession::Flush() {
  if (out_.empty()) co_return absl::OkStatus();
  std::array<std::string_view, 1> parts = {out_};
  absl::Status s = co_await stream_->WriteAll(parts, After(limits_.write_timeout));
  out_.clear();
  co_return s;
}

Task<absl::StatusOr<size_t>> HttpSession::Fill(Deadline deadline, bool idle) {
  if (pos_ > 0) {
    in_.erase(0, pos_);
    pos_ = 0;
  }
  if (absl::Status s = co_await Flush(); !s.ok()) co_return s;
  idle_ = idle;
  absl::StatusOr<size_t> n = co_await stream_->ReadSome(in_, deadline);
  idle_ = false;
  co_return n;
}

Task<void> HttpSession::Answer(const absl::Status& error) {
  HttpResponse response = ErrorResponse(error);
  absl::Status s = co_await WriteResponse(response, false, false);
  Record("none", "OTHER", response.status, Clock::now());
  if (s.ok()) co_await LingeringClose();
}

Task<void> HttpSession::LingeringClose() {
  // Our FIN first, then read (and drop) what the client still sends for a
  // moment: closing with unread input would reset the connection and could
  // destroy the response before the client has read it.
  if (!(co_await Flush()).ok()) co_return;
  if (!(co_await stream_->ShutdownWrite(After(limits_.write_timeout))).ok()) co_return;
  Deadline deadline = After(limits_.linger_timeout);
  uint64_t discarded = 0;
  while (discarded < limits_.linger_bytes) {
    in_.clear();
    pos_ = 0;
    absl::StatusOr<size_t> n = co_await socket_.ReadSome(in_, deadline);
    if (!n.ok() || *n == 0) break;
    discarded += *n;
  }
}

void HttpSession::Record(std::string_view route, std::string_view method, int status,
                         Clock::time_point start) {
  const HttpMetrics& m = server_.metrics();
  fmt::format_int code(status);
  m.requests.WithLabels({route, method, std::string_view(code.data(), code.size())}).Add();
  m.duration.WithLabels({route}).Observe(
      std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace

Task<void> ServeHttpConnection(const HttpServer& server, Socket socket) {
  int one = 1;
  setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  HttpSession session(server, std::move(socket));
  co_await session.Run();
}

}  // namespace salvo
