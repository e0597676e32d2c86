#include "engine/tls/dkim_crypto.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "engine/tls/crypto.h"
#include "engine/tls/openssl_error.h"
#include "engine/tls/openssl_glue.h"

namespace salvo::crypto {

struct DkimKey::Impl {
  EVP_PKEY* pkey = nullptr;
  ~Impl() { EVP_PKEY_free(pkey); }
};

namespace {

using tls_internal::OpenSslError;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  out.resize(Base64EncodeBlock(bytes.data(), bytes.size(), out.data()));
  return out;
}

absl::StatusOr<DkimKey> DkimKey::FromPem(std::string_view pem) {
  tls_internal::ClearOpenSslErrors();
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslError(absl::StatusCode::kInternal, "BIO_new_mem_buf");
  auto impl = std::make_shared<Impl>();
  impl->pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (impl->pkey == nullptr) {
    return OpenSslError(absl::StatusCode::kInvalidArgument, "not a PEM private key");
  }
  int id = EVP_PKEY_get_base_id(impl->pkey);
  int bits = EVP_PKEY_get_bits(impl->pkey);
  if (id == EVP_PKEY_RSA) {
    if (bits < 1024) {
      return absl::InvalidArgumentError("RSA DKIM keys must have at least 1024 bits (RFC 8301)");
    }
    return DkimKey(std::move(impl), DkimKeyType::kRsa, bits);
  }
  if (id == EVP_PKEY_ED25519) return DkimKey(std::move(impl), DkimKeyType::kEd25519, bits);
  return absl::InvalidArgumentError("DKIM keys must be RSA or Ed25519");
}

absl::StatusOr<DkimKey> DkimKey::Generate(DkimKeyType type, int rsa_bits) {
  tls_internal::ClearOpenSslErrors();
  auto impl = std::make_shared<Impl>();
  if (type == DkimKeyType::kRsa) {
    if (rsa_bits < 1024 || rsa_bits > 8192) {
      return absl::InvalidArgumentError("RSA key size must be 1024..8192 bits");
    }
    impl->pkey = EVP_RSA_gen(static_cast<unsigned int>(rsa_bits));
  } else {
    impl->pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  }
  if (impl->pkey == nullptr) return OpenSslError(absl::StatusCode::kInternal, "key generation");
  int bits = EVP_PKEY_get_bits(impl->pkey);
  return DkimKey(std::move(impl), type, bits);
}

std::string_view DkimKey::algorithm() const {
  return type_ == DkimKeyType::kRsa ? "rsa-sha256" : "ed25519-sha256";
}

std::string_view DkimKey::key_tag() const { return type_ == DkimKeyType::kRsa ? "rsa" : "ed25519"; }

absl::StatusOr<std::string> DkimKey::PrivateKeyPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey, nullptr, nullptr, 0,
                                                 nullptr, nullptr) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "PEM_write_bio_PrivateKey");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> DkimKey::PublicKeyBase64() const {
  if (type_ == DkimKeyType::kEd25519) {
    unsigned char raw[32];
    size_t len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(impl_->pkey, raw, &len) != 1 || len != sizeof(raw)) {
      return OpenSslError(absl::StatusCode::kInternal, "EVP_PKEY_get_raw_public_key");
    }
    return Base64(std::string_view(reinterpret_cast<const char*>(raw), len));
  }
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(impl_->pkey, &der);
  if (len <= 0) return OpenSslError(absl::StatusCode::kInternal, "i2d_PUBKEY");
  std::string out = Base64(std::string_view(reinterpret_cast<const char*>(der), len));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> DkimKey::Sign(std::string_view header_data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (ctx == nullptr) return OpenSslError(absl::StatusCode::kInternal, "EVP_MD_CTX_new");
  const EVP_MD* md = type_ == DkimKeyType::kRsa ? EVP_sha256() : nullptr;
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, impl_->pkey) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSignInit");
  }
  // RFC 8463: Ed25519 signs the SHA-256 hash of the data, not the data.
  Sha256Digest digest;
  std::string_view input = header_data;
  if (type_ == DkimKeyType::kEd25519) {
    digest = Sha256(header_data);
    input = std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, tls_glue::Uchars(input), input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSign (size)");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     tls_glue::Uchars(input), input.size()) != 1) {
    return OpenSslError(absl::StatusCode::kInternal, "EVP_DigestSign");
  }
  sig.resize(len);
  return sig;
}

}  // namespace salvo::crypto
