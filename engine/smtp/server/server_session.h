// ServerSession: one inbound SMTP connection (RFC 5321 server side), as a
// coroutine on the shard's ring.
//
//   ServerSession session(std::move(socket), options);
//   co_await session.Run();   // greeting ... QUIT / error / timeout
//
// Structure (after OpenSMTPD and Postfix smtpd): command lines come from a
// LineReader and go through the I/O-free parser (command_parser.h) and the
// command table (command_table.h), whose entries are {verb, flags, check,
// proceed}: the check answers state and syntax errors (503/501/530/555...),
// the proceed does the work. The session's state is the explicit
// SessionState enum below.
//
// Replies are batched (RFC 2920 server side): each reply is appended to the
// Writer and sent when the session would otherwise wait for input — no
// complete command line is buffered, or DATA needs more bytes — or before
// it waits for the MessageSink. A pipelining client thus gets one write per
// group of commands.
//
// Invariants:
//  - 250 after DATA / BDAT LAST only once MessageSink::Accept returned OK,
//    i.e. the message is durable.
//  - Never an open relay: RCPT passes RelayPolicy (relay_policy.h).
//  - Every reply carries an RFC 3463 enhanced status code except the
//    greeting, EHLO/HELO and 334 challenges.
//  - Input is bounded: command lines by limits.max_command_line, content by
//    max_message_size (excess read and dropped), recipients by
//    max_recipients; every read has a deadline (timeouts.*); 5xx replies
//    count towards max_errors, then 421 and close.
//  - STARTTLS: plaintext pipelined after the command is discarded, never
//    read as if it had come over TLS (CVE-2011-0411); afterwards the
//    session forgets HELO, AUTH and the transaction (RFC 3207 §4.2).
//  - Bare LF in commands is accepted (as by Postfix by default): a command
//    line ends at LF, with or without CR, since command framing cannot
//    smuggle a message. In content only CRLF.CRLF ends DATA and a bare LF or
//    CR refuses the message or is normalised (content_decoder.h).
//  - On ring stop, a waiting session answers 421 4.3.2 and closes.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/loop/task.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/server/command_parser.h"
#include "engine/smtp/server/content_decoder.h"
#include "engine/smtp/server/message_sink.h"
#include "engine/smtp/server/server_options.h"
#include "engine/smtp/server/server_reply.h"

namespace salvo {
class TlsStream;
}

namespace salvo::smtp {

enum class SessionState {
  kConnected,  // greeting sent; EHLO/HELO expected
  kGreeted,    // EHLO/HELO done; no mail transaction
  kMail,       // MAIL accepted; RCPT expected
  kRcpt,       // one or more RCPT accepted; RCPT, DATA or BDAT expected
  kBdat,       // BDAT chunks arriving until BDAT LAST
};

std::string_view SessionStateName(SessionState s);

// One mail transaction, from MAIL to the end of DATA / BDAT LAST or RSET.
struct Transaction {
  MailCommand mail;
  std::vector<InboundRecipient> recipients;
  std::string id;       // Received: id, "<session id>.<n>"
  std::string content;  // BDAT: Received: header + chunks so far
  std::unique_ptr<ContentDecoder> bdat;
  uint64_t bdat_chunks = 0;
};

class ServerSession {
 public:
  ServerSession(Socket socket, std::shared_ptr<const ServerOptions> options);
  ~ServerSession();
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // The whole session: TLS (implicit), greeting, commands, close.
  Task<void> Run();
  // Turns the client away at connect ("421 4.7.0 ...", then close).
  Task<void> Refuse(std::string_view why);

  // ---- For the command handlers of this folder (commands.h) ----
  const ServerOptions& options() const { return *options_; }
  const SocketAddress& client() const { return client_; }
  const std::string& session_id() const { return session_id_; }
  bool tls_active() const { return tls_ != nullptr; }
  InboundTls tls_info() const;
  bool authenticated() const { return !auth_user.empty(); }
  bool auth_offered() const;

  // Queues a reply; 5xx replies count towards max_errors unless told not to.
  void Reply(SmtpReply reply, bool counts_as_error = true);
  void Reply(int code, std::string_view enhanced, std::string_view text) {
    Reply(MakeReply(code, enhanced, text));
  }
  // Sends queued replies now.
  Task<absl::Status> Flush();
  // A line (AUTH responses), flushing replies first if none is buffered.
  Task<absl::StatusOr<std::string_view>> ReadLine(Duration timeout, size_t max_line);
  // DATA content until CRLF.CRLF, through `decoder`.
  Task<absl::Status> ReadDotTerminated(ContentDecoder& decoder);
  // Exactly `size` octets of a BDAT chunk, into `decoder` (null: dropped).
  Task<absl::Status> ReadChunk(uint64_t size, ContentDecoder* decoder);
  // STARTTLS after its 220 is queued; on failure the session is closing.
  Task<void> StartTls();
  // Drops the mail transaction (RSET, end of DATA, errors): back to kGreeted.
  void ResetTransaction();
  // Starts a transaction's bookkeeping after MAIL.
  void BeginTransaction(MailCommand mail);

  SessionState state = SessionState::kConnected;
  Transaction txn;
  std::string helo;
  bool esmtp = false;
  std::string auth_user;
  int auth_failures = 0;
  int errors = 0;
  bool closing = false;  // end the session after the current command

 private:
  Task<absl::StatusOr<std::string_view>> ReadCommandLine();
  // Answers a failed command read; false when the session must end.
  bool OnReadError(const absl::Status& status);
  Task<void> Close();

  std::shared_ptr<const ServerOptions> options_;
  Socket socket_;
  std::unique_ptr<TlsStream> tls_;  // after STARTTLS / implicit TLS
  LineReader reader_;
  Writer writer_;
  SocketAddress client_;
  std::string session_id_;
  int transactions_ = 0;
  bool stopping_ = false;  // the ring is stopping
  bool broken_ = false;    // the connection failed: write nothing more
};

}  // namespace salvo::smtp
