// ImapOptions: how one IMAP listener behaves (RFC 3501 server). Immutable
// once a session has started: sessions hold the shared_ptr they began with,
// so a config reload swaps in a new object without touching them.
//
//   kind        tls_mode     port
//   imap        kStartTls    143  (STARTTLS offered when `tls` is set)
//   imaps       kImplicit    993  (RFC 8314)
//
// LOGIN / AUTHENTICATE are offered only over TLS, unless
// `allow_plaintext_auth` is set and the client is on loopback (otherwise
// CAPABILITY says LOGINDISABLED, as RFC 3501 §6.2.3 asks).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/base/deadline.h"
#include "engine/mailbox/mail_store.h"
#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/limits.h"
#include "engine/tls/tls_context.h"

namespace salvo::imap {

using namespace std::chrono_literals;

enum class ImapTlsMode {
  kNone,      // plaintext only; STARTTLS offered when `tls` is set
  kImplicit,  // TLS from the first byte (993)
};

struct ImapLimits {
  size_t max_line = 8192;                 // one line of a command, without CRLF
  size_t max_literal = 64 * 1024;         // a literal outside APPEND
  uint64_t max_append = 50ull << 20;      // an APPEND message literal
  size_t max_command = 256 * 1024;        // all lines of one command (without APPEND data)
  int max_nesting = 16;                   // parenthesised list depth
  size_t max_arguments = 2048;            // tokens in one command
  int max_bad_commands = 20;              // BAD replies, then BYE
  int max_auth_failures_per_session = 3;  // then BYE
  Duration auth_failure_delay = 1s;       // before each failed LOGIN, times the failures
  Duration max_auth_failure_delay = 5s;
};

struct ImapTimeouts {
  Duration idle = 30min;          // RFC 3501 §5.4: at least 30 minutes
  Duration idle_command = 29min;  // RFC 2177: IDLE is re-armed; the client re-issues it
  Duration tls_handshake = 1min;
  Duration write = 2min;
  Duration linger = 2s;
};

struct ImapOptions {
  std::string hostname = "localhost";
  std::string listener_name = "imap";

  ImapTlsMode tls_mode = ImapTlsMode::kNone;
  std::shared_ptr<TlsContext> tls;    // required for kImplicit; STARTTLS with kNone
  bool allow_plaintext_auth = false;  // loopback clients only
  std::shared_ptr<smtp::CredentialStore> credentials;  // null or empty: nobody logs in

  std::shared_ptr<mailbox::MailStore> store;  // required

  ImapLimits limits;
  ImapTimeouts timeouts;
  // Shared by every shard's session of this listener; null: unlimited.
  std::shared_ptr<smtp::ConnectionLimiter> connections;
  std::shared_ptr<smtp::AuthFailureLimiter> auth_failures;
};

}  // namespace salvo::imap
