// VERP return paths: bounce+TOKEN@<bounce domain>, where TOKEN names the
// recipient (its 16-byte spool id) and is signed with HMAC-SHA256 so a forged
// or damaged bounce attributes nothing. TOKEN is lowercase base32 without
// padding (local parts are matched case-insensitively by many MTAs):
// 16 id bytes + 8 MAC bytes = 39 characters, so "bounce+TOKEN" stays inside
// the 64-character local-part limit of RFC 5321 §4.5.3.1.1.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo::render {

using RecipientKey = std::array<uint8_t, 16>;

class VerpCodec {
 public:
  // `secret` should be 32 random bytes kept in the data dir.
  explicit VerpCodec(std::string secret) : secret_(std::move(secret)) {}

  std::string Token(const RecipientKey& id) const;
  // "bounce+TOKEN@domain"
  std::string ReturnPath(const RecipientKey& id, std::string_view domain) const;
  // The recipient named by a token, or an error if it is malformed or its
  // signature does not match.
  absl::StatusOr<RecipientKey> Verify(std::string_view token) const;
  // Extracts and verifies the token from a full address ("bounce+T@d").
  absl::StatusOr<RecipientKey> VerifyAddress(std::string_view address) const;

 private:
  std::string secret_;
};

std::string Base32Lower(const uint8_t* data, size_t len);
bool DecodeBase32(std::string_view text, std::string& out);

}  // namespace salvo::render
