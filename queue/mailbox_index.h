// The bounce mailbox's in-memory index and its write transactions
// (internal to queue/mailbox*.cc).
//
// MailboxIndex is the committed state: every folder with its messages
// (ascending UIDs in a vector: UIDs only grow, so appends are push_backs) and
// their counts, and the reference count of every blob. It changes only when a
// write is durable (MailboxChange lists applied in commit order), so
// ListFolders/Status/View never show a change that could still fail.
//
// A write is planned on the spool's writer thread, inside a group commit
// (group_commit.h), by a MailboxTxn: it reads the committed index as changed
// by the requests planned before it in the same group (MailboxPending, the
// group's tentative overlay), puts its records into the group's batch, and
// records its changes for Apply. Plans check everything first and only then
// change anything, so a refused request leaves the overlay as it was.
// The overlay is dropped when the last request of the group is applied or
// undone. Ids (folder ids, blob ids, UIDVALIDITY) are never handed out
// twice, even by writes that fail; UIDs burnt by a failed write were never
// visible and are handed out again.
//
// Locking: everything here is guarded by the Mailbox's mutex (taken after
// the spool's `mu` inside group commits, never the other way round).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/mailbox/mail_store.h"
#include "queue/group_commit.h"
#include "queue/mailbox_codec.h"

namespace salvo::queue {

struct MailboxEntry {
  uint32_t uid = 0;
  uint8_t flags = 0;
  bool recent = false;  // memory only: not yet claimed by a View
  uint64_t blob = 0;
  absl::Time internal_date;
  uint64_t size = 0;
  mailbox::MessageAttributes attributes;

  EntryRecord ToRecord() const;
  mailbox::MessageMeta ToMeta() const;
};

struct MailboxFolder {
  uint32_t id = 0;
  FolderRecord record;
  std::vector<MailboxEntry> entries;  // ascending uid
  uint32_t unseen = 0;
  uint32_t recent = 0;
  uint64_t bytes = 0;

  const MailboxEntry* Find(uint32_t uid) const;
  MailboxEntry* Find(uint32_t uid);
  mailbox::FolderStatus Status() const;
};

struct MailboxChange {
  enum class Kind : uint8_t { kPutFolder, kDropFolder, kPutEntry, kDropEntry, kRef };
  Kind kind = Kind::kPutFolder;
  uint32_t folder = 0;
  FolderRecord record;  // kPutFolder
  MailboxEntry entry;   // kPutEntry; kDropEntry uses entry.uid
  uint64_t blob = 0;    // kRef
  int64_t delta = 0;    // kRef
};

class MailboxIndex {
 public:
  MailboxFolder* FindFolder(std::string_view name);
  const MailboxFolder* FindFolder(std::string_view name) const;
  MailboxFolder* folder(uint32_t id);
  const std::map<uint32_t, MailboxFolder>& folders() const { return folders_; }
  const std::map<std::string, uint32_t, std::less<>>& by_name() const { return by_name_; }
  uint32_t RefCount(uint64_t blob) const;
  size_t blobs() const { return refs_.size(); }
  const absl::flat_hash_map<uint64_t, uint32_t>& refs() const { return refs_; }

  // Loading (at open) and applying durable changes.
  void PutFolder(uint32_t id, const FolderRecord& record);
  void PutEntry(uint32_t folder, const MailboxEntry& e);
  void Ref(uint64_t blob, int64_t delta);
  void Apply(const std::vector<MailboxChange>& changes);

 private:
  void DropFolder(uint32_t id);
  void DropEntries(uint32_t folder, std::vector<uint32_t> uids);

  std::map<uint32_t, MailboxFolder> folders_;
  std::map<std::string, uint32_t, std::less<>> by_name_;
  absl::flat_hash_map<uint64_t, uint32_t> refs_;
};

// The tentative changes of the requests planned in the current group.
struct MailboxPending {
  std::map<uint32_t, std::optional<FolderRecord>> folders;
  std::map<std::pair<uint32_t, uint32_t>, std::optional<MailboxEntry>> entries;
  absl::flat_hash_map<uint64_t, int64_t> refs;  // tentative counts
  int requests = 0;                             // planned, not yet applied/undone
  void Clear() {
    folders.clear();
    entries.clear();
    refs.clear();
  }
};

// Ids that are never handed out twice (the last ones given).
struct MailboxCounters {
  uint32_t next_folder = 1;
  uint32_t last_uid_validity = 0;
  uint64_t next_blob = 1;
};

struct FolderRef {
  uint32_t id = 0;
  FolderRecord record;
};

class MailboxTxn {
 public:
  MailboxTxn(MailboxIndex& index, MailboxPending& pending, MailboxCounters& counters,
             BatchWriter& batch)
      : index_(index), pending_(pending), counters_(counters), batch_(batch) {}

  // --- reads (tentative state) ---
  std::optional<FolderRef> FindFolder(std::string_view name) const;
  std::vector<FolderRef> Folders() const;
  std::optional<MailboxEntry> GetEntry(uint32_t folder, uint32_t uid) const;
  // Every message of the folder, ascending UID.
  void ForEachEntry(uint32_t folder, const std::function<void(const MailboxEntry&)>& fn) const;

  // --- changes (only after every check passed) ---
  uint32_t NewFolderId() { return counters_.next_folder++; }
  uint32_t NewUidValidity(absl::Time now);
  void PutFolder(uint32_t id, const FolderRecord& record);
  void DropFolder(uint32_t id);  // and its messages
  uint64_t NewBlob(std::string_view content);
  void PutEntry(uint32_t folder, const MailboxEntry& e);
  void DropEntry(uint32_t folder, const MailboxEntry& e);
  void Emit(mailbox::FolderEvent event) { events_.push_back(std::move(event)); }

  bool changed() const { return !changes_.empty(); }
  std::vector<MailboxChange> TakeChanges() { return std::move(changes_); }
  std::vector<mailbox::FolderEvent> TakeEvents() { return std::move(events_); }

 private:
  void Ref(uint64_t blob, int64_t delta);

  MailboxIndex& index_;
  MailboxPending& pending_;
  MailboxCounters& counters_;
  BatchWriter& batch_;
  std::vector<MailboxChange> changes_;
  std::vector<mailbox::FolderEvent> events_;
};

}  // namespace salvo::queue
