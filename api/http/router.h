// HttpRouter: method + path pattern -> handler.
//
//   router.Add(HttpMethod::kPost, "/v1/campaigns/{id}/pause", HandlePauseV1);
//
// A pattern is a sequence of '/'-separated segments, each a literal or a
// parameter "{name}" that matches one non-empty segment; the handler reads
// it, percent-decoded, with request.Param("name"). Where several patterns
// match, the one with a literal earliest wins ("/v1/campaigns/stats" beats
// "/v1/campaigns/{id}"). A path that matches no pattern is 404; one that
// matches only for other methods is 405 with an Allow list. HEAD is served
// by the GET handler when no HEAD route exists (the server drops the body).
//
// The router is built before the server starts and only read afterwards, by
// every shard at once: handlers must be safe to call from several threads
// (per-shard state belongs in the handler's own thread-local or sharded
// structures).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http/http_request.h"
#include "api/http/http_response.h"
#include "engine/loop/task.h"

namespace salvo {

// Who may call a route.
enum class HttpAccess {
  kApiKey,          // a valid API key (Authorization: Bearer <token>)
  kOpenOnLoopback,  // anyone connecting from 127.0.0.0/8 or ::1; an API key otherwise
  kOpen,            // anyone
};

// A handler answers with a response; an error Status becomes the JSON error
// response (api_error.h) for it.
using HttpHandler = std::function<Task<absl::StatusOr<HttpResponse>>(HttpRequest&)>;

struct RouteOptions {
  HttpAccess access = HttpAccess::kApiKey;
  // Request body bytes allowed; 0 means the server's default. Capped at the
  // server's maximum.
  uint64_t body_limit = 0;
};

struct HttpRoute {
  HttpMethod method;
  std::string pattern;
  std::vector<std::string> segments;  // "{name}" marks a parameter
  HttpHandler handler;
  RouteOptions options;
};

class HttpRouter {
 public:
  // InvalidArgument for a malformed pattern; AlreadyExists for a duplicate.
  absl::Status Add(HttpMethod method, std::string_view pattern, HttpHandler handler,
                   RouteOptions options = {});

  struct Match {
    enum Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
    Kind kind = kNotFound;
    const HttpRoute* route = nullptr;
    std::vector<std::pair<std::string, std::string>> params;  // decoded
    std::string allow;  // kMethodNotAllowed: "GET, HEAD, POST"
  };
  // `path` is the request path without the query, still percent-encoded.
  Match Find(HttpMethod method, std::string_view path) const;

  const std::vector<HttpRoute>& routes() const { return routes_; }

 private:
  std::vector<HttpRoute> routes_;
};

}  // namespace salvo
