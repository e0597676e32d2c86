// DKIM key material and the private-key operations of RFC 6376 / RFC 8463,
// kept in engine/tls so that this stays the only folder that includes
// OpenSSL. engine/dkim does canonicalization and header assembly; it calls
// here only for key loading/generation and the signature itself.
//
// Invariants: a DkimKey is immutable after creation and may be used from many
// threads at once (OpenSSL 3 EVP_PKEY is shareable read-only; every signature
// uses its own EVP_MD_CTX). Private key bytes never leave this object except
// through PrivateKeyPem(), which keygen uses to write the key file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace salvo::crypto {

enum class DkimKeyType { kRsa, kEd25519 };

class DkimKey {
 public:
  // A PEM private key (PKCS#8 "PRIVATE KEY" or traditional "RSA PRIVATE
  // KEY"); RSA keys shorter than 1024 bits are refused (RFC 8301).
  static absl::StatusOr<DkimKey> FromPem(std::string_view pem);
  // A fresh key: RSA of `rsa_bits` (>= 1024) or Ed25519.
  static absl::StatusOr<DkimKey> Generate(DkimKeyType type, int rsa_bits = 2048);

  DkimKeyType type() const { return type_; }
  int bits() const { return bits_; }
  // "rsa-sha256" or "ed25519-sha256" (the a= tag).
  std::string_view algorithm() const;
  // "rsa" or "ed25519" (the k= tag of the DNS record).
  std::string_view key_tag() const;

  // PKCS#8 PEM of the private key.
  absl::StatusOr<std::string> PrivateKeyPem() const;
  // The p= value of the DNS record, base64: the DER SubjectPublicKeyInfo for
  // RSA (RFC 6376 §3.6.1), the raw 32-byte public key for Ed25519 (RFC 8463).
  absl::StatusOr<std::string> PublicKeyBase64() const;

  // The raw signature over `header_data` (the canonicalized signed headers):
  // RSASSA-PKCS1-v1_5 with SHA-256, or PureEdDSA Ed25519 over SHA-256(data)
  // as RFC 8463 §3 specifies.
  absl::StatusOr<std::string> Sign(std::string_view header_data) const;

 private:
  struct Impl;
  DkimKey(std::shared_ptr<const Impl> impl, DkimKeyType type, int bits)
      : impl_(std::move(impl)), type_(type), bits_(bits) {}

  std::shared_ptr<const Impl> impl_;
  DkimKeyType type_;
  int bits_;
};

// Base64 (RFC 4648, padded, one line) of `bytes`.
std::string Base64(std::string_view bytes);

}  // namespace salvo::crypto
