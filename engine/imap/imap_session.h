// ImapSession: one IMAP4rev1 connection (RFC 3501 server side), as a
// coroutine on the shard's ring.
//
//   ImapSession session(std::move(socket), options);
//   co_await session.Run();   // greeting ... LOGOUT / error / timeout
//
// Structure (after Dovecot's imap/ and OpenSMTPD): bytes go through the
// I/O-free CommandParser; a command is looked up in the command table
// (command_table.h), whose entry names the states it is valid in and its
// handler (one file per command group, cmd_*.cc). The state is the explicit
// SessionState enum; the selected folder's sequence-number map is
// `selected->messages` (index i is MSN i + 1).
//
// Invariants:
//  - Before authentication no command reaches the MailStore (the table's
//    state check runs before any handler).
//  - Untagged updates from other sessions (the store's Watch pushes, posted
//    to this ring) are applied to the sequence map and sent only at the end
//    of a command, before its tagged reply, or at once during IDLE; EXPUNGE
//    is held back during FETCH, STORE and SEARCH (RFC 3501 §7.4.1).
//    Applying is idempotent, so this session's own changes (which it
//    applies itself when the store answers) are not reported twice.
//  - Responses are batched and sent when the session would wait for input,
//    so pipelined commands get one write per batch.
//  - Every read has a deadline (30 min idle, RFC 3501 §5.4); every input is
//    bounded (ImapLimits); BAD replies count towards max_bad_commands.
//  - STARTTLS: plaintext pipelined after it is dropped (CVE-2011-0411).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/imap/command_parser.h"
#include "engine/imap/imap_options.h"
#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/mailbox/mail_store.h"
#include "engine/net/line_reader.h"
#include "engine/net/socket.h"
#include "engine/net/writer.h"

namespace salvo {
class TlsStream;
}

namespace salvo::imap {

enum class SessionState { kNotAuthenticated, kAuthenticated, kSelected, kLogout };

// Store pushes for the selected folder, handed from a store thread to the
// ring (shared with the watcher so it outlives the session safely).
struct FolderEvents {
  std::mutex mu;
  std::vector<mailbox::FolderEvent> events;  // guarded by mu
  bool posted = false;                       // guarded by mu
  // Ring-thread only: the session to wake, null once it has gone.
  class ImapSession* session = nullptr;
};

// One message of the selected folder as a session keeps it: 24 bytes (a
// MessageMeta with its attributes is ~170), so an IDLE session on a large
// folder stays small. SEARCH by category/campaign takes the attributes
// from a fresh View when it needs them.
struct SessionMessage {
  uint32_t uid = 0;
  uint8_t flags = 0;
  bool recent = false;
  int64_t internal_date = 0;  // Unix seconds (INTERNALDATE has seconds)
  uint64_t size = 0;

  static SessionMessage From(const mailbox::MessageMeta& m);
  mailbox::MessageMeta ToMeta() const;  // without attributes
};

struct SelectedFolder {
  std::string name;
  bool read_only = false;
  uint32_t uid_validity = 0;
  uint32_t uid_next = 0;
  std::vector<SessionMessage> messages;  // index i: MSN i + 1
  uint64_t watch = 0;
  std::shared_ptr<FolderEvents> events;
  std::vector<mailbox::FolderEvent> held;  // not yet applied (EXPUNGE held back)

  // MSN of `uid` (1-based), or 0.
  uint32_t Msn(uint32_t uid) const;
  std::vector<uint32_t> Uids() const;
};

class ImapSession {
 public:
  ImapSession(Socket socket, std::shared_ptr<const ImapOptions> options);
  ~ImapSession();
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  Task<void> Run();
  // Turns the client away at connect ("* BYE ...", then close).
  Task<void> Refuse(std::string_view why);

  // ---- For the command handlers (cmd_*.cc) ----
  const ImapOptions& options() const { return *options_; }
  mailbox::MailStore& store() { return *options_->store; }
  const SocketAddress& client() const { return client_; }
  const std::string& session_id() const { return session_id_; }
  bool tls_active() const { return tls_ != nullptr; }
  bool starttls_offered() const;
  // LOGIN / AUTHENTICATE allowed now (TLS, or plaintext on loopback when
  // allowed, and users configured).
  bool login_allowed() const;
  std::string Capabilities() const;

  // "* <text>\r\n"
  void Untagged(std::string_view text);
  // Raw response bytes (FETCH with literals); must end with CRLF.
  void Raw(std::string_view bytes);
  // Sends pending updates, then "<tag> <status> <text>"; BAD counts as an error.
  void Tagged(const std::string& tag, std::string_view status, std::string_view text);
  Task<absl::Status> Flush();
  // Flushes when much output is pending (long FETCH / SEARCH answers).
  Task<absl::Status> FlushIfLarge();
  // A raw line (SASL response, IDLE's DONE); flushes first.
  Task<absl::StatusOr<std::string_view>> ReadLine(Deadline deadline);
  Task<void> StartTls();

  // Opens `folder` (SELECT / EXAMINE): watches it, takes the view.
  absl::Status Select(const std::string& folder, bool read_only);
  void Unselect();
  // Applies pushed changes; sends EXISTS / FETCH FLAGS / EXPUNGE.
  void DeliverUpdates(bool allow_expunge);
  // Applies flag changes to the map and answers FETCH FLAGS for none of
  // them (this session's own silent changes), the changed ones (pushes from
  // other sessions) or all (STORE without .SILENT).
  enum class FlagReport { kNone, kChanged, kAll };
  void ApplyFlags(const std::vector<mailbox::FlagUpdate>& updates, FlagReport report,
                  bool with_uid);
  // Removes expunged UIDs from the map, answering "* n EXPUNGE" for each.
  void ApplyExpunge(const std::vector<uint32_t>& uids);
  // IDLE's wait: a line, or Cancelled when a push arrived (then call again).
  Task<absl::StatusOr<std::string_view>> WaitIdle(Deadline deadline);
  // Called on the ring when the store posted events.
  void OnEventsPosted();

  SessionState state = SessionState::kNotAuthenticated;
  std::optional<SelectedFolder> selected;
  std::string user;
  int auth_failures = 0;
  int bad_commands = 0;
  bool closing = false;
  bool allow_expunge = true;  // for the command running now
  bool stopping() const { return stopping_; }

 private:
  Task<absl::StatusOr<ImapCommand>> ReadCommand(bool* io_error);
  Task<absl::Status> Dispatch(ImapCommand& command);
  Task<void> Close();
  Task<void> ConsumeStaleCancel();
  void ApplyEvent(const mailbox::FolderEvent& e, bool* exists_changed);

  std::shared_ptr<const ImapOptions> options_;
  Socket socket_;
  std::unique_ptr<TlsStream> tls_;
  LineReader reader_;
  Writer writer_;
  CommandParser parser_;
  SocketAddress client_;
  std::string session_id_;
  Ring* ring_ = nullptr;
  bool stopping_ = false;
  bool broken_ = false;
  bool idle_waiting_ = false;
  bool woken_ = false;
};

// "(\Seen \Deleted)" (with \Recent when `recent`).
std::string FlagList(uint8_t flags, bool recent);
// "17-Jul-1996 02:44:25 +0000"
std::string FormatInternalDate(absl::Time t);
// INBOX in any case is "INBOX"; trailing delimiters are dropped.
std::string CanonicalFolder(std::string_view name);

}  // namespace salvo::imap
