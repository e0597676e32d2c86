// DATA and BDAT (RFC 3030 CHUNKING), and the hand-over of a complete
// message to the MessageSink: 250 only once the sink says it is durable.
#include "engine/base/metrics.h"
#include "engine/base/strings.h"
#include "engine/smtp/server/commands.h"
#include "engine/smtp/server/received_header.h"
#include "engine/smtp/server/server_session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp::commands {
namespace {

ContentLimits LimitsOf(const ServerOptions& o) {
  return ContentLimits{.max_size = o.limits.max_message_size,
                       .max_line = o.limits.max_data_line,
                       .bare_newline = o.bare_newline};
}

std::string Received(const ServerSession& s) {
  InboundTls tls = s.tls_info();
  ReceivedInfo info;
  info.helo = s.helo;
  info.client = &s.client();
  info.hostname = s.options().hostname;
  info.esmtp = s.esmtp;
  info.authenticated = s.authenticated();
  info.smtputf8 = s.txn.mail.smtputf8;
  info.tls = &tls;
  info.id = s.txn.id;
  if (s.txn.recipients.size() == 1) info.single_recipient = s.txn.recipients[0].address;
  return ReceivedHeader(info);
}

SmtpReply ReplyForSinkError(const absl::Status& st) {
  std::string detail = Printable(ToStd(st.message()), 200);
  switch (st.code()) {
    case absl::StatusCode::kResourceExhausted:
      return MakeReply(452, "4.3.1", "Insufficient system storage");
    case absl::StatusCode::kInvalidArgument:
      return MakeReply(554, "5.6.0", fmt::format("Message refused: {}", detail));
    case absl::StatusCode::kPermissionDenied:
      return MakeReply(550, "5.7.1", fmt::format("Message refused: {}", detail));
    default:  // Unavailable, DeadlineExceeded, and anything unforeseen
      return MakeReply(451, "4.3.0", "Temporary local problem; please try again later");
  }
}

InboundMessage MakeMessage(ServerSession& s, std::string content) {
  InboundMessage m;
  m.reverse_path = std::move(s.txn.mail.reverse_path);
  m.recipients = std::move(s.txn.recipients);
  m.ret = std::move(s.txn.mail.ret);
  m.envid = std::move(s.txn.mail.envid);
  m.body = s.txn.mail.body;
  m.smtputf8 = s.txn.mail.smtputf8;
  m.declared_size = s.txn.mail.size.value_or(0);
  m.auth_identity = s.auth_user;
  m.client_address = s.client();
  m.helo = s.helo;
  m.esmtp = s.esmtp;
  m.tls = s.tls_info();
  m.listener = s.options().listener_name;
  m.session_id = s.txn.id;
  m.content = std::move(content);
  return m;
}

// salvo_smtp_messages_accepted_total / salvo_smtp_recipients_accepted_total
// {listener}: what the sink took (made durable) and was acknowledged with 250.
void CountAccepted(std::string_view listener, size_t recipients) {
  static const CounterFamily messages = MetricsRegistry::Default().AddCounter(
      "salvo_smtp_messages_accepted_total",
      "Messages accepted over SMTP (durable in the spool, answered 250).", {"listener"});
  static const CounterFamily rcpts = MetricsRegistry::Default().AddCounter(
      "salvo_smtp_recipients_accepted_total", "Recipients of the messages accepted over SMTP.",
      {"listener"});
  messages.WithLabels({listener}).Add();
  rcpts.WithLabels({listener}).Add(recipients);
}

// Hands the message over and answers; the transaction ends either way.
Task<absl::Status> Deliver(ServerSession& s, std::string content) {
  // Replies to pipelined commands before this one need not wait for the
  // sink's commit.
  absl::Status flushed = co_await s.Flush();
  if (!flushed.ok()) co_return flushed;
  InboundMessage m = MakeMessage(s, std::move(content));
  std::string from = m.reverse_path;
  size_t nrcpt = m.recipients.size();
  size_t size = m.content.size();
  std::string id = m.session_id;
  s.ResetTransaction();
  absl::StatusOr<AcceptedMessage> accepted = co_await s.options().sink->Accept(std::move(m));
  if (!accepted.ok()) {
    spdlog::warn("smtpd {}: message from <{}> not accepted: {}", id, Printable(from),
                 accepted.status().ToString());
    s.Reply(ReplyForSinkError(accepted.status()), false);
    co_return absl::OkStatus();
  }
  spdlog::info("smtpd {}: from=<{}> nrcpt={} size={} queued as {}", id, Printable(from), nrcpt,
               size, accepted->queue_id);
  CountAccepted(s.options().listener_name, nrcpt);
  s.Reply(250, "2.0.0", fmt::format("Ok: queued as {}", Printable(accepted->queue_id, 64)));
  co_return absl::OkStatus();
}

// The decoder refused the content (size, bare LF/CR, long line).
Task<absl::Status> Refuse(ServerSession& s, SmtpReply reply) {
  spdlog::info("smtpd {}: message refused: {}", s.txn.id, reply.ToString());
  s.ResetTransaction();
  s.Reply(std::move(reply));
  co_return absl::OkStatus();
}

}  // namespace

std::optional<SmtpReply> CheckData(const ServerSession& s, Command&) {
  switch (s.state) {
    case SessionState::kRcpt:
      return std::nullopt;
    case SessionState::kMail:
      return MakeReply(554, "5.5.1", "Error: no valid recipients");
    case SessionState::kBdat:
      return MakeReply(503, "5.5.1", "Error: DATA not allowed during BDAT transfer");
    default:
      return MakeReply(503, "5.5.1", "Error: need RCPT command");
  }
}

Task<absl::Status> ProceedData(ServerSession& s, Command&) {
  s.Reply(354, "", "End data with <CR><LF>.<CR><LF>");
  std::string content = Received(s);
  ContentDecoder decoder(ContentDecoder::Mode::kDotTerminated, LimitsOf(s.options()), &content);
  absl::Status st = co_await s.ReadDotTerminated(decoder);
  if (!st.ok()) co_return st;
  if (auto refusal = decoder.Verdict()) co_return co_await Refuse(s, std::move(*refusal));
  co_return co_await Deliver(s, std::move(content));
}

std::optional<SmtpReply> CheckBdat(const ServerSession& s, Command&) {
  switch (s.state) {
    case SessionState::kRcpt:
    case SessionState::kBdat:
      return std::nullopt;
    case SessionState::kMail:
      return MakeReply(554, "5.5.1", "Error: no valid recipients");
    default:
      return MakeReply(503, "5.5.1", "Error: need MAIL and RCPT commands");
  }
}

Task<absl::Status> ProceedBdat(ServerSession& s, Command& c) {
  Transaction& t = s.txn;
  if (s.state == SessionState::kRcpt) {
    t.content = Received(s);
    t.bdat = std::make_unique<ContentDecoder>(ContentDecoder::Mode::kCounted, LimitsOf(s.options()),
                                              &t.content);
    s.state = SessionState::kBdat;
  }
  absl::Status st = co_await s.ReadChunk(c.bdat.size, t.bdat.get());
  if (!st.ok()) co_return st;
  ++t.bdat_chunks;
  // RFC 3030 §2: after a failed chunk the transaction is over; later chunks
  // the client pipelined meet 503 (no transaction) and are dropped.
  if (t.bdat->oversize()) co_return co_await Refuse(s, *t.bdat->Verdict());
  if (!c.bdat.last) {
    s.Reply(250, "2.0.0", fmt::format("Ok: {} octets received", c.bdat.size));
    co_return absl::OkStatus();
  }
  t.bdat->Finish();
  if (auto refusal = t.bdat->Verdict()) co_return co_await Refuse(s, std::move(*refusal));
  std::string content = std::move(t.content);
  co_return co_await Deliver(s, std::move(content));
}

}  // namespace salvo::smtp::commands
