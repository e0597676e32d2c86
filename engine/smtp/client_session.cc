#include "engine/smtp/client_session.h"

#include "engine/base/status_macros.h"
#include "engine/smtp/dot_stuffing.h"
#include "fmt/format.h"

namespace salvo::smtp {
namespace {

SmtpReply LocalReply(int code, std::string enhanced, std::string text) {
  SmtpReply r;
  r.code = code;
  r.enhanced = std::move(enhanced);
  r.lines.push_back(std::move(text));
  r.local = true;
  return r;
}

bool IsSafeAddress(std::string_view a) {
  for (char c : a) {
    if (c == '\r' || c == '\n' || c == '\0' || c == '<' || c == '>' || c == ' ') return false;
  }
  return true;
}

absl::Status RemoteRefused(std::string_view stage, const SmtpReply& r) {
  return absl::AbortedError(fmt::format("{} refused: {}", stage, r.ToString()));
}

}  // namespace

const SmtpReply& TransactionResult::ForRecipient(size_t i) const {
  if (mail.code != 0 && !mail.positive()) return mail;
  if (i < rcpt.size() && (rcpt[i].code == 0 || !rcpt[i].positive())) {
    return rcpt[i].code == 0 ? mail : rcpt[i];
  }
  if (data.code != 0) return data;
  return i < rcpt.size() ? rcpt[i] : mail;
}

SmtpClientSession::SmtpClientSession(Socket socket, ClientOptions options)
    : socket_(std::move(socket)),
      stream_(&socket_),
      reader_(&socket_, options.max_reply_line),
      writer_(&socket_),
      options_(std::move(options)) {}

absl::Status SmtpClientSession::Fail(absl::Status s) {
  reusable_ = false;
  return s;
}

Task<absl::StatusOr<SmtpReply>> SmtpClientSession::ReadReply(Duration timeout) {
  Deadline deadline = After(timeout);
  for (;;) {
    auto line = co_await reader_.ReadLine(deadline);
    if (!line.ok()) co_return Fail(line.status());
    auto done = parser_.Feed(*line);
    if (!done.ok()) co_return Fail(done.status());
    if (*done) break;
  }
  last_reply_ = parser_.Take();
  if (last_reply_.code == 421) reusable_ = false;  // the server is closing
  co_return last_reply_;
}

Task<absl::StatusOr<SmtpReply>> SmtpClientSession::Command(std::string_view line,
                                                           Duration timeout) {
  writer_.Append(line);
  writer_.Append("\r\n");
  absl::Status s = co_await writer_.Flush(After(timeout));
  if (!s.ok()) co_return Fail(s);
  co_return co_await ReadReply(timeout);
}

Task<absl::Status> SmtpClientSession::Start() {
  CO_ASSIGN_OR_RETURN(greeting_, co_await ReadReply(options_.timeouts.greeting));
  if (greeting_.code != 220) co_return Fail(RemoteRefused("greeting", greeting_));
  CO_RETURN_IF_ERROR(co_await Hello());
  co_return co_await MaybeStartTls();
}

Task<absl::Status> SmtpClientSession::Hello() {
  CO_ASSIGN_OR_RETURN(SmtpReply r,
                      co_await Command("EHLO " + options_.ehlo_name, options_.timeouts.ehlo));
  if (r.positive()) {
    caps_ = Capabilities::FromEhlo(r);
    co_return absl::OkStatus();
  }
  if (!r.permanent()) co_return Fail(RemoteRefused("EHLO", r));
  // RFC 5321 §3.2: an old server answers EHLO with 5xx; fall back to HELO.
  CO_ASSIGN_OR_RETURN(r, co_await Command("HELO " + options_.ehlo_name, options_.timeouts.ehlo));
  if (!r.positive()) co_return Fail(RemoteRefused("HELO", r));
  caps_ = Capabilities();
  co_return absl::OkStatus();
}

Task<absl::Status> SmtpClientSession::MaybeStartTls() {
  if (options_.tls_policy == TlsPolicy::kOff || tls_ != nullptr) co_return absl::OkStatus();
  bool required = options_.tls_policy == TlsPolicy::kRequired;
  if (!caps_.starttls || !options_.start_tls) {
    if (required) {
      co_return Fail(absl::FailedPreconditionError(
          caps_.starttls ? "TLS required but this client has no TLS context"
                         : "TLS required but the server does not offer STARTTLS"));
    }
    co_return absl::OkStatus();
  }
  CO_ASSIGN_OR_RETURN(SmtpReply r, co_await Command("STARTTLS", options_.timeouts.starttls));
  if (r.code != 220) {
    if (required) co_return Fail(RemoteRefused("STARTTLS", r));
    co_return absl::OkStatus();  // opportunistic: carry on in plain text
  }
  // Anything the server sent after its 220 would be read as if it came over
  // TLS: refuse (the STARTTLS injection class of bugs, CVE-2011-0411).
  if (reader_.buffered() != 0) {
    co_return Fail(absl::DataLossError("server sent data after its STARTTLS reply"));
  }
  auto tls = co_await options_.start_tls(&socket_, After(options_.timeouts.starttls));
  if (!tls.ok()) co_return Fail(tls.status());
  tls_ = std::move(*tls);
  stream_ = tls_.get();
  reader_.set_stream(stream_);
  writer_.set_stream(stream_);
  co_return co_await Hello();  // RFC 3207 §4.2: forget what was learnt before TLS
}

std::optional<SmtpReply> SmtpClientSession::LocalRefusal(const Envelope& e,
                                                         std::string_view content,
                                                         bool eight_bit) const {
  if (!IsSafeAddress(e.reverse_path)) {
    return LocalReply(501, "5.1.7", "bad sender address syntax");
  }
  for (const auto& r : e.recipients) {
    if (r.address.empty() || !IsSafeAddress(r.address)) {
      return LocalReply(501, "5.1.3",
                        fmt::format("bad recipient address syntax: {}", r.address.substr(0, 100)));
    }
  }
  if (caps_.max_size != 0 && content.size() > caps_.max_size) {
    return LocalReply(552, "5.3.4",
                      fmt::format("message size {} exceeds the server's limit of {}",
                                  content.size(), caps_.max_size));
  }
  if (eight_bit && !caps_.eightbitmime) {
    return LocalReply(554, "5.6.3",
                      "message has 8-bit content and the server does not offer 8BITMIME");
  }
  bool utf8 = Has8Bit(e.reverse_path);
  for (const auto& r : e.recipients) utf8 = utf8 || Has8Bit(r.address);
  if (utf8 && !caps_.smtputf8) {
    return LocalReply(553, "5.6.7", "non-ASCII address and the server does not offer SMTPUTF8");
  }
  return std::nullopt;
}

void SmtpClientSession::AppendMail(const Envelope& e, size_t size, bool eight_bit, bool utf8) {
  std::string line = fmt::format("MAIL FROM:<{}>", e.reverse_path);
  if (caps_.size_advertised) line += fmt::format(" SIZE={}", size);
  if (eight_bit && caps_.eightbitmime) line += " BODY=8BITMIME";
  if (utf8) line += " SMTPUTF8";
  if (caps_.dsn && !e.ret.empty()) line += " RET=" + e.ret;
  if (caps_.dsn && !e.envid.empty()) line += " ENVID=" + e.envid;
  line += "\r\n";
  writer_.Append(line);
}

void SmtpClientSession::AppendRcpt(const RecipientSpec& r) {
  writer_.Append("RCPT TO:<");
  writer_.Append(r.address);
  writer_.Append(">");
  if (caps_.dsn && !r.notify.empty()) {
    writer_.Append(" NOTIFY=");
    writer_.Append(r.notify);
  }
  if (caps_.dsn && !r.orcpt.empty()) {
    writer_.Append(" ORCPT=");
    writer_.Append(r.orcpt);
  }
  writer_.Append("\r\n");
}

Task<absl::StatusOr<TransactionResult>> SmtpClientSession::Send(const Envelope& envelope,
                                                                std::string_view content,
                                                                bool hold_end) {
  if (held_reply_) {
    co_return absl::FailedPreconditionError("the held message's reply has not been taken");
  }
  if (!reusable_) co_return absl::FailedPreconditionError("SMTP session is not usable");
  const LineEnds ends = ScanLineEnds(content);
  if (auto refusal = LocalRefusal(envelope, content, ends.eight_bit)) {
    TransactionResult result;
    result.mail = *refusal;
    result.rcpt.assign(envelope.recipients.size(), SmtpReply());
    co_return result;
  }
  absl::StatusOr<TransactionResult> result;
  if (caps_.pipelining) {
    bool bdat = caps_.chunking && options_.use_chunking;
    result = co_await SendPipelined(envelope, content, ends, bdat,
                                    hold_end && !bdat && options_.pipeline_messages);
  } else {
    result = co_await SendStepwise(envelope, content, ends);
  }
  if (!result.ok() || result->held) co_return result;
  bool clean = result->data.code != 0 && result->data.positive();
  if (clean) ++messages_sent_;
  if (!clean && reusable_) {
    absl::Status s = co_await Reset();  // leave the server in a known state
    if (!s.ok()) reusable_ = false;
  }
  co_return result;
}

Task<absl::StatusOr<TransactionResult>> SmtpClientSession::SendPipelined(const Envelope& e,
                                                                         std::string_view content,
                                                                         const LineEnds& ends,
                                                                         bool bdat, bool hold) {
  const auto& t = options_.timeouts;
  bool utf8 = Has8Bit(e.reverse_path);
  for (const auto& r : e.recipients) utf8 = utf8 || Has8Bit(r.address);
  std::string_view body;
  if (bdat) {
    body = BdatPayload(content, ends, scratch_);
    AppendMail(e, body.size(), ends.eight_bit, utf8);
  } else {
    AppendMail(e, content.size(), ends.eight_bit, utf8);
  }
  for (const auto& r : e.recipients) AppendRcpt(r);
  // A held message goes first, its content's end included.
  std::array<std::string_view, 2> held{};
  std::span<const std::string_view> leading;
  if (held_end_) {
    held = *held_end_;
    held_end_.reset();
    leading = held;
  }
  absl::Status s;
  if (bdat) {
    writer_.Append(fmt::format("BDAT {} LAST\r\n", body.size()));
    s = co_await writer_.FlushWith({&body, 1}, After(t.data_block), leading);
  } else {
    writer_.Append("DATA\r\n");
    s = co_await writer_.FlushWith({}, After(leading.empty() ? t.mail : t.data_block), leading);
  }
  if (!s.ok()) {
    if (!leading.empty()) held_reply_ = s;
    co_return Fail(s);
  }

  TransactionResult result;
  if (!leading.empty()) {
    held_reply_ = co_await ReadHeldReply();
    if (!held_reply_->ok()) co_return held_reply_->status();
    if ((*held_reply_)->code == 421) {  // closing: nothing of ours will be answered
      result.mail = **held_reply_;
      result.rcpt.assign(e.recipients.size(), SmtpReply());
      co_return result;
    }
  }
  CO_ASSIGN_OR_RETURN(result.mail, co_await ReadReply(t.mail));
  // A 421 means the server is closing: no further replies will come, and
  // every recipient not yet answered shares the 421.
  if (result.mail.code == 421) co_return result;
  bool any_accepted = false;
  for (size_t i = 0; i < e.recipients.size(); ++i) {
    CO_ASSIGN_OR_RETURN(SmtpReply r, co_await ReadReply(t.rcpt));
    if (r.code == 421) {
      result.rcpt.resize(e.recipients.size(), r);
      co_return result;
    }
    any_accepted = any_accepted || r.positive();
    result.rcpt.push_back(std::move(r));
  }
  CO_ASSIGN_OR_RETURN(SmtpReply data_reply, co_await ReadReply(bdat ? t.data_term : t.data_init));
  if (data_reply.code == 421) {
    for (auto& r : result.rcpt) {
      if (r.positive()) r = data_reply;
    }
    co_return result;
  }
  if (bdat || data_reply.code != 354) {
    if (any_accepted && result.mail.positive()) result.data = std::move(data_reply);
    co_return result;
  }
  if (!any_accepted || !result.mail.positive()) {
    // RFC 2920 §3.1: the server said 354 although nothing was accepted;
    // send an empty message and discard its reply.
    CO_ASSIGN_OR_RETURN(SmtpReply ignored, co_await Command(".", t.data_term));
    (void)ignored;
    co_return result;
  }
  if (hold) {
    held_end_ = DataPayload(content, ends, scratch_);
    result.held = true;
    co_return result;
  }
  CO_ASSIGN_OR_RETURN(result.data, co_await SendDataBody(content, ends));
  co_return result;
}

Task<absl::StatusOr<TransactionResult>> SmtpClientSession::SendStepwise(const Envelope& e,
                                                                        std::string_view content,
                                                                        const LineEnds& ends) {
  const auto& t = options_.timeouts;
  bool utf8 = Has8Bit(e.reverse_path);
  for (const auto& r : e.recipients) utf8 = utf8 || Has8Bit(r.address);
  TransactionResult result;
  AppendMail(e, content.size(), ends.eight_bit, utf8);
  absl::Status s = co_await writer_.Flush(After(t.mail));
  if (!s.ok()) co_return Fail(s);
  CO_ASSIGN_OR_RETURN(result.mail, co_await ReadReply(t.mail));
  if (!result.mail.positive()) {
    result.rcpt.assign(e.recipients.size(), SmtpReply());
    co_return result;
  }
  bool any_accepted = false;
  for (const auto& r : e.recipients) {
    AppendRcpt(r);
    s = co_await writer_.Flush(After(t.rcpt));
    if (!s.ok()) co_return Fail(s);
    CO_ASSIGN_OR_RETURN(SmtpReply reply, co_await ReadReply(t.rcpt));
    any_accepted = any_accepted || reply.positive();
    result.rcpt.push_back(std::move(reply));
  }
  if (!any_accepted) co_return result;
  CO_ASSIGN_OR_RETURN(SmtpReply data_reply, co_await Command("DATA", t.data_init));
  if (data_reply.code != 354) {
    result.data = std::move(data_reply);
    co_return result;
  }
  CO_ASSIGN_OR_RETURN(result.data, co_await SendDataBody(content, ends));
  co_return result;
}

Task<absl::StatusOr<SmtpReply>> SmtpClientSession::SendDataBody(std::string_view content,
                                                                const LineEnds& ends) {
  auto parts = DataPayload(content, ends, scratch_);
  absl::Status s = co_await writer_.FlushWith(parts, After(options_.timeouts.data_block));
  if (!s.ok()) co_return Fail(s);
  co_return co_await ReadReply(options_.timeouts.data_term);
}

Task<absl::StatusOr<SmtpReply>> SmtpClientSession::ReadHeldReply() {
  auto reply = co_await ReadReply(options_.timeouts.data_term);
  if (reply.ok() && reply->positive()) ++messages_sent_;
  co_return reply;
}

Task<absl::StatusOr<SmtpReply>> SmtpClientSession::TakeHeldReply() {
  if (held_reply_) {
    absl::StatusOr<SmtpReply> reply = std::move(*held_reply_);
    held_reply_.reset();
    co_return reply;
  }
  if (!held_end_) co_return absl::FailedPreconditionError("no message is held");
  std::array<std::string_view, 2> parts = *held_end_;
  held_end_.reset();
  if (!reusable_) {
    co_return absl::FailedPreconditionError(
        "SMTP session is not usable; the held message was not sent");
  }
  absl::Status s = co_await writer_.FlushWith(parts, After(options_.timeouts.data_block));
  if (!s.ok()) co_return Fail(s);
  co_return co_await ReadHeldReply();
}

Task<absl::Status> SmtpClientSession::Reset() {
  CO_ASSIGN_OR_RETURN(SmtpReply r, co_await Command("RSET", options_.timeouts.rset));
  if (!r.positive()) co_return Fail(RemoteRefused("RSET", r));
  co_return absl::OkStatus();
}

Task<void> SmtpClientSession::Quit() {
  held_end_.reset();
  held_reply_.reset();
  if (socket_.valid() && reusable_) {
    auto r = co_await Command("QUIT", options_.timeouts.quit);
    (void)r;
  }
  reusable_ = false;
  if (socket_.valid()) {
    auto s = co_await stream_->ShutdownWrite(After(options_.timeouts.quit));
    (void)s;
  }
  tls_.reset();
  socket_.Close();
}

}  // namespace salvo::smtp
