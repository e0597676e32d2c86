#include "engine/tls/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "engine/tls/openssl_error.h"
#include "engine/tls/openssl_glue.h"

namespace salvo::crypto {
namespace {

// Fetched once: EVP_sha256() makes OpenSSL 3 look the algorithm up in its
// provider tables on every use.
const EVP_MD* FetchedSha256() {
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, FetchedSha256(), nullptr);
  return out;
}

Sha256Stream::Sha256Stream() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, FetchedSha256(), nullptr) != 1) {
    std::fprintf(stderr, "salvo: cannot start a SHA-256 digest (out of memory?)\n");
    std::abort();
  }
}

Sha256Stream::~Sha256Stream() { EVP_MD_CTX_free(ctx_); }

void Sha256Stream::Update(std::string_view data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

Sha256Digest Sha256Stream::Finish() {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  return out;
}

Md5Digest Md5(std::string_view data) {
  Md5Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_md5(), nullptr);
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), tls_glue::Uchars(data), data.size(),
       out.data(), &len);
  return out;
}

std::string HmacMd5(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), tls_glue::Uchars(data), data.size(),
       mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

absl::StatusOr<std::string> Pbkdf2Sha256(std::string_view password, std::string_view salt,
                                         uint64_t iterations, size_t length) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "PBKDF2", nullptr);
  if (kdf == nullptr)
    return tls_internal::OpenSslError(absl::StatusCode::kInternal, "OpenSSL has no PBKDF2");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr)
    return tls_internal::OpenSslError(absl::StatusCode::kInternal, "EVP_KDF_CTX_new");
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()),
                                        salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iterations),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  std::string out(length, '\0');
  int ok = EVP_KDF_derive(ctx, reinterpret_cast<unsigned char*>(out.data()), out.size(), params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) return tls_internal::OpenSslError(absl::StatusCode::kInternal, "PBKDF2 derivation");
  return out;
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return tls_internal::OpenSslError(absl::StatusCode::kInternal, "RAND_bytes");
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

size_t Base64EncodeBlock(const void* in, size_t n, char* out) {
  return static_cast<size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out),
                                             static_cast<const unsigned char*>(in),
                                             static_cast<int>(n)));
}

}  // namespace salvo::crypto
