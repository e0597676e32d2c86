#include "api/http/api_key_auth.h"

#include <algorithm>

#include "api/http/api_error.h"
#include "api/http/http_headers.h"
#include "engine/base/strings.h"
#include "engine/tls/crypto.h"
#include "fmt/format.h"

namespace salvo {
namespace {

constexpr std::string_view kPrefix = "sha256:";

std::string Hex(const uint8_t* p, size_t n) {
  return crypto::Hex(std::string_view(reinterpret_cast<const char*>(p), n));
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
}

absl::Status Unauthorized(std::string_view message) {
  return ApiError(401, "unauthorized", message);
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  std::array<uint8_t, 32> d = crypto::Sha256(data);
  return Hex(d.data(), d.size());
}

absl::StatusOr<ApiKeyAuth> ApiKeyAuth::Create(const std::vector<std::string>& digests) {
  ApiKeyAuth auth;
  for (const std::string& text : digests) {
    std::string_view hex = text;
    bool good = hex.size() == kPrefix.size() + 64 &&
                EqualsIgnoreCase(hex.substr(0, kPrefix.size()), kPrefix);
    std::array<uint8_t, 32> key{};
    for (size_t i = 0; good && i < 32; ++i) {
      int hi = HexDigit(hex[kPrefix.size() + 2 * i]);
      int lo = HexDigit(hex[kPrefix.size() + 2 * i + 1]);
      good = hi >= 0 && lo >= 0;
      key[i] = static_cast<uint8_t>(hi * 16 + lo);
    }
    if (!good) {
      return absl::InvalidArgumentError(
          "an API key must be \"sha256:\" followed by the 64 hex digits of the token's SHA-256");
    }
    auth.keys_.push_back(key);
  }
  return auth;
}

absl::StatusOr<std::string> ApiKeyAuth::Check(std::optional<std::string_view> authorization) const {
  if (!authorization) {
    return Unauthorized("an API key is required: send \"Authorization: Bearer <token>\"");
  }
  std::string_view v = *authorization;
  size_t space = v.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(v.substr(0, space), "Bearer")) {
    return Unauthorized("the Authorization header must use the Bearer scheme");
  }
  std::string_view token = v.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > kMaxTokenBytes ||
      !std::all_of(token.begin(), token.end(), IsTokenChar)) {
    return Unauthorized("the bearer token is malformed");
  }
  std::array<uint8_t, 32> presented = crypto::Sha256(token);
  // Every key is compared, whatever matched before: no early exit.
  size_t match = keys_.size();
  for (size_t i = 0; i < keys_.size(); ++i) {
    bool equal = crypto::ConstantTimeEqual(
        std::string_view(reinterpret_cast<const char*>(presented.data()), presented.size()),
        std::string_view(reinterpret_cast<const char*>(keys_[i].data()), keys_[i].size()));
    match = equal ? i : match;
  }
  if (match == keys_.size()) return Unauthorized("the API key is not valid");
  return fmt::format("sha256:{}", Hex(keys_[match].data(), 4));
}

}  // namespace salvo
