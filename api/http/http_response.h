// HttpResponse: what a handler returns — a status, header fields, and a body
// held in memory or streamed (reports, CSV exports) by an HttpBodySource.
//
// The server adds the framing fields itself: Content-Length (or chunked
// Transfer-Encoding for a streamed body on HTTP/1.1; end-of-connection on
// HTTP/1.0), Connection and Date. A handler sets Content-Type and anything
// specific to its answer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/http/http_headers.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"

namespace salvo {

// A response body produced piece by piece while it is being sent.
class HttpBodySource {
 public:
  virtual ~HttpBodySource() = default;
  // Appends the next piece to `out` (which is empty); false once there is
  // nothing more. An error ends the response early: the connection is closed
  // without the terminating chunk, so the client sees a truncated body.
  virtual Task<absl::StatusOr<bool>> Next(std::string& out, Deadline deadline) = 0;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  std::unique_ptr<HttpBodySource> stream;  // when set, `body` is ignored
  bool close_connection = false;           // answer, then close

  static HttpResponse Text(int status, std::string body,
                           std::string_view content_type = "text/plain; charset=utf-8");
};

std::string_view HttpReasonPhrase(int status);

// How the head of a response is framed.
struct ResponseFraming {
  bool keep_alive = true;
  std::optional<uint64_t> content_length;  // nullopt: streamed
  bool chunked = false;                    // streamed with chunked encoding
};

// Appends the status line, the handler's fields, and the framing fields.
void AppendResponseHead(std::string& out, const HttpResponse& response,
                        const ResponseFraming& framing);

// "Sun, 06 Nov 1994 08:49:37 GMT" for now (cached for the current second).
std::string_view HttpDateNow();

}  // namespace salvo
