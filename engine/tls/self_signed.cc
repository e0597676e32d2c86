#include "engine/tls/self_signed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <vector>

#include "engine/base/errno_status.h"
#include "engine/base/status_macros.h"
#include "engine/base/unique_fd.h"
#include "engine/tls/openssl_error.h"
#include "engine/tls/openssl_glue.h"

namespace salvo {
namespace {

using tls_internal::ClearOpenSslErrors;
using tls_internal::OpenSslError;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* g) const { GENERAL_NAMES_free(g); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

absl::Status Failed(std::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, what);
}

bool IsLoopbackName(const std::string& s) {
  return s == "localhost" || s == "::1" || s.rfind("127.", 0) == 0;
}

absl::Status AddName(GENERAL_NAMES* names, int type, const std::string& value) {
  GENERAL_NAME* name = nullptr;
  if (type == GEN_IPADD) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(value.c_str());
    if (ip == nullptr) return absl::InvalidArgumentError("not an IP address: " + value);
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_IPADD, ip);
  } else {
    ASN1_IA5STRING* dns = ASN1_IA5STRING_new();
    if (dns == nullptr || ASN1_STRING_set(dns, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_IA5STRING_free(dns);
      return Failed("subjectAltName DNS entry");
    }
    name = GENERAL_NAME_new();
    GENERAL_NAME_set0_value(name, GEN_DNS, dns);
  }
  sk_GENERAL_NAME_push(names, name);
  return absl::OkStatus();
}

absl::Status AddSubjectAltName(X509* cert, const std::string& common_name) {
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> names(sk_GENERAL_NAME_new_null());
  bool ip = tls_glue::IsIpLiteral(common_name);
  RETURN_IF_ERROR(AddName(names.get(), ip ? GEN_IPADD : GEN_DNS, common_name));
  if (IsLoopbackName(common_name)) {
    if (common_name != "127.0.0.1") RETURN_IF_ERROR(AddName(names.get(), GEN_IPADD, "127.0.0.1"));
    if (common_name != "::1") RETURN_IF_ERROR(AddName(names.get(), GEN_IPADD, "::1"));
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return Failed("adding subjectAltName");
  }
  return absl::OkStatus();
}

absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value);
  if (ext == nullptr) return Failed(std::string("certificate extension ") + OBJ_nid2sn(nid));
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return Failed(std::string("adding extension ") + OBJ_nid2sn(nid));
  return absl::OkStatus();
}

absl::Status SetValidity(X509* cert, int days) {
  std::unique_ptr<BIGNUM, BnFree> serial(BN_new());
  // 127 random bits: positive and unique enough to never collide.
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) == nullptr) {
    return Failed("certificate serial number");
  }
  // An hour of slack for peers whose clock runs a little behind.
  if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), days, 0, nullptr) == nullptr) {
    return Failed("certificate validity");
  }
  return absl::OkStatus();
}

absl::StatusOr<X509Ptr> MakeCertificate(EVP_PKEY* key, const std::string& common_name, int days) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) return Failed("X509_new");
  RETURN_IF_ERROR(SetValidity(cert.get(), days));
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return OpenSslError(absl::StatusCode::kInvalidArgument,
                        "certificate common name '" + common_name + "'");
  }
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1) {
    return Failed("certificate issuer/public key");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, "critical,digitalSignature"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  RETURN_IF_ERROR(AddSubjectAltName(cert.get(), common_name));
  if (X509_sign(cert.get(), key, EVP_sha256()) <= 0) return Failed("signing the certificate");
  return cert;
}

// Writes through `write` into a fresh temporary file (mode `mode` from its
// creation on), syncs it and renames it over `path`.
template <typename WriteFn>
absl::Status WriteFileAtomically(const std::string& path, mode_t mode, WriteFn write) {
  std::string tmp = path + ".tmp.XXXXXX";
  UniqueFd fd(::mkstemp(tmp.data()));  // mkstemp creates with mode 0600
  if (!fd) return ErrnoStatus(errno, "creating " + tmp);
  auto fail = [&](absl::Status s) {
    ::unlink(tmp.c_str());
    return s;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(ErrnoStatus(errno, "chmod " + tmp));
  std::unique_ptr<BIO, BioFree> bio(BIO_new_fd(fd.get(), BIO_NOCLOSE));
  if (!bio || write(bio.get()) != 1 || BIO_flush(bio.get()) != 1) {
    return fail(Failed("writing " + path));
  }
  if (::fsync(fd.get()) != 0) return fail(ErrnoStatus(errno, "fsync " + tmp));
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return fail(ErrnoStatus(errno, "rename " + tmp + " to " + path));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Exists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return ErrnoStatus(errno, "stat " + path);
}

}  // namespace

absl::Status GenerateSelfSignedCertificate(const std::string& cert_path,
                                           const std::string& key_path,
                                           const std::string& common_name, int days) {
  if (common_name.empty()) return absl::InvalidArgumentError("empty certificate common name");
  if (days <= 0) return absl::InvalidArgumentError("certificate validity must be > 0 days");
  ClearOpenSslErrors();
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Failed("generating an EC P-256 key");
  ASSIGN_OR_RETURN(X509Ptr cert, MakeCertificate(key.get(), common_name, days));
  RETURN_IF_ERROR(WriteFileAtomically(key_path, 0600, [&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  }));
  return WriteFileAtomically(cert_path, 0644,
                             [&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
}

absl::StatusOr<bool> EnsureSelfSigned(const std::string& cert_path, const std::string& key_path,
                                      const std::string& common_name, int days) {
  ASSIGN_OR_RETURN(bool have_cert, Exists(cert_path));
  ASSIGN_OR_RETURN(bool have_key, Exists(key_path));
  if (have_cert && have_key) return false;
  if (have_cert != have_key) {
    return absl::FailedPreconditionError(
        have_cert ? "TLS certificate " + cert_path + " exists but its key " + key_path +
                        " is missing; not generating a new pair over it"
                  : "TLS key " + key_path + " exists but its certificate " + cert_path +
                        " is missing; not generating a new pair over it");
  }
  RETURN_IF_ERROR(GenerateSelfSignedCertificate(cert_path, key_path, common_name, days));
  return true;
}

}  // namespace salvo
