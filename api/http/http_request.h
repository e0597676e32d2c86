// HttpRequest: what a handler sees of one request — the head, the path
// parameters the router matched, who sent it, and the body as a stream.
//
// The body is NOT read before the handler runs. A handler pulls it with
// body().Read() piece by piece (each piece at most one receive buffer, a view
// valid until the next Read), so a million-row CSV upload flows through
// bounded memory; ReadBody() is the convenience for small JSON bodies. Every
// read honours the route's body limit and the server's timeouts; a failed
// read returns a Status whose HTTP mapping (api_error.h) is the right answer
// (413, 400, 408), and the server closes the connection after such a failure.
//
// For "Expect: 100-continue" the server sends "100 Continue" at the first
// Read(), so a handler that refuses a request before reading its body never
// invites the client to send it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/http/http_headers.h"
#include "api/http/request_parser.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/socket_address.h"

namespace salvo {

// The body of one request, read incrementally.
class HttpBodyReader {
 public:
  virtual ~HttpBodyReader() = default;
  // The next piece of the body; an empty view once the body has ended. The
  // view is valid until the next call.
  virtual Task<absl::StatusOr<std::string_view>> Read() = 0;
  // The whole body has been read.
  virtual bool done() const = 0;
  virtual uint64_t bytes_read() const = 0;
  // The most the body may hold (the route's limit).
  virtual uint64_t limit() const = 0;
};

// A body held in memory, for requests built in tests and tools.
class StringBodyReader final : public HttpBodyReader {
 public:
  explicit StringBodyReader(std::string body, size_t piece_size = 16384,
                            uint64_t limit = UINT64_MAX)
      : body_(std::move(body)), piece_size_(piece_size), limit_(limit) {}
  Task<absl::StatusOr<std::string_view>> Read() override;
  bool done() const override { return pos_ >= body_.size(); }
  uint64_t bytes_read() const override { return pos_; }
  uint64_t limit() const override { return limit_; }

 private:
  std::string body_;
  size_t piece_size_;
  uint64_t limit_;
  size_t pos_ = 0;
};

class HttpRequest {
 public:
  HttpRequest(HttpRequestHead head, HttpBodyReader* body);
  // path() and query() point into the head: a request stays where it is.
  HttpRequest(const HttpRequest&) = delete;
  HttpRequest& operator=(const HttpRequest&) = delete;

  HttpMethod method() const { return head_.method; }
  std::string_view method_text() const { return head_.method_text; }
  const std::string& target() const { return head_.target; }
  // The target up to '?' (still percent-encoded) and what follows it.
  std::string_view path() const { return path_; }
  std::string_view query() const { return query_; }
  int version() const { return head_.version; }
  const HttpHeaders& headers() const { return head_.headers; }
  std::optional<std::string_view> Header(std::string_view name) const {
    return head_.headers.Get(name);
  }
  const HttpRequestHead& head() const { return head_; }

  // Path parameters matched by the router ("{id}" in the pattern), decoded.
  std::optional<std::string_view> Param(std::string_view name) const;
  void AddParam(std::string name, std::string value) {
    params_.emplace_back(std::move(name), std::move(value));
  }
  // A query parameter, percent-decoded ('+' is a space); the first if repeated.
  std::optional<std::string> QueryParam(std::string_view name) const;

  HttpBodyReader& body() { return *body_; }
  // The whole body (within the route's limit).
  Task<absl::StatusOr<std::string>> ReadBody();

  // Set by the server.
  const SocketAddress& peer() const { return peer_; }
  void set_peer(const SocketAddress& a) { peer_ = a; }
  bool tls() const { return tls_; }
  void set_tls(bool v) { tls_ = v; }
  // The route pattern that matched ("/v1/campaigns/{id}"), for logs/metrics.
  std::string_view route() const { return route_; }
  void set_route(std::string_view r) { route_ = r; }
  // The API key that authenticated the request ("sha256:1a2b3c4d", a prefix
  // of its digest), or "" on an open route.
  const std::string& api_key_id() const { return api_key_id_; }
  void set_api_key_id(std::string id) { api_key_id_ = std::move(id); }
  // When the whole request (reading the body and handling it) must be done.
  Deadline deadline() const { return deadline_; }
  void set_deadline(Deadline d) { deadline_ = d; }

 private:
  HttpRequestHead head_;
  HttpBodyReader* body_;
  std::string_view path_;
  std::string_view query_;
  std::vector<std::pair<std::string, std::string>> params_;
  SocketAddress peer_;
  bool tls_ = false;
  std::string_view route_;
  std::string api_key_id_;
  Deadline deadline_ = Never();
};

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); nullopt for
// a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace salvo
