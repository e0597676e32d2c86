// One-click unsubscribe links (RFC 8058) for campaign messages:
//
//   List-Unsubscribe: <https://PUBLIC_URL/v1/unsubscribe/TOKEN>, <mailto:...>
//   List-Unsubscribe-Post: List-Unsubscribe=One-Click
//
// TOKEN names the recipient (its spool id, its campaign and its address, so
// that the endpoint suppresses the right address without a spool lookup) and
// is signed with HMAC-SHA256 (16 bytes kept): a forged, damaged or foreign
// token is refused. Lower-case base32, so it survives URL handling untouched.
// The key is derived from the daemon's VERP secret (data_dir/verp.key) with a
// label of its own, so no second secret file is needed and a VERP token is
// never a valid unsubscribe token or the reverse.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/render/verp.h"

namespace salvo::render {

struct UnsubscribeTarget {
  RecipientKey recipient{};
  RecipientKey campaign{};
  std::string address;  // at most 254 bytes
};

class UnsubscribeCodec {
 public:
  // `verp_secret`: the daemon's VERP secret (non-empty).
  explicit UnsubscribeCodec(std::string_view verp_secret);

  std::string Token(const UnsubscribeTarget& target) const;
  // InvalidArgument for a malformed token, PermissionDenied for a bad MAC.
  absl::StatusOr<UnsubscribeTarget> Verify(std::string_view token) const;

 private:
  std::string key_;
};

// "<public_url>/v1/unsubscribe/<token>"
std::string UnsubscribeUrl(std::string_view public_url, std::string_view token);

}  // namespace salvo::render
