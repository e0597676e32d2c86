#include "engine/render/unsubscribe.h"

#include <algorithm>
#include <cstring>

#include "engine/tls/crypto.h"
#include "fmt/format.h"

namespace salvo::render {
namespace {

constexpr size_t kTokenMacBytes = 16;
constexpr size_t kIdBytes = 16;
constexpr size_t kMaxAddress = 254;
constexpr std::string_view kLabel = "salvo unsubscribe token v1";

std::string Mac(const std::string& key, std::string_view data) {
  crypto::Sha256Digest d = crypto::HmacSha256(key, data);
  return std::string(reinterpret_cast<const char*>(d.data()), kTokenMacBytes);
}

}  // namespace

UnsubscribeCodec::UnsubscribeCodec(std::string_view verp_secret) {
  crypto::Sha256Digest d = crypto::HmacSha256(verp_secret, kLabel);
  key_.assign(reinterpret_cast<const char*>(d.data()), d.size());
}

std::string UnsubscribeCodec::Token(const UnsubscribeTarget& target) const {
  std::string raw;
  raw.append(reinterpret_cast<const char*>(target.recipient.data()), kIdBytes);
  raw.append(reinterpret_cast<const char*>(target.campaign.data()), kIdBytes);
  raw.append(target.address.substr(0, kMaxAddress));
  raw += Mac(key_, raw);
  return Base32Lower(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
}

absl::StatusOr<UnsubscribeTarget> UnsubscribeCodec::Verify(std::string_view token) const {
  std::string raw;
  if (token.size() > 1024 || !DecodeBase32(token, raw) ||
      raw.size() < 2 * kIdBytes + kTokenMacBytes + 3) {
    return absl::InvalidArgumentError("malformed unsubscribe token");
  }
  std::string_view signed_part(raw.data(), raw.size() - kTokenMacBytes);
  std::string_view mac(raw.data() + signed_part.size(), kTokenMacBytes);
  if (!crypto::ConstantTimeEqual(Mac(key_, signed_part), mac)) {
    return absl::PermissionDeniedError("the unsubscribe token's signature does not match");
  }
  UnsubscribeTarget t;
  std::memcpy(t.recipient.data(), raw.data(), kIdBytes);
  std::memcpy(t.campaign.data(), raw.data() + kIdBytes, kIdBytes);
  t.address.assign(signed_part.substr(2 * kIdBytes));
  return t;
}

std::string UnsubscribeUrl(std::string_view public_url, std::string_view token) {
  return fmt::format("{}/v1/unsubscribe/{}", public_url, token);
}

}  // namespace salvo::render
