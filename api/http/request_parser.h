// HttpRequestParser: the incremental, I/O-free HTTP/1.1 request parser —
// Boost.Beast's parser (http::basic_parser<true>, the engine of
// http::request_parser) fed from our own buffers with put(), with Salvo's
// limits and checks on top. Bytes in; out comes one event per Feed():
//
//   kNeedMore   give me the same unconsumed bytes again plus more
//   kHead       request line and header fields are complete (head())
//   kBodyPiece  a piece of the body (a view into the bytes fed)
//   kComplete   the request has ended (body and trailers included)
//   kError      the request is malformed or over a limit (error())
//
// The caller keeps the input buffer: Feed(data) consumes a prefix of `data`
// (reported in Step::consumed) and never copies body bytes, so a body of any
// size streams through a buffer of one receive size. Until the head is
// complete nothing is consumed: the caller re-feeds the head as it grows, and
// Beast stops at max_header_bytes.
//
// Beyond Beast's own checks (request line syntax, field syntax, conflicting
// Content-Length / Transfer-Encoding, chunk syntax) this parser:
//  - bounds the head (bytes and number of fields) -> kHeaderTooLarge (431);
//  - refuses a Transfer-Encoding other than "chunked" -> kNotImplemented
//    (501): Beast would otherwise read such a request as having no body,
//    the seed of request smuggling;
//  - requires Host in HTTP/1.1 (RFC 9112 §3.2) -> kBadRequest;
//  - refuses an Expect other than 100-continue -> kExpectationFailed (417);
//  - enforces the body limit set after the head (set_body_limit) on every
//    chunk as it is announced -> kBodyTooLarge (413); a Content-Length over
//    the limit is the caller's to check before reading (body_too_large());
//  - bounds a chunk header / the trailers to max_header_bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http/http_headers.h"

namespace salvo {

enum class HttpMethod { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view HttpMethodName(HttpMethod m);
HttpMethod ParseHttpMethod(std::string_view text);

// What the request line and header fields say.
struct HttpRequestHead {
  HttpMethod method = HttpMethod::kOther;
  std::string method_text;  // as sent ("GET", "PROPFIND")
  std::string target;       // as sent ("/v1/campaigns?limit=10")
  int version = 11;         // 10 or 11
  HttpHeaders headers;
  bool keep_alive = true;  // per version and Connection
  bool chunked = false;
  std::optional<uint64_t> content_length;
  bool expect_continue = false;
};

enum class HttpParseError {
  kNone,
  kBadRequest,           // 400
  kHeaderTooLarge,       // 431
  kBodyTooLarge,         // 413
  kNotImplemented,       // 501
  kExpectationFailed,    // 417
  kVersionNotSupported,  // 505
};

struct HttpParserLimits {
  size_t max_header_bytes = 8192;  // request line + fields + final CRLF
  size_t max_header_fields = 100;
};

class HttpRequestParser {
 public:
  struct Step {
    enum Kind { kNeedMore, kHead, kBodyPiece, kComplete, kError };
    Kind kind = kNeedMore;
    size_t consumed = 0;    // bytes of the input to drop before the next Feed
    std::string_view body;  // kBodyPiece: inside the input fed
  };

  explicit HttpRequestParser(const HttpParserLimits& limits);
  ~HttpRequestParser();
  HttpRequestParser(const HttpRequestParser&) = delete;
  HttpRequestParser& operator=(const HttpRequestParser&) = delete;

  // Starts over for the next request on the connection.
  void Reset();

  // Parses the beginning of `data` (all input not yet consumed).
  Step Feed(std::string_view data);

  // True once any byte of this request was seen (an idle connection has none).
  bool started() const { return started_; }
  bool head_done() const { return head_done_; }
  bool complete() const { return complete_; }
  const HttpRequestHead& head() const { return head_; }
  HttpRequestHead& mutable_head() { return head_; }

  // Body bytes allowed; set after kHead, before the body is fed.
  void set_body_limit(uint64_t limit) { body_limit_ = limit; }
  uint64_t body_limit() const { return body_limit_; }
  // The declared Content-Length (kept here too: the head may be moved out).
  std::optional<uint64_t> content_length() const { return content_length_; }
  // The declared Content-Length is over the limit.
  bool body_too_large() const { return content_length_ && *content_length_ > body_limit_; }
  uint64_t body_bytes() const { return body_bytes_; }

  HttpParseError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }

 private:
  class Impl;
  friend class Impl;

  Step Fail(HttpParseError error, std::string message);
  Step FeedHead(std::string_view data);
  Step FeedBody(std::string_view data);

  HttpParserLimits limits_;
  std::unique_ptr<Impl> impl_;
  HttpRequestHead head_;
  bool started_ = false;
  bool head_done_ = false;
  bool complete_ = false;
  std::optional<uint64_t> content_length_;
  uint64_t body_limit_ = 0;
  uint64_t body_bytes_ = 0;
  HttpParseError error_ = HttpParseError::kNone;
  std::string error_message_;
  // Set by the Beast callbacks during one put().
  std::string_view piece_;
  bool got_piece_ = false;
};

}  // namespace salvo
