#include "engine/imap/imap_session.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "engine/base/status_macros.h"
#include "engine/base/strings.h"
#include "engine/imap/command_table.h"
#include "engine/loop/ops.h"
#include "engine/tls/session_transport.h"
#include "engine/tls/tls_stream.h"
#include "fmt/format.h"

namespace salvo::imap {
namespace {

constexpr size_t kFlushThreshold = 256 * 1024;

}  // namespace

std::string FlagList(uint8_t flags, bool recent) {
  std::string out = "(";
  auto add = [&](const char* f) {
    if (out.size() > 1) out += ' ';
    out += f;
  };
  if (flags & mailbox::kAnswered) add("\\Answered");
  if (flags & mailbox::kFlagged) add("\\Flagged");
  if (flags & mailbox::kDeleted) add("\\Deleted");
  if (flags & mailbox::kSeen) add("\\Seen");
  if (flags & mailbox::kDraft) add("\\Draft");
  if (recent) add("\\Recent");
  out += ')';
  return out;
}

std::string FormatInternalDate(absl::Time t) {
  return absl::FormatTime("%d-%b-%Y %H:%M:%S +0000", t, absl::UTCTimeZone());
}

std::string CanonicalFolder(std::string_view name) {
  std::string n(name);
  while (n.size() > 1 && n.back() == '/') n.pop_back();
  if (absl::EqualsIgnoreCase(n, "INBOX")) return "INBOX";
  return n;
}

SessionMessage SessionMessage::From(const mailbox::MessageMeta& m) {
  SessionMessage s;
  s.uid = m.uid;
  s.flags = m.flags;
  s.recent = m.recent;
  s.internal_date = absl::ToUnixSeconds(m.internal_date);
  s.size = m.size;
  return s;
}

mailbox::MessageMeta SessionMessage::ToMeta() const {
  mailbox::MessageMeta m;
  m.uid = uid;
  m.flags = flags;
  m.recent = recent;
  m.internal_date = absl::FromUnixSeconds(internal_date);
  m.size = size;
  return m;
}

uint32_t SelectedFolder::Msn(uint32_t uid) const {
  auto it = std::lower_bound(messages.begin(), messages.end(), uid,
                             [](const SessionMessage& m, uint32_t u) { return m.uid < u; });
  if (it == messages.end() || it->uid != uid) return 0;
  return static_cast<uint32_t>(it - messages.begin()) + 1;
}

std::vector<uint32_t> SelectedFolder::Uids() const {
  std::vector<uint32_t> out;
  out.reserve(messages.size());
  for (const auto& m : messages) out.push_back(m.uid);
  return out;
}

ImapSession::ImapSession(Socket socket, std::shared_ptr<const ImapOptions> options)
    : options_(std::move(options)),
      socket_(std::move(socket)),
      reader_(&socket_, options_->limits.max_line),
      writer_(&socket_),
      parser_(options_->limits),
      client_(socket_.PeerAddress()),
      session_id_(NewSessionId()) {}

ImapSession::~ImapSession() { Unselect(); }

bool ImapSession::starttls_offered() const {
  return options_->tls_mode == ImapTlsMode::kNone && options_->tls && !tls_active();
}

bool ImapSession::login_allowed() const {
  const ImapOptions& o = *options_;
  bool plaintext_ok = o.allow_plaintext_auth && client_.IsLoopback();
  return o.credentials && !o.credentials->empty() && (tls_active() || plaintext_ok);
}

std::string ImapSession::Capabilities() const {
  std::string caps = "IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT";
  if (state == SessionState::kNotAuthenticated) {
    if (starttls_offered()) caps += " STARTTLS";
    caps += login_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED";
  } else {
    caps += " UIDPLUS MOVE CHILDREN";
  }
  return caps;
}

void ImapSession::Untagged(std::string_view text) {
  std::string line = "* ";
  line.append(text);
  line += "\r\n";
  writer_.Append(line);
}

void ImapSession::Raw(std::string_view bytes) { writer_.Append(bytes); }

void ImapSession::Tagged(const std::string& tag, std::string_view status, std::string_view text) {
  if (state == SessionState::kSelected) DeliverUpdates(allow_expunge);
  if (status == "BAD") ++bad_commands;
  writer_.Append(fmt::format("{} {} {}\r\n", tag, status, text));
}

Task<absl::Status> ImapSession::Flush() {
  return FlushReplies(writer_, options_->timeouts.write, broken_);
}

Task<absl::Status> ImapSession::FlushIfLarge() {
  if (writer_.pending() < kFlushThreshold) co_return absl::OkStatus();
  absl::Status st = co_await Flush();
  co_return st;
}

Task<absl::StatusOr<std::string_view>> ImapSession::ReadLine(Deadline deadline) {
  if (reader_.buffered_data().find('\n') == std::string_view::npos) {
    CO_RETURN_IF_ERROR(co_await Flush());
  }
  reader_.set_max_line(options_->limits.max_line);
  co_return co_await reader_.ReadLine(deadline);
}

Task<absl::StatusOr<std::string_view>> ImapSession::WaitIdle(Deadline deadline) {
  idle_waiting_ = true;
  woken_ = false;
  absl::StatusOr<std::string_view> line = co_await ReadLine(deadline);
  idle_waiting_ = false;
  if (woken_ && line.ok()) co_await ConsumeStaleCancel();
  co_return line;
}

// A Cancel() meant to wake IDLE that came after its read had completed
// would cancel the next operation (a write): use it up now.
Task<void> ImapSession::ConsumeStaleCancel() {
  if (!socket_.cancel_pending() || stopping_) co_return;
  std::string scratch;
  (void)co_await socket_.ReadSome(scratch, After(std::chrono::milliseconds(1)));
}

void ImapSession::OnEventsPosted() {
  if (idle_waiting_ && !woken_) {
    woken_ = true;
    socket_.Cancel();
  }
}

Task<void> ImapSession::StartTls() {
  const SessionLogName log{"imapd", session_id_, &client_};
  absl::StatusOr<std::unique_ptr<TlsStream>> tls =
      co_await UpgradeToTls(*options_->tls, &socket_, reader_, writer_,
                            After(options_->timeouts.tls_handshake), "STARTTLS", log);
  if (!tls.ok()) {
    broken_ = true;
    closing = true;
    co_return;
  }
  tls_ = std::move(*tls);
  parser_.Reset();
}

absl::Status ImapSession::Select(const std::string& folder, bool read_only) {
  Unselect();
  SelectedFolder sel;
  sel.name = folder;
  sel.read_only = read_only;
  sel.events = std::make_shared<FolderEvents>();
  sel.events->session = this;
  std::shared_ptr<FolderEvents> events = sel.events;
  Ring* ring = ring_;
  // Watch before the view: nothing can fall between the two (applying is
  // idempotent, so seeing a change twice is harmless).
  sel.watch = store().Watch(folder, [events, ring](const mailbox::FolderEvent& e) {
    bool post = false;
    {
      std::lock_guard<std::mutex> lock(events->mu);
      events->events.push_back(e);
      post = !std::exchange(events->posted, true);
    }
    if (post) {
      ring->Post([events] {
        if (events->session != nullptr) events->session->OnEventsPosted();
      });
    }
  });
  absl::StatusOr<mailbox::FolderView> view = store().View(folder, !read_only);
  if (!view.ok()) {
    store().Unwatch(sel.watch);
    sel.events->session = nullptr;
    return view.status();
  }
  sel.uid_validity = view->status.uid_validity;
  sel.uid_next = view->status.uid_next;
  sel.messages.reserve(view->messages.size());
  for (const mailbox::MessageMeta& m : view->messages) {
    sel.messages.push_back(SessionMessage::From(m));
  }
  selected = std::move(sel);
  state = SessionState::kSelected;
  return absl::OkStatus();
}

void ImapSession::Unselect() {
  if (!selected) return;
  store().Unwatch(selected->watch);
  selected->events->session = nullptr;
  selected.reset();
  if (state == SessionState::kSelected) state = SessionState::kAuthenticated;
}

void ImapSession::ApplyFlags(const std::vector<mailbox::FlagUpdate>& updates, FlagReport report,
                             bool with_uid) {
  if (!selected) return;
  for (const mailbox::FlagUpdate& u : updates) {
    uint32_t msn = selected->Msn(u.uid);
    if (msn == 0) continue;
    SessionMessage& m = selected->messages[msn - 1];
    bool changed = m.flags != u.flags;
    m.flags = u.flags;
    if (report == FlagReport::kAll || (report == FlagReport::kChanged && changed)) {
      Untagged(with_uid ? fmt::format("{} FETCH (FLAGS {} UID {})", msn,
                                      FlagList(m.flags, m.recent), m.uid)
                        : fmt::format("{} FETCH (FLAGS {})", msn, FlagList(m.flags, m.recent)));
    }
  }
}

void ImapSession::ApplyExpunge(const std::vector<uint32_t>& uids) {
  if (!selected) return;
  for (uint32_t uid : uids) {
    uint32_t msn = selected->Msn(uid);
    if (msn == 0) continue;
    selected->messages.erase(selected->messages.begin() + (msn - 1));
    Untagged(fmt::format("{} EXPUNGE", msn));
  }
}

void ImapSession::ApplyEvent(const mailbox::FolderEvent& e, bool* exists_changed) {
  switch (e.kind) {
    case mailbox::FolderEvent::Kind::kAppended:
      for (const mailbox::MessageMeta& m : e.appended) {
        uint32_t last = selected->messages.empty() ? 0 : selected->messages.back().uid;
        if (m.uid <= last) continue;
        SessionMessage copy = SessionMessage::From(m);
        copy.recent = !selected->read_only;
        selected->messages.push_back(copy);
        selected->uid_next = std::max(selected->uid_next, m.uid + 1);
        *exists_changed = true;
      }
      break;
    case mailbox::FolderEvent::Kind::kFlags:
      ApplyFlags(e.flags, FlagReport::kChanged, false);
      break;
    case mailbox::FolderEvent::Kind::kExpunged:
      ApplyExpunge(e.expunged);
      break;
    case mailbox::FolderEvent::Kind::kDeleted: {
      ApplyExpunge(selected->Uids());
      break;
    }
  }
}

void ImapSession::DeliverUpdates(bool allow_expunge_now) {
  if (!selected) return;
  {
    std::lock_guard<std::mutex> lock(selected->events->mu);
    for (auto& e : selected->events->events) selected->held.push_back(std::move(e));
    selected->events->events.clear();
    selected->events->posted = false;
  }
  bool exists_changed = false;
  size_t done = 0;
  for (; done < selected->held.size(); ++done) {
    const mailbox::FolderEvent& e = selected->held[done];
    bool removes = e.kind == mailbox::FolderEvent::Kind::kExpunged ||
                   e.kind == mailbox::FolderEvent::Kind::kDeleted;
    if (removes && !allow_expunge_now) {
      // Hold it, unless none of its UIDs are still in the map.
      bool any = e.kind == mailbox::FolderEvent::Kind::kDeleted;
      for (uint32_t uid : e.expunged) any = any || selected->Msn(uid) != 0;
      if (any) break;
      continue;
    }
    ApplyEvent(e, &exists_changed);
  }
  selected->held.erase(selected->held.begin(), selected->held.begin() + done);
  if (exists_changed) {
    Untagged(fmt::format("{} EXISTS", selected->messages.size()));
    size_t recent = std::count_if(selected->messages.begin(), selected->messages.end(),
                                  [](const SessionMessage& m) { return m.recent; });
    Untagged(fmt::format("{} RECENT", recent));
  }
}

Task<absl::StatusOr<ImapCommand>> ImapSession::ReadCommand(bool* io_error) {
  for (;;) {
    if (reader_.buffered() > 0) {
      ParseStep step = parser_.Feed(reader_.buffered_data());
      auto used = co_await reader_.ReadExactly(step.consumed, Never());  // already buffered
      if (!used.ok()) {
        *io_error = true;
        co_return used.status();
      }
      switch (step.event) {
        case ParseEvent::kCommand:
          co_return parser_.Take();
        case ParseEvent::kContinue:
          writer_.Append("+ Ready for literal data\r\n");
          continue;
        case ParseEvent::kError:
          co_return absl::InvalidArgumentError(parser_.error().message);
        case ParseEvent::kNeedMore:
          break;
      }
    }
    absl::Status flushed = co_await Flush();
    if (!flushed.ok()) {
      *io_error = true;
      co_return flushed;
    }
    Duration timeout = options_->timeouts.idle;
    auto first = co_await reader_.ReadExactly(1, After(timeout));
    if (!first.ok()) {
      *io_error = true;
      co_return first.status();
    }
    ParseStep step = parser_.Feed(*first);
    if (step.event == ParseEvent::kCommand) co_return parser_.Take();
    if (step.event == ParseEvent::kContinue) writer_.Append("+ Ready for literal data\r\n");
    if (step.event == ParseEvent::kError) {
      co_return absl::InvalidArgumentError(parser_.error().message);
    }
  }
}

Task<absl::Status> ImapSession::Dispatch(ImapCommand& c) {
  const CommandSpec* spec = FindCommand(c.name);
  if (spec == nullptr) {
    Tagged(c.tag, "BAD", "Unknown command");
    co_return absl::OkStatus();
  }
  if (!StateAllows(*spec, state)) {
    Tagged(c.tag, "BAD",
           state == SessionState::kNotAuthenticated ? "Command requires authentication"
                                                    : "Command not valid in this state");
    co_return absl::OkStatus();
  }
  allow_expunge = spec->allows_expunge;
  absl::Status st = co_await spec->handler(*this, c);
  allow_expunge = true;
  co_return st;
}

Task<void> ImapSession::Run() {
  ring_ = Ring::Current();
  CancelOnRingStop on_stop(*ring_, socket_, stopping_);  // a read ends; the BYE goes out
  if (options_->tls_mode == ImapTlsMode::kImplicit) {
    const SessionLogName log{"imapd", session_id_, &client_};
    absl::StatusOr<std::unique_ptr<TlsStream>> tls = co_await AcceptImplicitTls(
        *options_->tls, &socket_, reader_, writer_, After(options_->timeouts.tls_handshake), log);
    if (!tls.ok()) co_return;
    tls_ = std::move(*tls);
  }
  Untagged(fmt::format("OK [CAPABILITY {}] {} Salvo IMAP4rev1 ready", Capabilities(),
                       options_->hostname));
  while (!closing) {
    if (stopping_) {
      Untagged("BYE Server shutting down");
      break;
    }
    bool io_error = false;
    absl::StatusOr<ImapCommand> command = co_await ReadCommand(&io_error);
    if (!command.ok()) {
      if (io_error) {
        if (absl::IsDeadlineExceeded(command.status())) {
          Untagged("BYE Autologout; idle for too long");
        } else if (absl::IsCancelled(command.status()) && stopping_) {
          Untagged("BYE Server shutting down");
        } else if (absl::IsCancelled(command.status())) {
          continue;  // a stale wake-up
        } else {
          broken_ = true;
        }
        break;
      }
      const ParseError& err = parser_.error();
      Tagged(err.tag, "BAD", err.too_big ? fmt::format("[TOOBIG] {}", err.message) : err.message);
      if (err.fatal) {
        Untagged("BYE Cannot recover from this input");
        break;
      }
    } else {
      absl::Status st = co_await Dispatch(*command);
      if (!st.ok()) {
        if (absl::IsDeadlineExceeded(st)) Untagged("BYE Autologout; idle for too long");
        if (absl::IsCancelled(st) && stopping_) Untagged("BYE Server shutting down");
        if (!absl::IsDeadlineExceeded(st) && !absl::IsCancelled(st)) broken_ = true;
        break;
      }
    }
    if (bad_commands >= options_->limits.max_bad_commands && !closing) {
      Untagged("BYE Too many invalid commands");
      break;
    }
  }
  Unselect();
  co_await Close();
}

Task<void> ImapSession::Refuse(std::string_view why) {
  if (options_->tls_mode == ImapTlsMode::kImplicit) co_return;
  Untagged(fmt::format("BYE {}", why));
  co_await Close();
}

Task<void> ImapSession::Close() {
  if (broken_) co_return;
  absl::Status flushed = co_await Flush();
  if (!flushed.ok()) co_return;
  Stream* stream = tls_ ? static_cast<Stream*>(tls_.get()) : &socket_;
  co_await LingeringClose(*stream, After(options_->timeouts.linger), stopping_);
}

}  // namespace salvo::imap
