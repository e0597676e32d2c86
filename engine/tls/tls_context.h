// TlsContext: the configuration every TLS session of one kind shares — an
// RAII owner of an OpenSSL SSL_CTX.
//
//  - Server(): certificate chain + private key (PEM files); used for inbound
//    STARTTLS and implicit TLS (SMTP, POP3, IMAP, HTTP).
//  - Client(): used by outbound sessions; carries the verification policy
//    (TlsVerify) and the trust store (a CA file, or the system's default).
//
// Invariants:
//  - TLS 1.2 is the minimum; renegotiation is refused (it would let a peer
//    make SSL_write wait for a read).
//  - A context is immutable once built; sessions (TlsStream) take their own
//    reference to the SSL_CTX, so a context may be dropped (e.g. on a config
//    reload) while sessions made from it are still running.
//  - OpenSSL types stay inside engine/tls: this header only forward-declares
//    them.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct ssl_ctx_st;  // SSL_CTX

namespace salvo {

// How a TLS client treats the server's certificate.
enum class TlsVerify {
  // Encrypt; no chain or name check at all (peer_verified() stays false).
  kOff,
  // Encrypt; check chain and name but only record the outcome
  // (TlsStream::peer_verified(), verify_error()) — the SMTP default.
  kOpportunistic,
  // The chain must verify against the trust store and the certificate must
  // name the host (SNI); otherwise the handshake fails.
  kRequired,
};

const char* TlsVerifyName(TlsVerify v);

struct TlsServerOptions {
  std::string cert_chain_file;  // PEM: leaf first, then intermediates
  std::string key_file;         // PEM private key matching the leaf
};

struct TlsClientOptions {
  TlsVerify verify = TlsVerify::kOpportunistic;
  // PEM file of trusted CAs; empty means the system's default store.
  std::string ca_file;
};

class TlsContext {
 public:
  enum class Side { kServer, kClient };

  static absl::StatusOr<TlsContext> Server(const TlsServerOptions& options);
  static absl::StatusOr<TlsContext> Client(const TlsClientOptions& options);

  TlsContext(TlsContext&&) noexcept = default;
  TlsContext& operator=(TlsContext&&) noexcept = default;
  ~TlsContext();

  Side side() const { return side_; }
  TlsVerify verify() const { return verify_; }
  // For engine/tls only.
  ssl_ctx_st* raw() const { return ctx_.get(); }

 private:
  struct Free {
    void operator()(ssl_ctx_st* ctx) const;
  };
  TlsContext(ssl_ctx_st* ctx, Side side, TlsVerify verify)
      : ctx_(ctx), side_(side), verify_(verify) {}

  std::unique_ptr<ssl_ctx_st, Free> ctx_;
  Side side_;
  TlsVerify verify_;
};

}  // namespace salvo
