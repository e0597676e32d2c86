// Pop3Session: one POP3 connection (RFC 1939 server side, with RFC 2449
// CAPA and response codes, RFC 2595 STLS, RFC 5034 SASL), as a coroutine on
// the shard's ring.
//
//   Pop3Session session(std::move(socket), options);
//   co_await session.Run();   // greeting ... QUIT / error / timeout
//
// Structure (after the SMTP server, engine/smtp/server): lines come from a
// LineReader, go through the I/O-free parser (command_parser.h) and the
// command table (command_table.h), whose rows say in which states a verb is
// valid and how many arguments it takes; the handlers in auth_commands.cc
// and transaction_commands.cc do the rest. States are the explicit
// SessionState enum (RFC 1939 §3).
//
// Invariants:
//  - No command before a successful login reaches the store: the table
//    refuses TRANSACTION verbs in AUTHORIZATION before any handler runs,
//    and the maildrop (lock and view) is taken only after the credentials
//    verified.
//  - Changes to the store happen only in the UPDATE state, i.e. after QUIT
//    in TRANSACTION; a session that ends otherwise changes nothing.
//  - Replies are batched: each is appended to the Writer and sent when the
//    session would otherwise wait for input (RFC 2449 PIPELINING).
//  - Input is bounded: command lines by limits.max_command_line (RFC 2449:
//    255 octets), SASL responses by max_sasl_line; -ERR for bad commands
//    counts towards max_errors, then the session ends; failed logins are
//    slowed down and limited per session and per client address.
//  - Memory for RETR/TOP: the message as the store returns it, plus one
//    encoded piece (limits.write_chunk) at a time.
//  - Every read has the idle deadline (10 minutes by default, RFC 1939 §3);
//    at the deadline the session says so and ends without UPDATE.
//  - STLS: plaintext pipelined after the command is discarded, never read
//    as if it had come over TLS; USER given before it is forgotten.
//  - On ring stop, a waiting session answers "-ERR [SYS/TEMP]" and closes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/loop/task.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "engine/pop3/maildrop.h"
#include "engine/pop3/maildrop_lock.h"
#include "engine/pop3/pop3_options.h"

namespace salvo {
class TlsStream;
}

namespace salvo::pop3 {

enum class SessionState {
  kAuthorization,  // greeting sent; USER/PASS, APOP, AUTH, STLS, CAPA, QUIT
  kTransaction,    // logged in, maildrop locked and viewed
  kUpdate,         // QUIT received in TRANSACTION: changes being applied
};

std::string_view SessionStateName(SessionState s);

class Pop3Session {
 public:
  Pop3Session(Socket socket, std::shared_ptr<const Pop3Options> options);
  ~Pop3Session();
  Pop3Session(const Pop3Session&) = delete;
  Pop3Session& operator=(const Pop3Session&) = delete;

  // The whole session: TLS (implicit), greeting, commands, close.
  Task<void> Run();
  // Turns the client away at connect ("-ERR [SYS/TEMP] ...", then close).
  Task<void> Refuse(std::string_view why);

  // ---- For the command handlers of this folder (commands.h) ----
  const Pop3Options& options() const { return *options_; }
  const SocketAddress& client() const { return client_; }
  const std::string& session_id() const { return session_id_; }
  bool tls_active() const { return tls_ != nullptr; }
  // Passwords (and APOP digests) are accepted on this connection.
  bool auth_offered() const;
  bool stls_offered() const;
  bool apop_offered() const { return !apop_timestamp_.empty(); }
  const std::string& apop_timestamp() const { return apop_timestamp_; }

  // Queue "+OK text" / "-ERR text" / a raw line of a multi-line response
  // (each gets its CRLF). -ERR counts towards max_errors unless told not to.
  void Ok(std::string_view text);
  void Err(std::string_view text, bool counts_as_error = true);
  void Line(std::string_view line);
  // Sends queued replies now.
  Task<absl::Status> Flush();
  // A line (SASL responses), flushing replies first unless one is buffered.
  Task<absl::StatusOr<std::string_view>> ReadLine(size_t max_line);
  // "+OK <status>", then `content` as a multi-line body, sent piece by piece.
  Task<absl::Status> SendContent(std::string_view status, std::string_view content);
  // STLS after its +OK is queued; on failure the session is closing.
  Task<void> StartTls();
  // After the credentials of `user` verified: takes the maildrop lock and
  // the view, answers, and enters TRANSACTION (or answers -ERR [IN-USE] /
  // [SYS/TEMP] and stays in AUTHORIZATION).
  void Login(const std::string& user, std::string_view mechanism);
  // After credentials failed: delay, count, answer -ERR [AUTH] (or close).
  Task<void> LoginFailed(std::string_view user, std::string_view mechanism);
  // True (and the reply queued, the session closing) when the client's
  // address has failed too often recently.
  bool LoginBlocked();
  // QUIT in TRANSACTION: applies the marks to the store, answers, closes.
  Task<void> Update();

  SessionState state = SessionState::kAuthorization;
  std::string user;        // USER given, waiting for PASS
  std::string login_user;  // logged in as (TRANSACTION)
  Maildrop maildrop;
  int auth_failures = 0;
  int errors = 0;
  bool closing = false;  // end the session after the current command

 private:
  // Answers a failed command read; false when the session must end.
  bool OnReadError(const absl::Status& status);
  Task<void> Close();

  std::shared_ptr<const Pop3Options> options_;
  Socket socket_;
  std::unique_ptr<TlsStream> tls_;  // after STLS / implicit TLS
  LineReader reader_;
  Writer writer_;
  SocketAddress client_;
  std::string session_id_;
  std::string apop_timestamp_;  // the greeting's, when APOP is offered
  std::optional<MaildropLocks::Lock> lock_;
  bool stopping_ = false;  // the ring is stopping
  bool broken_ = false;    // the connection failed: write nothing more
};

}  // namespace salvo::pop3
