#include "api/http/http_request.h"

#include <algorithm>

namespace salvo {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Task<absl::StatusOr<std::string_view>> StringBodyReader::Read() {
  std::string_view piece = std::string_view(body_).substr(pos_, piece_size_);
  pos_ += piece.size();
  co_return piece;
}

HttpRequest::HttpRequest(HttpRequestHead head, HttpBodyReader* body)
    : head_(std::move(head)), body_(body) {
  std::string_view t = head_.target;
  size_t q = t.find('?');
  path_ = t.substr(0, q);
  if (q != std::string_view::npos) query_ = t.substr(q + 1);
}

std::optional<std::string_view> HttpRequest::Param(std::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return v;
  }
  return std::nullopt;
}

std::optional<std::string> HttpRequest::QueryParam(std::string_view name) const {
  std::string_view q = query_;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, eq), true);
    if (!key || *key != name) continue;
    if (eq == std::string_view::npos) return std::string();
    return PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

Task<absl::StatusOr<std::string>> HttpRequest::ReadBody() {
  std::string out;
  for (;;) {
    absl::StatusOr<std::string_view> piece = co_await body_->Read();
    if (!piece.ok()) co_return piece.status();
    if (piece->empty()) break;
    out.append(*piece);
  }
  co_return out;
}

}  // namespace salvo
