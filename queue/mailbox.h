// queue::Mailbox: the bounce mailbox (mailbox::MailStore), durable in the
// spool's RocksDB (column family `mailbox`; key layout in mailbox_codec.h).
//
// Durability: every change (folder or message) is one atomic batch that
// joins the spool's group commits (group_commit.h), so its AsyncOp completes
// only once it is in a synced WAL write; a failed change wrote nothing.
// Appends and copies need free space like the spool's accepts (disk full:
// ResourceExhausted); flag changes, expunges and deletions always go through.
//
// Memory: an index of every folder and message (UID, flags, date, size,
// attributes, blob id; ~100 bytes a message plus its attributes) rebuilt at
// open from the small records (never the contents). ListFolders, Status and
// View answer from it under a short lock; it changes only once a write is
// durable. Contents are read on the mailbox's own reader threads.
//
// \Recent is memory only: a message appended or copied in by this process is
// recent until a View(claim_recent = true) claims it; after a restart no
// message is recent.
//
// Events: watchers run on the spool's writer thread after the write is
// durable and the index shows it, in commit order. A View taken in between
// may already contain a change whose event is still to come: sessions skip
// appended UIDs they already have and expunged UIDs they no longer have.
// A renamed or deleted folder's watchers get kDeleted. on_event may call
// Unwatch (even its own handle) but must not block; Unwatch from any other
// thread waits for a running on_event to return.
//
// Threads: every method is safe from any thread; none blocks on I/O except
// Audit(). Created and recovered by Spool::Open (Spool::mailbox()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/mailbox/mail_store.h"
#include "queue/spool.h"

namespace salvo::queue {

struct MailboxOptions {
  // Append/Deliver refuse bigger contents (ResourceExhausted).
  uint64_t max_message_bytes = uint64_t{50} << 20;
  int reader_threads = 2;
};

// Deliver's result: the message's UID in INBOX and in the category folder
// (0 when the category folder is INBOX itself).
struct DeliveredUids {
  uint32_t inbox_uid = 0;
  uint32_t folder_uid = 0;
};

struct MailboxStats {
  size_t folders = 0;
  size_t messages = 0;  // entries over every folder
  size_t blobs = 0;     // distinct contents
  uint64_t bytes = 0;   // sum of entry sizes
};

// Every record compared with the index (tools, tests).
struct MailboxAudit {
  size_t folders = 0;
  size_t entries = 0;
  size_t blobs = 0;                   // blob records on disk
  std::vector<std::string> problems;  // empty when consistent
};

class Mailbox final : public mailbox::MailStore {
 public:
  // Loads the index from the spool's database and creates the missing system
  // folders (a synced write). Called by Spool::Open before the spool's
  // threads start; later writes go through core.committer.
  static absl::StatusOr<std::unique_ptr<Mailbox>> Open(Spool::Core& core,
                                                       MailboxOptions options = {});
  ~Mailbox() override;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Changes the options that can change at run time (the size limit).
  void set_max_message_bytes(uint64_t max);

  // --- MailStore ---
  std::vector<mailbox::FolderInfo> ListFolders() const override;
  absl::StatusOr<mailbox::FolderStatus> Status(std::string_view folder) const override;
  AsyncOp<absl::Status> CreateFolder(std::string name) override;
  AsyncOp<absl::Status> DeleteFolder(std::string name) override;
  AsyncOp<absl::Status> RenameFolder(std::string from, std::string to) override;
  AsyncOp<absl::Status> SetSubscribed(std::string name, bool subscribed) override;
  absl::StatusOr<mailbox::FolderView> View(std::string_view folder, bool claim_recent) override;
  AsyncOp<absl::StatusOr<std::string>> Read(std::string folder, uint32_t uid) override;
  AsyncOp<absl::StatusOr<std::vector<mailbox::FlagUpdate>>> StoreFlags(std::string folder,
                                                                       std::vector<uint32_t> uids,
                                                                       mailbox::FlagOp op,
                                                                       uint8_t flags) override;
  AsyncOp<absl::StatusOr<mailbox::CopyResult>> Copy(std::string from, std::vector<uint32_t> uids,
                                                    std::string to) override;
  AsyncOp<absl::StatusOr<mailbox::CopyResult>> Move(std::string from, std::vector<uint32_t> uids,
                                                    std::string to) override;
  AsyncOp<absl::StatusOr<std::vector<uint32_t>>> Expunge(
      std::string folder, std::optional<std::vector<uint32_t>> only_uids) override;
  AsyncOp<absl::StatusOr<uint32_t>> Append(std::string folder, std::string content, uint8_t flags,
                                           absl::Time internal_date,
                                           mailbox::MessageAttributes attributes) override;
  uint64_t Watch(std::string folder, Watcher on_event) override;
  void Unwatch(uint64_t handle) override;

  // The bounce ingester's filing: one message into INBOX and into
  // `category_folder` (which must exist; empty or INBOX: INBOX only), in one
  // atomic write sharing one copy of the bytes. Not recent-claimed; flags none.
  AsyncOp<absl::StatusOr<DeliveredUids>> Deliver(std::string content, absl::Time when,
                                                 mailbox::MessageAttributes attrs,
                                                 std::string category_folder);

  MailboxStats stats() const;
  // Blocking (runs on a reader thread and waits): compares every record of
  // the column family with the index.
  MailboxAudit Audit();

  struct State;

 private:
  explicit Mailbox(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace salvo::queue
