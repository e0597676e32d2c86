// Cryptographic primitives for the rest of Salvo, so that engine/tls stays
// the only folder that includes OpenSSL: digests and MACs (API-key hashes,
// VERP tokens, CRAM-MD5), PBKDF2 password hashing, secure random bytes,
// constant-time comparison and base64 blocks for MIME.
//
// All functions are thread-safe and allocation-light; none touches OpenSSL's
// error queue in a way that leaks into TLS sessions (errors are drained into
// the returned status).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct evp_md_ctx_st;

namespace salvo::crypto {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

// SHA-256 over data that arrives in pieces (a DKIM body as it is
// canonicalized). One stream per thread; Finish() ends it.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;

  void Update(std::string_view data);
  Sha256Digest Finish();

 private:
  evp_md_ctx_st* ctx_;
};

// MD5, for protocols that still require it (POP3 APOP, RFC 1939 §7); never
// for anything new.
using Md5Digest = std::array<uint8_t, 16>;
Md5Digest Md5(std::string_view data);
Sha256Digest HmacSha256(std::string_view key, std::string_view data);
// RFC 2104 HMAC-MD5: 16 raw bytes (RFC 2195 CRAM-MD5 needs it).
std::string HmacMd5(std::string_view key, std::string_view data);

// PBKDF2-HMAC-SHA256 (RFC 8018) of `length` bytes.
absl::StatusOr<std::string> Pbkdf2Sha256(std::string_view password, std::string_view salt,
                                         uint64_t iterations, size_t length);
// `n` bytes from OpenSSL's CSPRNG.
absl::StatusOr<std::string> RandomBytes(size_t n);

// True when a and b are equal; time depends only on the sizes.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// Lower-case hex of `bytes`.
std::string Hex(std::string_view bytes);

// Base64 (RFC 4648, padded, no line breaks) of in[0..n), written to `out`,
// which must hold 4 * ((n + 2) / 3) bytes. Returns the number written.
size_t Base64EncodeBlock(const void* in, size_t n, char* out);

}  // namespace salvo::crypto
