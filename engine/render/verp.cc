#include "engine/render/verp.h"

#include <cstring>

#include "engine/tls/crypto.h"

namespace salvo::render {
namespace {

constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t kVerpMacBytes = 8;
constexpr std::string_view kPrefix = "bounce+";

std::array<uint8_t, 32> Mac(const std::string& secret, const RecipientKey& id) {
  return crypto::HmacSha256(secret,
                            std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

}  // namespace

std::string Base32Lower(const uint8_t* data, size_t len) {
  std::string out;
  out.reserve((len * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

bool DecodeBase32(std::string_view text, std::string& out) {
  out.clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'a' && c <= 'z') {
      v = c - 'a';
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= '2' && c <= '7') {
      v = c - '2' + 26;
    } else {
      return false;
    }
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return true;
}

std::string VerpCodec::Token(const RecipientKey& id) const {
  uint8_t raw[16 + kVerpMacBytes];
  std::memcpy(raw, id.data(), 16);
  auto mac = Mac(secret_, id);
  std::memcpy(raw + 16, mac.data(), kVerpMacBytes);
  return Base32Lower(raw, sizeof raw);
}

std::string VerpCodec::ReturnPath(const RecipientKey& id, std::string_view domain) const {
  std::string out(kPrefix);
  out += Token(id);
  out += '@';
  out += domain;
  return out;
}

absl::StatusOr<RecipientKey> VerpCodec::Verify(std::string_view token) const {
  std::string raw;
  if (token.size() != 39 || !DecodeBase32(token, raw) || raw.size() != 16 + kVerpMacBytes) {
    return absl::InvalidArgumentError("malformed VERP token");
  }
  RecipientKey id;
  std::memcpy(id.data(), raw.data(), 16);
  auto mac = Mac(secret_, id);
  if (!crypto::ConstantTimeEqual(
          std::string_view(reinterpret_cast<const char*>(mac.data()), kVerpMacBytes),
          std::string_view(raw.data() + 16, kVerpMacBytes))) {
    return absl::PermissionDeniedError("VERP token signature does not match");
  }
  return id;
}

absl::StatusOr<RecipientKey> VerpCodec::VerifyAddress(std::string_view address) const {
  size_t at = address.rfind('@');
  std::string_view local = address.substr(0, at);
  if (local.size() <= kPrefix.size() || local.substr(0, kPrefix.size()).compare(kPrefix) != 0) {
    // Prefix match is case-insensitive in practice, but we issue lowercase.
    return absl::InvalidArgumentError("not a VERP address");
  }
  return Verify(local.substr(kPrefix.size()));
}

}  // namespace salvo::render
