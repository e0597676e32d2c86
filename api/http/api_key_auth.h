// ApiKeyAuth: API keys as bearer tokens (RFC 6750), stored hashed.
//
// The config holds "sha256:<64 hex>" — the SHA-256 of each token — never the
// token itself, so a leaked config file does not leak a usable key:
//   printf %s "$TOKEN" | sha256sum
// A request presents "Authorization: Bearer <token>"; the token is hashed
// and compared with every configured digest in constant time (CRYPTO_memcmp,
// and no early exit across keys), so response timing says nothing about how
// close a guess was or which key matched.
//
// A request is identified in logs by its key id: "sha256:" plus the first 8
// hex digits of the digest (enough to tell keys apart, useless to forge one).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace salvo {

// Lower-case hex of the SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

class ApiKeyAuth {
 public:
  static constexpr size_t kMaxTokenBytes = 512;

  // `digests` as ApiConfig keeps them ("sha256:<64 hex>", any case).
  static absl::StatusOr<ApiKeyAuth> Create(const std::vector<std::string>& digests);
  ApiKeyAuth() = default;

  // The key id of the key that `authorization` (the Authorization header's
  // value, if any) presents; a 401 ApiError otherwise.
  absl::StatusOr<std::string> Check(std::optional<std::string_view> authorization) const;

  size_t size() const { return keys_.size(); }

 private:
  std::vector<std::array<uint8_t, 32>> keys_;
};

}  // namespace salvo
