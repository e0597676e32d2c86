#include "engine/smtp/server/server_session.h"

#include <atomic>
#include <chrono>

#include "engine/base/status_macros.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/smtp/server/command_table.h"
#include "engine/tls/starttls.h"
#include "engine/tls/tls_stream.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp {
namespace {

constexpr size_t kChunkPiece = 64 * 1024;    // BDAT is read in pieces of this size
constexpr size_t kMaxLingerBytes = 1 << 20;  // read and dropped before closing

std::string NewSessionId() {
  static std::atomic<uint64_t> counter{0};
  uint64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  return fmt::format("{:011X}{:05X}", now & 0xFFFFFFFFFFFull, n & 0xFFFFF);
}

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
  if (writer_.pending() == 0 || broken_) co_return absl::OkStatus();
  absl::Status st = co_await writer_.Flush(After(options_->timeouts.write));
  if (!st.ok()) broken_ = true;
  co_return st;
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
  if (reader_.buffered() > 0) {
    // Plaintext sent after STARTTLS would be read as if it came over TLS
    // (CVE-2011-0411): drop it, as Postfix does.
    spdlog::warn("smtpd {}: {} dropped {} byte(s) pipelined after STARTTLS", session_id_,
                 client_.ToString(), reader_.buffered());
    reader_.Clear();
  }
  auto tls = co_await salvo::StartTls(*options_->tls, &socket_, reader_, writer_, TlsRole::kServer,
                                      "", After(options_->timeouts.tls_handshake));
  if (!tls.ok()) {
    spdlog::info("smtpd {}: STARTTLS with {} failed: {}", session_id_, client_.ToString(),
                 tls.status().ToString());
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

Task<absl::Status> ServerSession::ImplicitTls() {
  CO_ASSIGN_OR_RETURN(tls_,
                      co_await TlsStream::Handshake(*options_->tls, &socket_, TlsRole::kServer, "",
                                                    After(options_->timeouts.tls_handshake)));
  reader_.set_stream(tls_.get());
  writer_.set_stream(tls_.get());
  co_return absl::OkStatus();
}

bool ServerSession::OnReadError(const absl::Status& st) {
  const std::string& host = options_->hostname;
  if (absl::IsResourceExhausted(st)) {
    Reply(500, "5.5.2", "Error: line too long");
    return true;
  }
  if (absl::IsDeadlineExceeded(st)) {
    Reply(421, "4.4.2", fmt::format("{} Error: timeout exceeded", host));
  } else if (absl::IsCancelled(st) || stopping_) {
    Reply(421, "4.3.2", fmt::format("{} Service shutting down", host));
  } else {
    // End of stream, a reset, or a TLS failure: nobody to answer.
    if (!IsEndOfStream(st)) {
      spdlog::debug("smtpd {}: {}: {}", session_id_, client_.ToString(), st.ToString());
    }
    broken_ = true;
  }
  return false;
}

Task<void> ServerSession::Run() {
  Ring* ring = Ring::Current();
  // Socket::Cancel is sticky: it also ends the next operation when the
  // session is between two, and only that one, so the 421 still goes out.
  Ring::StopCallback on_stop(*ring, [this] {
    stopping_ = true;
    socket_.Cancel();
  });
  spdlog::debug("smtpd {}: connection from {} on {}", session_id_, client_.ToString(),
                options_->listener_name);
  if (options_->tls_mode == ServerTlsMode::kImplicit) {
    absl::Status st = co_await ImplicitTls();
    if (!st.ok()) {
      spdlog::info("smtpd {}: TLS handshake with {} failed: {}", session_id_, client_.ToString(),
                   st.ToString());
      co_return;
    }
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
  if (!(co_await Flush()).ok()) co_return;
  Stream* stream = tls_ ? static_cast<Stream*>(tls_.get()) : &socket_;
  Deadline linger = After(options_->timeouts.linger);
  if (!(co_await stream->ShutdownWrite(linger)).ok()) co_return;
  size_t dropped = 0;
  std::string sink;
  while (dropped < kMaxLingerBytes && !stopping_) {
    sink.clear();
    auto n = co_await stream->ReadSome(sink, linger);
    if (!n.ok() || *n == 0) break;
    dropped += *n;
  }
}

}  // namespace salvo::smtp
