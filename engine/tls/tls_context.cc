#include "engine/tls/tls_context.h"

#include <openssl/ssl.h>

#include "engine/tls/openssl_error.h"

namespace salvo {

using tls_internal::ClearOpenSslErrors;
using tls_internal::OpenSslError;

namespace {

// Options both sides share: TLS 1.2+, no renegotiation, no compression, and
// buffers released while a connection is idle (many idle connections must
// stay cheap).
absl::StatusOr<SSL_CTX*> NewContext(const SSL_METHOD* method) {
  ClearOpenSslErrors();
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (ctx == nullptr) return OpenSslError(absl::StatusCode::kInternal, "SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    SSL_CTX_free(ctx);
    return OpenSslError(absl::StatusCode::kInternal, "setting the minimum TLS version");
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

const char* TlsVerifyName(TlsVerify v) {
  switch (v) {
    case TlsVerify::kOff:
      return "off";
    case TlsVerify::kOpportunistic:
      return "opportunistic";
    case TlsVerify::kRequired:
      return "required";
  }
  return "?";
}

void TlsContext::Free::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

TlsContext::~TlsContext() = default;

absl::StatusOr<TlsContext> TlsContext::Server(const TlsServerOptions& options) {
  if (options.cert_chain_file.empty() || options.key_file.empty()) {
    return absl::InvalidArgumentError("TLS server needs a certificate file and a key file");
  }
  absl::StatusOr<SSL_CTX*> made = NewContext(TLS_server_method());
  if (!made.ok()) return made.status();
  TlsContext context(*made, Side::kServer, TlsVerify::kOff);
  SSL_CTX* ctx = *made;
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  static constexpr unsigned char kSessionContext[] = "salvo";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_chain_file.c_str()) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition,
                        "loading TLS certificate chain " + options.cert_chain_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, options.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition,
                        "loading TLS private key " + options.key_file);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition,
                        "TLS private key " + options.key_file +
                            " does not match the certificate in " + options.cert_chain_file);
  }
  return context;
}

absl::StatusOr<TlsContext> TlsContext::Client(const TlsClientOptions& options) {
  absl::StatusOr<SSL_CTX*> made = NewContext(TLS_client_method());
  if (!made.ok()) return made.status();
  TlsContext context(*made, Side::kClient, options.verify);
  SSL_CTX* ctx = *made;
  // Verification mode is set per session (TlsStream::Handshake) since only
  // there is the host name known; here only the trust store.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  if (options.verify == TlsVerify::kOff) return context;
  if (!options.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) != 1) {
      return OpenSslError(absl::StatusCode::kFailedPrecondition,
                          "loading trusted CA file " + options.ca_file);
    }
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return OpenSslError(absl::StatusCode::kFailedPrecondition,
                        "loading the system's default CA store");
  }
  return context;
}

}  // namespace salvo
