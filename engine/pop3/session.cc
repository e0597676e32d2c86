#include "engine/pop3/session.h"

#include "engine/base/status_macros.h"
#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/pop3/command_table.h"
#include "engine/pop3/multiline.h"
#include "engine/tls/session_transport.h"
#include "engine/tls/tls_stream.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::pop3 {
std::string_view SessionStateName(SessionState s) {
  switch (s) {
    case SessionState::kAuthorization:
      return "authorization";
    case SessionState::kTransaction:
      return "transaction";
    case SessionState::kUpdate:
      return "update";
  }
  return "?";
}

Pop3Session::Pop3Session(Socket socket, std::shared_ptr<const Pop3Options> options)
    : options_(std::move(options)),
      socket_(std::move(socket)),
      reader_(&socket_, options_->limits.max_command_line),
      writer_(&socket_),
      client_(socket_.PeerAddress()),
      session_id_(NewSessionId()) {}

Pop3Session::~Pop3Session() = default;

bool Pop3Session::auth_offered() const {
  const Pop3Options& o = *options_;
  // Plaintext logins only ever for a loopback client, whatever the options say.
  bool plaintext_ok = o.allow_plaintext_auth && client_.IsLoopback();
  return o.credentials && !o.credentials->empty() && (tls_active() || plaintext_ok);
}

bool Pop3Session::stls_offered() const {
  return options_->tls_mode == Pop3TlsMode::kStls && options_->tls && !tls_active() &&
         state == SessionState::kAuthorization;
}

void Pop3Session::Ok(std::string_view text) {
  writer_.Append(text.empty() ? "+OK" : fmt::format("+OK {}", text));
  writer_.Append("\r\n");
}

void Pop3Session::Err(std::string_view text, bool counts_as_error) {
  if (counts_as_error) ++errors;
  writer_.Append(fmt::format("-ERR {}\r\n", text));
}

void Pop3Session::Line(std::string_view line) {
  writer_.Append(line);
  writer_.Append("\r\n");
}

Task<absl::Status> Pop3Session::Flush() {
  return FlushReplies(writer_, options_->timeouts.write, broken_);
}

Task<absl::StatusOr<std::string_view>> Pop3Session::ReadLine(size_t max_line) {
  // Flush before waiting: the client may be waiting for these replies.
  if (reader_.buffered_data().find('\n') == std::string_view::npos) {
    CO_RETURN_IF_ERROR(co_await Flush());
  }
  reader_.set_max_line(max_line);
  co_return co_await reader_.ReadLine(After(options_->timeouts.idle));
}

Task<absl::Status> Pop3Session::SendContent(std::string_view status, std::string_view content) {
  Ok(status);
  const size_t chunk = std::max<size_t>(options_->limits.write_chunk, 512);
  MultilineEncoder encoder;
  std::string piece;
  for (size_t pos = 0; pos < content.size(); pos += chunk) {
    piece.clear();
    encoder.Encode(content.substr(pos, chunk), piece);
    writer_.Append(piece);
    if (writer_.pending() >= chunk) CO_RETURN_IF_ERROR(co_await Flush());
  }
  piece.clear();
  encoder.Finish(piece);
  writer_.Append(piece);
  co_return absl::OkStatus();
}

Task<void> Pop3Session::StartTls() {
  const SessionLogName log{"pop3d", session_id_, &client_};
  absl::StatusOr<std::unique_ptr<TlsStream>> tls =
      co_await UpgradeToTls(*options_->tls, &socket_, reader_, writer_,
                            After(options_->timeouts.tls_handshake), "STLS", log);
  if (!tls.ok()) {
    broken_ = true;  // the peer is mid-handshake: nothing readable can be sent
    closing = true;
    co_return;
  }
  tls_ = std::move(*tls);
  user.clear();  // RFC 2595 §4: forget what was said before TLS
}

void Pop3Session::Login(const std::string& name, std::string_view mechanism) {
  const Pop3Options& o = *options_;
  std::shared_ptr<MaildropLocks> locks = o.locks ? o.locks : MaildropLocks::Global();
  std::optional<MaildropLocks::Lock> lock = MaildropLocks::TryLock(locks, o.folder, name);
  if (!lock) {
    spdlog::info("pop3d {}: {} login of \"{}\" refused: maildrop in use", session_id_,
                 client_.HostString(), Printable(name, 64));
    Err("[IN-USE] Maildrop is locked by another session", false);
    return;
  }
  absl::StatusOr<mailbox::FolderView> view =
      o.store ? o.store->View(o.folder, false)
              : absl::StatusOr<mailbox::FolderView>(absl::FailedPreconditionError("no store"));
  if (!view.ok()) {
    spdlog::warn("pop3d {}: viewing folder \"{}\" failed: {}", session_id_, o.folder,
                 view.status().ToString());
    Err("[SYS/TEMP] Maildrop unavailable; try again later", false);
    return;
  }
  lock_.emplace(std::move(*lock));
  maildrop = Maildrop(*view);
  login_user = name;
  user.clear();
  state = SessionState::kTransaction;
  spdlog::info("pop3d {}: {} logged in as \"{}\" ({}), {} message(s)", session_id_,
               client_.HostString(), Printable(name, 64), mechanism, maildrop.count());
  Ok(fmt::format("Logged in; {} message(s) ({} octets)", maildrop.count(), maildrop.octets()));
}

bool Pop3Session::LoginBlocked() {
  const Pop3Options& o = *options_;
  if (!o.auth_failures || !o.auth_failures->Blocked(client_)) return false;
  spdlog::warn("pop3d {}: login from {} refused: too many recent failures", session_id_,
               client_.HostString());
  Err("[SYS/TEMP] Too many authentication failures; try again later", false);
  closing = true;
  return true;
}

Task<void> Pop3Session::LoginFailed(std::string_view name, std::string_view mechanism) {
  const Pop3Options& o = *options_;
  ++auth_failures;
  if (o.auth_failures) o.auth_failures->RecordFailure(client_);
  spdlog::info("pop3d {}: {} login failed for \"{}\" from {} ({} in this session)", session_id_,
               mechanism, Printable(name, 64), client_.HostString(), auth_failures);
  // A growing pause makes guessing slow without holding any thread.
  Duration delay =
      std::min(o.limits.auth_failure_delay * auth_failures, o.limits.max_auth_failure_delay);
  if (delay > Duration::zero()) co_await SleepFor(delay);
  if (auth_failures >= o.limits.max_auth_failures_per_session) {
    Err("[AUTH] Too many authentication failures; closing", false);
    closing = true;
    co_return;
  }
  Err("[AUTH] Authentication failed", false);
}

// RFC 1939 §6: apply the marks, answer, close. The reply tells whether the
// changes are durable.
Task<void> Pop3Session::Update() {
  state = SessionState::kUpdate;
  closing = true;
  const Pop3Options& o = *options_;
  std::vector<uint32_t> deleted = maildrop.DeletedUids();
  std::vector<uint32_t> retrieved = maildrop.RetrievedUids();
  absl::Status st;
  if (!retrieved.empty()) {
    auto op =
        o.store->StoreFlags(o.folder, std::move(retrieved), mailbox::FlagOp::kAdd, mailbox::kSeen);
    absl::StatusOr<std::vector<mailbox::FlagUpdate>> r = co_await op;
    st.Update(r.status());
  }
  if (!deleted.empty() && st.ok()) {
    auto op = o.store->StoreFlags(o.folder, deleted, mailbox::FlagOp::kAdd,
                                  mailbox::kSeen | mailbox::kDeleted);
    absl::StatusOr<std::vector<mailbox::FlagUpdate>> r = co_await op;
    st.Update(r.status());
    if (st.ok() && !o.keep_messages) {
      auto expunge = o.store->Expunge(o.folder, std::optional<std::vector<uint32_t>>(deleted));
      absl::StatusOr<std::vector<uint32_t>> gone = co_await expunge;
      st.Update(gone.status());
    }
  }
  uint32_t left = maildrop.count();
  if (!st.ok()) {
    spdlog::warn("pop3d {}: UPDATE of \"{}\" for \"{}\" failed: {}", session_id_, o.folder,
                 Printable(login_user, 64), st.ToString());
    Err("[SYS/TEMP] Some deleted messages not removed", false);
    co_return;
  }
  spdlog::info("pop3d {}: \"{}\" quit, {} message(s) {}", session_id_, Printable(login_user, 64),
               deleted.size(), o.keep_messages ? "marked deleted (kept)" : "deleted");
  Ok(fmt::format("{} POP3 server signing off ({} message(s) left)", o.hostname, left));
}

bool Pop3Session::OnReadError(const absl::Status& st) {
  const SessionLogName log{"pop3d", session_id_, &client_};
  switch (ClassifyReadFailure(st, stopping_, log)) {
    case ReadFailure::kLineTooLong:
      Err("Line too long");
      return true;
    case ReadFailure::kTimeout:
      Err("Disconnected for inactivity", false);
      break;
    case ReadFailure::kShutdown:
      Err("[SYS/TEMP] Server shutting down", false);
      break;
    case ReadFailure::kBroken:
      broken_ = true;
      break;
  }
  return false;
}

Task<void> Pop3Session::Run() {
  CancelOnRingStop on_stop(*Ring::Current(), socket_, stopping_);  // a read ends; the -ERR goes out
  spdlog::debug("pop3d {}: connection from {} on {}", session_id_, client_.ToString(),
                options_->listener_name);
  if (options_->tls_mode == Pop3TlsMode::kImplicit) {
    const SessionLogName log{"pop3d", session_id_, &client_};
    absl::StatusOr<std::unique_ptr<TlsStream>> tls = co_await AcceptImplicitTls(
        *options_->tls, &socket_, reader_, writer_, After(options_->timeouts.tls_handshake), log);
    if (!tls.ok()) co_return;
    tls_ = std::move(*tls);
  }
  if (options_->apop && !options_->apop->empty())
    apop_timestamp_ = ApopTimestamp(options_->hostname);
  Ok(apop_timestamp_.empty() ? "POP3 server ready"
                             : fmt::format("POP3 server ready {}", apop_timestamp_));
  while (!closing) {
    if (stopping_) {
      Err("[SYS/TEMP] Server shutting down", false);
      break;
    }
    absl::StatusOr<std::string_view> line = co_await ReadLine(options_->limits.max_command_line);
    absl::Status st = line.status();
    if (st.ok()) {
      std::string command(*line);  // the reader's buffer moves on
      st = co_await Dispatch(*this, command);
    }
    if (!st.ok() && !OnReadError(st)) break;
    if (errors >= options_->limits.max_errors && !closing) {
      Err("Too many errors; closing", false);
      break;
    }
  }
  lock_.reset();  // before the linger: the maildrop is free once the session is over
  co_await Close();
}

Task<void> Pop3Session::Refuse(std::string_view why) {
  // On an implicit-TLS port a plaintext reply would be garbage to the
  // client, and a handshake is what a flood should not cost: just close.
  if (options_->tls_mode == Pop3TlsMode::kImplicit) co_return;
  Err(fmt::format("[SYS/TEMP] {}", why), false);
  co_await Close();
}

// Sends what is queued, ends our direction, then reads (and drops) what the
// client still sends for a moment, so the replies are not lost to a reset.
Task<void> Pop3Session::Close() {
  if (broken_) co_return;
  absl::Status flushed = co_await Flush();
  if (!flushed.ok()) co_return;
  Stream* stream = tls_ ? static_cast<Stream*>(tls_.get()) : &socket_;
  co_await LingeringClose(*stream, After(options_->timeouts.linger), stopping_);
}

}  // namespace salvo::pop3
