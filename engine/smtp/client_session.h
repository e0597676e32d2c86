// SmtpClientSession: one outbound SMTP connection, as a coroutine.
//
//   SmtpClientSession s(std::move(socket), options);
//   if (!(co_await s.Start()).ok()) { ... s.last_reply() ... }
//   TransactionResult r = co_await s.Send(envelope, content);   // reusable
//   co_await s.Quit();
//
// Start(): greeting, EHLO (HELO fallback), STARTTLS by policy, EHLO again.
// Send(): with PIPELINING, MAIL + every RCPT + DATA go out in one write
// (RFC 2920); with CHUNKING as well, the body goes in the same write as
// "BDAT n LAST" (RFC 3030), saving the DATA round trip. Without CHUNKING,
// Send(..., hold_end = true) keeps the content back once the server said
// 354, and the next Send writes it, end of data included, in front of its
// own MAIL, RCPT and DATA (RFC 2920 §3.1: message content may begin a
// command group): one write and one round trip per message instead of two.
// TakeHeldReply() then gives the held message's final reply (sending the
// content first if no Send has). SIZE, 8BITMIME,
// SMTPUTF8 and DSN parameters are honoured or refused locally with a clear
// reason — content is never silently altered. Timeouts follow RFC 5321
// §4.5.3.2. A remote 4xx/5xx is a value in TransactionResult; an
// absl::Status error means the connection itself failed (network, timeout,
// garbage) and must not be reused.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/deadline.h"
#include "engine/loop/task.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"
#include "engine/smtp/capabilities.h"
#include "engine/smtp/dot_stuffing.h"
#include "engine/smtp/reply.h"

namespace salvo::smtp {

using namespace std::chrono_literals;

enum class TlsPolicy { kOff, kOpportunistic, kRequired };

// RFC 5321 §4.5.3.2 client timeouts.
struct ClientTimeouts {
  Duration greeting = 5min;
  Duration ehlo = 5min;
  Duration starttls = 2min;
  Duration mail = 5min;
  Duration rcpt = 5min;
  Duration data_init = 2min;
  Duration data_block = 3min;
  Duration data_term = 10min;
  Duration rset = 2min;
  Duration quit = 30s;
};

// Upgrades `transport` to TLS in place (bound by the caller to a TLS
// context and the server name); the returned stream reads and writes
// through `transport`, which the session keeps.
using StartTlsFn =
    std::function<Task<absl::StatusOr<std::unique_ptr<Stream>>>(Stream* transport, Deadline)>;

struct ClientOptions {
  std::string ehlo_name = "localhost";
  TlsPolicy tls_policy = TlsPolicy::kOpportunistic;
  StartTlsFn start_tls;  // empty: this client cannot do TLS
  ClientTimeouts timeouts;
  size_t max_reply_line = 4096;
  bool use_chunking = true;  // BDAT when the server offers CHUNKING+PIPELINING
  // Honour Send's hold_end (with PIPELINING, not CHUNKING); false: never hold.
  bool pipeline_messages = true;
};

struct RecipientSpec {
  std::string address;  // without angle brackets
  std::string notify;   // RFC 3461 NOTIFY value ("SUCCESS,FAILURE", "NEVER") or empty
  std::string orcpt;    // RFC 3461 ORCPT value ("rfc822;bob@example.com") or empty
};

struct Envelope {
  std::string reverse_path;  // empty: the null sender <>
  std::vector<RecipientSpec> recipients;
  std::string ret;    // RFC 3461 RET: "FULL", "HDRS" or empty
  std::string envid;  // RFC 3461 ENVID (xtext) or empty
};

struct TransactionResult {
  SmtpReply mail;               // reply to MAIL FROM
  std::vector<SmtpReply> rcpt;  // per recipient; code 0 if never sent
  SmtpReply data;               // final reply to the content; code 0 if not reached
  // The content went out up to its end, which is held back (Send's
  // hold_end): its final reply comes from TakeHeldReply(), and `data` is
  // set from it by the caller.
  bool held = false;
  // The reply that decides recipient `i`'s outcome.
  const SmtpReply& ForRecipient(size_t i) const;
};

class SmtpClientSession {
 public:
  SmtpClientSession(Socket socket, ClientOptions options);
  SmtpClientSession(const SmtpClientSession&) = delete;
  SmtpClientSession& operator=(const SmtpClientSession&) = delete;

  // Greeting, EHLO/HELO and STARTTLS. On error, last_reply() holds the
  // server's reply if it sent one (e.g. a 554 greeting).
  Task<absl::Status> Start();
  // One transaction. Errors are connection failures only. `hold_end`: if
  // the content is to be sent (354 with a recipient accepted) and the
  // server pipelines without CHUNKING, keep it back (result.held): it goes
  // out in front of the next Send's commands or with TakeHeldReply(), and
  // `content` must stay valid until then. A held message's reply must be
  // taken before the Send after the one that sent it.
  Task<absl::StatusOr<TransactionResult>> Send(const Envelope& envelope, std::string_view content,
                                               bool hold_end = false);
  // The final reply to the held message: read by the Send that sent it, or
  // sent and read now. An error: the connection failed before that reply
  // came (the message may or may not have been taken), or no message is
  // held.
  Task<absl::StatusOr<SmtpReply>> TakeHeldReply();
  // A held message not yet written (nothing of its content has left).
  bool holding_unsent() const { return held_end_.has_value(); }
  // Gives up a held message not yet written. The server waits for its
  // content, so the connection is of no further use (only Quit()).
  void DropUnsent() {
    held_end_.reset();
    reusable_ = false;
  }
  // Polite end: QUIT, wait briefly for 221, close. A held message not yet
  // sent is dropped unsent (take its reply first).
  Task<void> Quit();

  const Capabilities& capabilities() const { return caps_; }
  const SmtpReply& greeting() const { return greeting_; }
  const SmtpReply& last_reply() const { return last_reply_; }
  bool tls_active() const { return tls_ != nullptr; }
  // False once the connection failed, got 421, or was closed.
  bool reusable() const { return reusable_; }
  int messages_sent() const { return messages_sent_; }
  SocketAddress peer_address() const { return socket_.PeerAddress(); }

 private:
  Task<absl::StatusOr<SmtpReply>> ReadReply(Duration timeout);
  Task<absl::StatusOr<SmtpReply>> Command(std::string_view line, Duration timeout);
  Task<absl::Status> Hello();
  Task<absl::Status> MaybeStartTls();
  // Checks the content against what the server supports; returns a locally
  // made permanent reply when it cannot be sent as it is.
  std::optional<SmtpReply> LocalRefusal(const Envelope& e, std::string_view content,
                                        bool eight_bit) const;
  void AppendMail(const Envelope& e, size_t size, bool eight_bit, bool utf8);
  void AppendRcpt(const RecipientSpec& r);
  // `ends`: ScanLineEnds(content), found once by Send.
  Task<absl::StatusOr<TransactionResult>> SendPipelined(const Envelope& e, std::string_view content,
                                                        const LineEnds& ends, bool bdat, bool hold);
  Task<absl::StatusOr<TransactionResult>> SendStepwise(const Envelope& e, std::string_view content,
                                                       const LineEnds& ends);
  Task<absl::StatusOr<SmtpReply>> SendDataBody(std::string_view content, const LineEnds& ends);
  // The held content's final reply, after a write that carried it.
  Task<absl::StatusOr<SmtpReply>> ReadHeldReply();
  Task<absl::Status> Reset();
  absl::Status Fail(absl::Status s);

  Socket socket_;
  std::unique_ptr<Stream> tls_;
  Stream* stream_;
  LineReader reader_;
  Writer writer_;
  ClientOptions options_;
  ReplyParser parser_;
  Capabilities caps_;
  SmtpReply greeting_;
  SmtpReply last_reply_;
  std::string scratch_;  // reused across messages for dot-stuffing / CRLF fixes
  bool reusable_ = true;
  int messages_sent_ = 0;
  // A held content end, not yet written (its parts point into the caller's
  // content or scratch_), and a held message's reply until it is taken.
  std::optional<std::array<std::string_view, 2>> held_end_;
  std::optional<absl::StatusOr<SmtpReply>> held_reply_;
};

}  // namespace salvo::smtp
