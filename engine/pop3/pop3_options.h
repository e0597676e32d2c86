// Pop3Options: how one POP3 listener serving the bounce mailbox behaves.
// Immutable once a session has started (sessions hold a shared_ptr to the
// options they began with, so a config reload swaps in a new object).
//
//   kind        tls_mode     port
//   pop3        kStls        110   STLS offered (RFC 2595) when `tls` is set
//   pop3s       kImplicit    995   TLS from the first byte (RFC 8314)
//
// Authentication (USER/PASS, APOP, AUTH PLAIN/LOGIN) is offered only over
// TLS, or without TLS when `allow_plaintext_auth` is set and the client is
// on loopback (tests, local tools). APOP is offered (the greeting carries
// its timestamp) only when `apop` holds at least one secret.
//
// What DELE means (the "deleted means processed, not erased"):
//  - keep_messages = false: at QUIT the messages marked deleted get \Seen
//    and \Deleted and are expunged from `folder`.
//  - keep_messages = true: at QUIT they get \Seen and \Deleted but stay in
//    the store; POP3 never shows a \Deleted message, so later POP3 sessions
//    do not see them again, while IMAP users still can (and may EXPUNGE).
// In both modes a message retrieved with RETR (TOP does not count) gets \Seen
// at QUIT, and nothing changes when the session ends without QUIT (RFC 1939
// §6).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "engine/base/deadline.h"
#include "engine/mailbox/mail_store.h"
#include "engine/pop3/apop.h"
#include "engine/pop3/maildrop_lock.h"
#include "engine/smtp/server/credentials.h"
#include "engine/smtp/server/limits.h"
#include "engine/tls/tls_context.h"

namespace salvo::pop3 {

using namespace std::chrono_literals;

enum class Pop3TlsMode {
  kNone,      // no TLS offered
  kStls,      // STLS offered (RFC 2595)
  kImplicit,  // TLS from the first byte (port 995)
};

struct Pop3Limits {
  // RFC 2449 §4: a command line is at most 255 octets including its CRLF.
  size_t max_command_line = 253;
  size_t max_sasl_line = 12288;  // one AUTH continuation response
  int max_errors = 20;           // -ERR for bad commands, then close
  int max_auth_failures_per_session = 3;
  Duration auth_failure_delay = 1s;  // before each failure reply, times the failures
  Duration max_auth_failure_delay = 5s;
  size_t write_chunk = 64 * 1024;  // RETR/TOP content is sent in pieces of this size
};

struct Pop3Timeouts {
  Duration idle = 10min;  // RFC 1939 §3: the autologout timer is at least 10 minutes
  Duration tls_handshake = 1min;
  Duration write = 2min;
  Duration linger = 2s;  // reading what a closed-on client still sends
};

struct Pop3Options {
  std::string hostname = "localhost";  // greeting, APOP timestamp
  std::string listener_name = "pop3";

  Pop3TlsMode tls_mode = Pop3TlsMode::kNone;
  std::shared_ptr<TlsContext> tls;                     // required unless kNone
  std::shared_ptr<smtp::CredentialStore> credentials;  // null or empty: nobody can log in
  std::shared_ptr<const ApopSecrets> apop;             // null or empty: no APOP
  bool allow_plaintext_auth = false;                   // loopback clients only

  std::shared_ptr<mailbox::MailStore> store;  // required
  std::string folder = "INBOX";               // the maildrop every user sees
  bool keep_messages = false;                 // see above

  Pop3Limits limits;
  Pop3Timeouts timeouts;
  // Shared by every shard's session of this listener; null: unlimited.
  std::shared_ptr<smtp::ConnectionLimiter> connections;
  std::shared_ptr<smtp::AuthFailureLimiter> auth_failures;
  // The maildrop locks; null: the process-wide table (MaildropLocks::Global()).
  std::shared_ptr<MaildropLocks> locks;
};

}  // namespace salvo::pop3
