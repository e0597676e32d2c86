#include "api/http/request_parser.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <limits>

#include "fmt/format.h"

namespace salvo {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

constexpr size_t kLastChunkMin = 5;  // "0\r\n\r\n"

std::string_view Std(boost::beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A request line that is well formed but names a version other than 1.x.
bool NamesOtherVersion(std::string_view data) {
  size_t eol = data.find("\r\n");
  if (eol == std::string_view::npos || eol < 9) return false;
  std::string_view v = data.substr(eol - 9, 9);  // " HTTP/x.y"
  return v.starts_with(" HTTP/") && IsDigit(v[6]) && v[7] == '.' && IsDigit(v[8]) && v[6] != '1';
}

}  // namespace

std::string_view HttpMethodName(HttpMethod m) {
  switch (m) {
    case HttpMethod::kGet:
      return "GET";
    case HttpMethod::kHead:
      return "HEAD";
    case HttpMethod::kPost:
      return "POST";
    case HttpMethod::kPut:
      return "PUT";
    case HttpMethod::kPatch:
      return "PATCH";
    case HttpMethod::kDelete:
      return "DELETE";
    case HttpMethod::kOptions:
      return "OPTIONS";
    case HttpMethod::kOther:
      break;
  }
  return "OTHER";
}

HttpMethod ParseHttpMethod(std::string_view text) {
  // Methods are case-sensitive (RFC 9110 §9.1).
  if (text == "GET") return HttpMethod::kGet;
  if (text == "HEAD") return HttpMethod::kHead;
  if (text == "POST") return HttpMethod::kPost;
  if (text == "PUT") return HttpMethod::kPut;
  if (text == "PATCH") return HttpMethod::kPatch;
  if (text == "DELETE") return HttpMethod::kDelete;
  if (text == "OPTIONS") return HttpMethod::kOptions;
  return HttpMethod::kOther;
}

// Beast's parser with callbacks that fill the owner's head and hand body
// pieces over without copying them.
class HttpRequestParser::Impl final : public http::basic_parser<true> {
 public:
  explicit Impl(HttpRequestParser* owner) : owner_(owner) {
    header_limit(static_cast<uint32_t>(owner->limits_.max_header_bytes));
    // Enforced by the owner, per route. (Not boost::none: Beast 1.74 compares
    // a Content-Length with the optional, and every length is > none.)
    body_limit(std::numeric_limits<uint64_t>::max());
    eager(false);  // one event per put()
  }

  size_t head_bytes = 0;    // consumed so far by the head
  size_t head_scanned = 0;  // unconsumed head bytes already checked for bare LF

 private:
  void Reject(HttpParseError error, std::string message, error_code& ec) {
    owner_->error_ = error;
    owner_->error_message_ = std::move(message);
    ec = http::error::bad_value;
  }

  void on_request_impl(http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version, error_code&) override {
    HttpRequestHead& h = owner_->head_;
    h.method_text = std::string(Std(method));
    h.method = ParseHttpMethod(h.method_text);
    h.target = std::string(Std(target));
    h.version = version;
  }

  void on_response_impl(int, boost::beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_version;  // never called for a request parser
  }

  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                     error_code& ec) override {
    if (++fields_ > owner_->limits_.max_header_fields) {
      Reject(HttpParseError::kHeaderTooLarge,
             fmt::format("more than {} header fields", owner_->limits_.max_header_fields), ec);
      return;
    }
    if (owner_->head_done_) return;  // chunked trailers: counted, not kept
    owner_->head_.headers.Add(Std(name), Std(value));
  }

  void on_header_impl(error_code& ec) override {
    HttpRequestHead& h = owner_->head_;
    const HttpHeaders& f = h.headers;
    if (std::optional<std::string_view> te = f.Get("Transfer-Encoding"); te && !chunked()) {
      Reject(HttpParseError::kNotImplemented,
             fmt::format("unsupported Transfer-Encoding \"{}\" (only chunked)", *te), ec);
      return;
    }
    int hosts = 0;
    for (const auto& field : f.fields()) hosts += EqualsIgnoreCase(field.first, "Host");
    if ((h.version >= 11 && hosts == 0) || hosts > 1) {
      Reject(HttpParseError::kBadRequest,
             hosts == 0 ? "HTTP/1.1 request without a Host header" : "more than one Host header",
             ec);
      return;
    }
    if (std::optional<std::string_view> expect = f.Get("Expect")) {
      if (!EqualsIgnoreCase(*expect, "100-continue")) {
        Reject(HttpParseError::kExpectationFailed,
               fmt::format("unsupported expectation \"{}\"", *expect), ec);
        return;
      }
      h.expect_continue = h.version >= 11;
    }
  }

  void on_body_init_impl(const boost::optional<uint64_t>&, error_code&) override {}

  size_t TakePiece(boost::beast::string_view body, error_code& ec) {
    if (owner_->body_bytes_ + body.size() > owner_->body_limit_) {
      ec = http::error::body_limit;
      return 0;
    }
    owner_->piece_ = Std(body);
    owner_->got_piece_ = !body.empty();
    owner_->body_bytes_ += body.size();
    return body.size();
  }

  size_t on_body_impl(boost::beast::string_view body, error_code& ec) override {
    return TakePiece(body, ec);
  }

  void on_chunk_header_impl(uint64_t size, boost::beast::string_view, error_code& ec) override {
    // Refuse an oversized chunk as soon as it is announced.
    if (size > owner_->body_limit_ - std::min(owner_->body_limit_, owner_->body_bytes_)) {
      ec = http::error::body_limit;
    }
  }

  size_t on_chunk_body_impl(uint64_t, boost::beast::string_view body, error_code& ec) override {
    return TakePiece(body, ec);
  }

  void on_finish_impl(error_code&) override {}

  HttpRequestParser* owner_;
  size_t fields_ = 0;
};

HttpRequestParser::HttpRequestParser(const HttpParserLimits& limits) : limits_(limits) { Reset(); }

HttpRequestParser::~HttpRequestParser() = default;

void HttpRequestParser::Reset() {
  impl_ = std::make_unique<Impl>(this);
  head_ = HttpRequestHead();
  started_ = head_done_ = complete_ = false;
  content_length_.reset();
  body_limit_ = 0;
  body_bytes_ = 0;
  error_ = HttpParseError::kNone;
  error_message_.clear();
  piece_ = {};
  got_piece_ = false;
}

HttpRequestParser::Step HttpRequestParser::Fail(HttpParseError error, std::string message) {
  if (error_ == HttpParseError::kNone) {
    error_ = error;
    error_message_ = std::move(message);
  }
  return Step{Step::kError, 0, {}};
}

HttpRequestParser::Step HttpRequestParser::Feed(std::string_view data) {
  if (error_ != HttpParseError::kNone) return Step{Step::kError, 0, {}};
  if (!head_done_) return FeedHead(data);
  return FeedBody(data);
}

HttpRequestParser::Step HttpRequestParser::FeedHead(std::string_view data) {
  if (data.empty()) return Step{Step::kNeedMore, 0, {}};
  started_ = true;
  // Beast waits for CRLF CRLF before parsing a head, so a head with bare LF
  // line endings would wait for a timeout; refuse it as it arrives instead.
  for (size_t i = std::min(impl_->head_scanned, data.size()); i < data.size(); ++i) {
    if (data[i] != '\n') continue;
    if (i == 0 || data[i - 1] != '\r') {
      return Fail(HttpParseError::kBadRequest, "bare LF in the request head (CRLF required)");
    }
    if (i >= 3 && data.substr(i - 3, 4) == "\r\n\r\n") break;  // the body may follow
    // Beast consumed the request line (it ends with CRLF) and no field
    // follows: this CRLF ends the head (found by fuzzing: the scan went on
    // into the next request).
    if (i == 1 && impl_->head_bytes > 0) break;
  }
  impl_->head_scanned = data.size();
  error_code ec;
  size_t n = impl_->put(boost::asio::const_buffer(data.data(), data.size()), ec);
  impl_->head_bytes += n;
  impl_->head_scanned -= n;
  // Beast bounds the bytes of one put(); the head as a whole is bounded here,
  // since Beast may consume it in parts (the request line first).
  if (ec == http::error::need_more) {
    if (impl_->head_bytes + (data.size() - n) >= limits_.max_header_bytes) {
      return Fail(HttpParseError::kHeaderTooLarge,
                  fmt::format("request head over {} bytes", limits_.max_header_bytes));
    }
    return Step{Step::kNeedMore, n, {}};
  }
  if (ec == http::error::header_limit || impl_->head_bytes > limits_.max_header_bytes) {
    return Fail(HttpParseError::kHeaderTooLarge,
                fmt::format("request head over {} bytes", limits_.max_header_bytes));
  }
  if (ec == http::error::bad_version && NamesOtherVersion(data)) {
    return Fail(HttpParseError::kVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are served");
  }
  if (ec) return Fail(HttpParseError::kBadRequest, fmt::format("bad request: {}", ec.message()));
  head_done_ = true;
  head_.keep_alive = impl_->keep_alive();
  head_.chunked = impl_->chunked();
  if (auto len = impl_->content_length()) head_.content_length = content_length_ = *len;
  complete_ = impl_->is_done();
  return Step{Step::kHead, n, {}};
}

HttpRequestParser::Step HttpRequestParser::FeedBody(std::string_view data) {
  if (complete_) return Step{Step::kComplete, 0, {}};
  size_t total = 0;
  for (;;) {
    std::string_view rest = data.substr(total);
    if (rest.empty()) return Step{Step::kNeedMore, total, {}};
    // Beast 1.74 asserts (in assert-enabled builds) when it re-enters the
    // last chunk with fewer than 5 bytes, as when "0\r\n" and then "\r"
    // arrive alone (boostorg/beast#2861, fixed upstream in 2024). A chunked
    // body always ends with at least "0\r\n\r\n" unconsumed, so waiting
    // for 5 bytes never stalls a complete request.
    if (head_.chunked && rest.size() < kLastChunkMin) return Step{Step::kNeedMore, total, {}};
    got_piece_ = false;
    error_code ec;
    size_t n = impl_->put(boost::asio::const_buffer(rest.data(), rest.size()), ec);
    total += n;
    if (ec == http::error::need_more) {
      if (rest.size() - n > limits_.max_header_bytes) {
        return Fail(HttpParseError::kBadRequest,
                    fmt::format("chunk header or trailer over {} bytes", limits_.max_header_bytes));
      }
      return Step{Step::kNeedMore, total, {}};
    }
    if (ec == http::error::body_limit) {
      return Fail(HttpParseError::kBodyTooLarge,
                  fmt::format("request body over {} bytes", body_limit_));
    }
    if (ec) return Fail(HttpParseError::kBadRequest, fmt::format("bad body: {}", ec.message()));
    if (impl_->is_done()) complete_ = true;
    if (got_piece_) return Step{Step::kBodyPiece, total, piece_};
    if (complete_) return Step{Step::kComplete, total, {}};
    if (n == 0) return Step{Step::kNeedMore, total, {}};
  }
}

}  // namespace salvo
