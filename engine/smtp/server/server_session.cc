#include "engine/smtp/server/server_session.h"

#include "engine/base/status_macros.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/smtp/server/command_table.h"
#include "engine/tls/session_transport.h"
#include "engine/tls/tls_stream.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp {
namespace {

constexpr size_t kChunkPiece = 64 * 1024;  // BDAT is read in pieces of this size

}  // namespace

std::string_view SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kConnected:
      return "connected";
    case SessionState::kGreeted:
      return "greeted";
    case SessionState::kMail:
      return "mail";
    case SessionState::kRcpt:
      return "rcpt";
    case SessionState::kBdat:
      return "bdat";
  }
  return "?";
}

ServerSession::ServerSession(Socket socket, std::shared_ptr<const ServerOptions> options)
    : options_(std::move(options)),
      socket_(std::move(socket)),
      reader_(&socket_, options_->limits.max_command_line),
      writer_(&socket_),
      client_(socket_.PeerAddress()),
      session_id_(NewSessionId()) {}

ServerSession::~ServerSession() = default;

InboundTls ServerSession::tls_info() const {
  InboundTls t;
  if (tls_ == nullptr) return t;
  t.active = true;
  t.protocol = std::string(tls_->protocol());
  t.cipher = std::string(tls_->cipher());
  t.bits = tls_->cipher_bits();
  t.sni = tls_->server_name();
  return t;
}

bool ServerSession::auth_offered() const {
  const ServerOptions& o = *options_;
  // Plaintext AUTH only ever for a loopback client, whatever the options say.
  bool plaintext_ok = o.allow_plaintext_auth && client_.IsLoopback();
  return o.credentials && !o.credentials->empty() && (tls_active() || plaintext_ok);
}

void ServerSession::Reply(SmtpReply reply, bool counts_as_error) {
  if (reply.code >= 500 && counts_as_error) ++errors;
  std::string wire;
  AppendWireReply(reply, wire);
  writer_.Append(wire);
}

Task<absl::Status> ServerSession::Flush() {
  return FlushReplies(writer_, options_->timeouts.write, broken_);
}

void ServerSession::ResetTransaction() {
  txn = Transaction();
  if (state != SessionState::kConnected) state = SessionState::kGreeted;
}

void ServerSession::BeginTransaction(MailCommand mail) {
  txn = Transaction();
  txn.mail = std::move(mail);
  txn.id = fmt::format("{}.{}", session_id_, ++transactions_);
  state = SessionState::kMail;
}

Task<absl::StatusOr<std::string_view>> ServerSession::ReadLine(Duration timeout, size_t max_line) {
  // Flush before waiting: the client may be waiting for these replies.
  if (reader_.buffered_data().find('\n') == std::string_view::npos) {
    CO_RETURN_IF_ERROR(co_await Flush());
  }
  reader_.set_max_line(max_line);
  co_return co_await reader_.ReadLine(After(timeout));
}

Task<absl::StatusOr<std::string_view>> ServerSession::ReadCommandLine() {
  return ReadLine(options_->timeouts.command, options_->limits.max_command_line);
}

Task<absl::Status> ServerSession::ReadDotTerminated(ContentDecoder& decoder) {
  while (!decoder.done()) {
    Deadline deadline = After(options_->timeouts.data);
    if (reader_.buffered() == 0) {
      CO_RETURN_IF_ERROR(co_await Flush());
      // Waits for the next bytes; the rest of what arrived stays buffered.
      CO_ASSIGN_OR_RETURN(std::string_view first, co_await reader_.ReadExactly(1, deadline));
      decoder.Feed(first);
      continue;
    }
    size_t used = decoder.Feed(reader_.buffered_data());
    CO_RETURN_IF_ERROR((co_await reader_.ReadExactly(used, deadline)).status());
  }
  co_return absl::OkStatus();
}

Task<absl::Status> ServerSession::ReadChunk(uint64_t size, ContentDecoder* decoder) {
  while (size > 0) {
    size_t piece = static_cast<size_t>(std::min<uint64_t>(size, kChunkPiece));
    if (reader_.buffered() < piece) CO_RETURN_IF_ERROR(co_await Flush());
    CO_ASSIGN_OR_RETURN(std::string_view bytes,
                        co_await reader_.ReadExactly(piece, After(options_->timeouts.data)));
    if (decoder != nullptr) decoder->Feed(bytes);
    size -= piece;
  }
  co_return absl::OkStatus();
}

Task<void> ServerSession::StartTls() {
  const SessionLogName log{"smtpd", session_id_, &client_};
  absl::StatusOr<std::unique_ptr<TlsStream>> tls =
      co_await UpgradeToTls(*options_->tls, &socket_, reader_, writer_,
                            After(options_->timeouts.tls_handshake), "STARTTLS", log);
  if (!tls.ok()) {
    broken_ = true;  // the peer is mid-handshake: nothing readable can be sent
    closing = true;
    co_return;
  }
  tls_ = std::move(*tls);
  // RFC 3207 §4.2: forget everything learnt before TLS.
  txn = Transaction();
  state = SessionState::kConnected;
  helo.clear();
  esmtp = false;
  auth_user.clear();
}

bool ServerSession::OnReadError(const absl::Status& st) {
  const std::string& host = options_->hostname;
  const SessionLogName log{"smtpd", session_id_, &client_};
  switch (ClassifyReadFailure(st, stopping_, log)) {
    case ReadFailure::kLineTooLong:
      Reply(500, "5.5.2", "Error: line too long");
      return true;
    case ReadFailure::kTimeout:
      Reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", host));
      break;
    case ReadFailure::kShutdown:
      Reply(421, "4.3.2", fmt::format("{} Service shutting down", host));
      break;
    case ReadFailure::kBroken:
      broken_ = true;
      break;
  }
  return false;
}

Task<void> ServerSession::Run() {
  CancelOnRingStop on_stop(*Ring::Current(), socket_, stopping_);  // a read ends; the 421 goes out
  spdlog::debug("smtpd {}: connection from {} on {}", session_id_, client_.ToString(),
                options_->listener_name);
  if (options_->tls_mode == ServerTlsMode::kImplicit) {
    const SessionLogName log{"smtpd", session_id_, &client_};
    absl::StatusOr<std::unique_ptr<TlsStream>> tls = co_await AcceptImplicitTls(
        *options_->tls, &socket_, reader_, writer_, After(options_->timeouts.tls_handshake), log);
    if (!tls.ok()) co_return;
    tls_ = std::move(*tls);
  }
  Reply(220, "", fmt::format("{} ESMTP Salvo", options_->hostname));
  while (!closing) {
    if (stopping_) {
      Reply(421, "4.3.2", fmt::format("{} Service shutting down", options_->hostname));
      break;
    }
    absl::StatusOr<std::string_view> line = co_await ReadCommandLine();
    if (!line.ok()) {
      if (OnReadError(line.status())) continue;
      break;
    }
    std::string command(*line);  // the reader's buffer moves on
    absl::Status st = co_await Dispatch(*this, command);
    if (!st.ok()) {
      if (!OnReadError(st)) break;
      continue;
    }
    if (errors >= options_->limits.max_errors && !closing) {
      Reply(421, "4.7.0", fmt::format("{} Error: too many errors", options_->hostname));
      break;
    }
  }
  co_await Close();
}

Task<void> ServerSession::Refuse(std::string_view why) {
  // On an implicit-TLS port a plaintext reply would be garbage to the
  // client, and a handshake is what a flood should not cost: just close.
  if (options_->tls_mode == ServerTlsMode::kImplicit) co_return;
  Reply(421, "4.7.0", fmt::format("{} Error: {}", options_->hostname, why));
  co_await Close();
}

// Sends what is queued, ends our direction, then reads (and drops) what the
// client still sends for a moment, so the replies are not lost to a reset.
Task<void> ServerSession::Close() {
  if (broken_) co_return;
  absl::Status flushed = co_await Flush();
  if (!flushed.ok()) co_return;
  Stream* stream = tls_ ? static_cast<Stream*>(tls_.get()) : &socket_;
  co_await LingeringClose(*stream, After(options_->timeouts.linger), stopping_);
}

}  // namespace salvo::smtp
