// ServerOptions: how one inbound SMTP listener behaves. Immutable once a
// session has started (sessions hold a shared_ptr to the options they began
// with, so a config reload swaps in a new object without touching them).
//
// The three listener kinds of the issue are presets of the same options:
//
//   kind            tls_mode     require_tls  require_auth  relay
//   submission 587  kStartTls    true         true          authenticated users
//   submissions 465 kImplicit    (implied)    true          authenticated users
//   mx / relay 25   kStartTls    false        false         relay_networks,
//                   (if a cert)                             AUTH, local_domains
//
// AUTH is offered only when `credentials` has users, and only over TLS
// unless `allow_plaintext_auth` is set and the client is on loopback.
#pragma once

#include <memory>
#include <string>

#include "engine/smtp/server/content_decoder.h"
#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/limits.h"
#include "engine/smtp/server/message_sink.h"
#include "engine/smtp/server/relay_policy.h"
#include "engine/tls/tls_context.h"

namespace salvo::smtp {

enum class ServerTlsMode {
  kNone,      // no TLS offered
  kStartTls,  // STARTTLS offered (RFC 3207)
  kImplicit,  // TLS from the first byte (RFC 8314, port 465)
};

struct ServerOptions {
  std::string hostname = "localhost";  // greeting, EHLO, Received:
  std::string listener_name = "smtp";

  ServerTlsMode tls_mode = ServerTlsMode::kNone;
  std::shared_ptr<TlsContext> tls;  // required unless kNone
  // MAIL, RCPT, DATA, BDAT, AUTH, VRFY refused with 530 5.7.0 until STARTTLS.
  bool require_tls = false;
  // MAIL refused with 530 5.7.0 until AUTH succeeded.
  bool require_auth = false;
  // AUTH without TLS; honoured for loopback clients only (tests, local tools).
  bool allow_plaintext_auth = false;
  std::shared_ptr<CredentialStore> credentials;  // null or empty: no AUTH
  bool enable_cram_md5 = false;                  // see credentials.h for the trade-off

  RelayPolicy relay;
  std::shared_ptr<MessageSink> sink;  // required
  std::shared_ptr<SuppressionCheck> suppression;
  SuppressionAction suppression_action = SuppressionAction::kReject;

  BareNewlinePolicy bare_newline = BareNewlinePolicy::kReject;
  ServerLimits limits;
  ServerTimeouts timeouts;
  // Shared by every shard's session of this listener; null: unlimited.
  std::shared_ptr<ConnectionLimiter> connections;
  std::shared_ptr<AuthFailureLimiter> auth_failures;
};

}  // namespace salvo::smtp
