// MailStore: the bounce mailbox as POP3 and IMAP sessions see it — folders
// of messages with stable UIDs and flags, shared by every session and both
// protocols (a flag set over IMAP is seen by POP3 and the other way round).
//
// The implementation lives in queue/ (queue/mailbox.h: durable in the
// spool's RocksDB); this interface keeps engine/ free of RocksDB.
//
// Model (RFC 3501 terms):
//  - Folders have a name ("INBOX", "Hard", "Soft", "Complaints", ...; the
//    hierarchy delimiter is '/'), a UIDVALIDITY fixed at creation, and a
//    UIDNEXT that only grows. System folders (INBOX and the bounce
//    categories) cannot be deleted or renamed; user folders can.
//  - A message in a folder has a UID (strictly ascending in the folder), the
//    system flags below, its internal date, its size in octets and a few
//    attributes from bounce processing (category, campaign, recipient).
//    The content is immutable. Copying stores no second copy of the bytes.
//  - The bounce ingester files each bounce into INBOX and into its category
//    folder (one copy each, sharing the bytes), so POP3 (which sees INBOX)
//    gets everything and IMAP users browse by category.
//
// Threads and cost: everything that only reads metadata (ListFolders,
// Status, View) is answered from memory under a short lock and may be
// called on a ring thread. Reading content and every change are AsyncOps:
// they run on the store's threads and complete back on the caller's ring
// (co_await) — a change completes only once it is durable.
//
// Limits: names are at most kMaxFolderName octets of printable UTF-8 without
// control characters, at most kMaxFolders folders; Append refuses content
// over the store's configured maximum (ResourceExhausted).
//
// Errors: NotFound (no such folder/UID), AlreadyExists (CREATE/RENAME onto
// an existing name), FailedPrecondition (deleting/renaming a system folder),
// InvalidArgument (bad name), ResourceExhausted (too big, disk full),
// Unavailable (write failed; nothing changed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/loop/async_op.h"

namespace salvo::mailbox {

inline constexpr size_t kMaxFolderName = 200;
inline constexpr size_t kMaxFolders = 1000;

// RFC 3501 system flags, as bits. (\Recent is per session: see View.)
enum Flag : uint8_t {
  kSeen = 1,
  kAnswered = 2,
  kFlagged = 4,
  kDeleted = 8,
  kDraft = 16,
};
inline constexpr uint8_t kAllFlags = kSeen | kAnswered | kFlagged | kDeleted | kDraft;

struct FolderInfo {
  std::string name;
  bool system = false;  // INBOX and the bounce categories
  bool subscribed = false;
};

struct FolderStatus {
  std::string name;
  uint32_t uid_validity = 0;
  uint32_t uid_next = 1;
  uint32_t messages = 0;
  uint32_t unseen = 0;  // without \Seen
  uint32_t recent = 0;  // not yet claimed by any View(claim_recent = true)
  uint64_t total_bytes = 0;
};

// What bounce processing learned about a message (empty when unknown).
struct MessageAttributes {
  std::string category;   // "bad-mailbox", "complaint", "auto-reply", ...
  std::string campaign;   // campaign id, from the VERP token
  std::string recipient;  // the address that bounced
  friend bool operator==(const MessageAttributes&, const MessageAttributes&) = default;
};

struct MessageMeta {
  uint32_t uid = 0;
  uint8_t flags = 0;    // Flag bits
  bool recent = false;  // this view claimed it (IMAP \Recent)
  absl::Time internal_date;
  uint64_t size = 0;  // octets of the stored content (CRLF line ends)
  MessageAttributes attributes;
};

// A folder's messages at one moment, ascending by UID: index i is message
// sequence number i + 1 for the session that took it.
struct FolderView {
  FolderStatus status;
  std::vector<MessageMeta> messages;
};

enum class FlagOp : uint8_t { kSet, kAdd, kRemove };

// One message whose flags changed (the result of StoreFlags; also pushed to
// watchers).
struct FlagUpdate {
  uint32_t uid = 0;
  uint8_t flags = 0;  // the new full set
};

// RFC 4315 COPYUID / MOVE: source UIDs and the UIDs they got in the target.
struct CopyResult {
  uint32_t target_uid_validity = 0;
  std::vector<uint32_t> source_uids;
  std::vector<uint32_t> target_uids;
};

// A change to a folder, pushed to its watchers after it is durable.
struct FolderEvent {
  enum class Kind : uint8_t { kAppended, kExpunged, kFlags, kDeleted };
  Kind kind = Kind::kAppended;
  std::string folder;
  std::vector<MessageMeta> appended;  // kAppended
  std::vector<uint32_t> expunged;     // kExpunged: UIDs, ascending
  std::vector<FlagUpdate> flags;      // kFlags
};

class MailStore {
 public:
  virtual ~MailStore() = default;

  // --- folders ---
  virtual std::vector<FolderInfo> ListFolders() const = 0;
  virtual absl::StatusOr<FolderStatus> Status(std::string_view folder) const = 0;
  virtual AsyncOp<absl::Status> CreateFolder(std::string name) = 0;
  // Its messages go with it.
  virtual AsyncOp<absl::Status> DeleteFolder(std::string name) = 0;
  // RFC 3501: renaming INBOX is refused here (FailedPrecondition).
  virtual AsyncOp<absl::Status> RenameFolder(std::string from, std::string to) = 0;
  virtual AsyncOp<absl::Status> SetSubscribed(std::string name, bool subscribed) = 0;

  // --- messages ---
  // The folder's messages now. With claim_recent, messages no earlier view
  // claimed come back with recent = true and are no longer recent for
  // anyone else (IMAP SELECT; EXAMINE and POP3 pass false).
  virtual absl::StatusOr<FolderView> View(std::string_view folder, bool claim_recent) = 0;
  // The full content (CRLF line ends).
  virtual AsyncOp<absl::StatusOr<std::string>> Read(std::string folder, uint32_t uid) = 0;
  // UIDs not in the folder (any more) are skipped, not an error.
  virtual AsyncOp<absl::StatusOr<std::vector<FlagUpdate>>> StoreFlags(std::string folder,
                                                                      std::vector<uint32_t> uids,
                                                                      FlagOp op, uint8_t flags) = 0;
  virtual AsyncOp<absl::StatusOr<CopyResult>> Copy(std::string from, std::vector<uint32_t> uids,
                                                   std::string to) = 0;
  // Copy, then remove from the source (RFC 6851), as one durable write.
  virtual AsyncOp<absl::StatusOr<CopyResult>> Move(std::string from, std::vector<uint32_t> uids,
                                                   std::string to) = 0;
  // Removes the messages flagged \Deleted — all of them, or only those in
  // `only_uids` when given (UID EXPUNGE) — and returns their UIDs, ascending.
  virtual AsyncOp<absl::StatusOr<std::vector<uint32_t>>> Expunge(
      std::string folder, std::optional<std::vector<uint32_t>> only_uids) = 0;
  // Stores a new message; returns its UID (APPEND, and the bounce ingester).
  virtual AsyncOp<absl::StatusOr<uint32_t>> Append(std::string folder, std::string content,
                                                   uint8_t flags, absl::Time internal_date,
                                                   MessageAttributes attributes) = 0;

  // --- change notification (IMAP IDLE and unsolicited responses) ---
  // `on_event` runs on a store thread after each durable change to
  // `folder`; it must be short and must not block (post to the session's
  // ring). Returns a handle for Unwatch; after Unwatch returns, on_event is
  // not running and will not run again.
  using Watcher = absl::AnyInvocable<void(const FolderEvent&)>;
  virtual uint64_t Watch(std::string folder, Watcher on_event) = 0;
  virtual void Unwatch(uint64_t handle) = 0;
};

}  // namespace salvo::mailbox
