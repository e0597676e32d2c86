// The bounce mailbox at open (loading its index from the small records,
// creating the system folders) and its audit.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "absl/container/flat_hash_map.h"
#include "engine/base/status_macros.h"
#include "queue/mailbox_plans.h"
#include "queue/mailbox_state.h"

namespace salvo::queue {
namespace {

std::string Hex(std::string_view key) {
  std::string out;
  for (unsigned char c : key) out += fmt::format("{:02x}", c);
  return out;
}

// Walks the records whose key starts with `tag`.
template <typename Fn>
absl::Status ScanTag(RocksDb& db, char tag, Fn fn) {
  auto it = db.Scan(Cf::kMailbox, /*fill_cache=*/false);
  std::string start(1, tag);
  for (it->Seek(ToSlice(start)); it->Valid() && !it->key().empty() && it->key()[0] == tag;
       it->Next()) {
    RETURN_IF_ERROR(fn(ToView(it->key()), ToView(it->value())));
  }
  return FromRocks(it->status(), "scan mailbox");
}

absl::Status LoadFolders(RocksDb& db, Mailbox::State& st) {
  return ScanTag(db, kMailboxFolderTag, [&](std::string_view key, std::string_view value) {
    auto id = ParseMailboxFolderKey(key);
    if (!id) return absl::DataLossError(fmt::format("bad mailbox folder key {}", Hex(key)));
    auto record = DecodeFolderRecord(value);
    if (!record.ok()) return record.status();
    st.index.PutFolder(*id, *record);
    st.counters.next_folder = std::max(st.counters.next_folder, *id + 1);
    st.counters.last_uid_validity = std::max(st.counters.last_uid_validity, record->uid_validity);
    return absl::OkStatus();
  });
}

absl::Status LoadEntries(RocksDb& db, Mailbox::State& st, size_t* orphans) {
  RocksBatch repairs(&db);
  RETURN_IF_ERROR(ScanTag(db, kMailboxEntryTag, [&](std::string_view key, std::string_view value) {
    auto parts = ParseMailboxEntryKey(key);
    if (!parts) return absl::DataLossError(fmt::format("bad mailbox entry key {}", Hex(key)));
    MailboxFolder* f = st.index.folder(parts->folder);
    auto record = DecodeEntryRecord(value);
    if (!record.ok()) return record.status();
    if (f == nullptr) {  // cannot happen: folders go with their entries
      repairs.Delete(Cf::kMailbox, key);
      ++*orphans;
      return absl::OkStatus();
    }
    if (parts->uid >= f->record.uid_next) f->record.uid_next = parts->uid + 1;
    st.index.PutEntry(parts->folder, MailboxEntry{.uid = parts->uid,
                                                  .flags = record->flags,
                                                  .blob = record->blob,
                                                  .internal_date = record->internal_date,
                                                  .size = record->size,
                                                  .attributes = std::move(record->attributes)});
    st.index.Ref(record->blob, +1);
    st.counters.next_blob = std::max(st.counters.next_blob, record->blob + 1);
    return absl::OkStatus();
  }));
  if (*orphans == 0) return absl::OkStatus();
  spdlog::warn("mailbox: removing {} messages of folders that are gone", *orphans);
  return db.WriteSynced(repairs.raw());
}

}  // namespace

absl::Status LoadMailbox(RocksDb& db, Mailbox::State& st) {
  std::string value;
  absl::Status s = db.Get(Cf::kMailbox, kMailboxUidValidityKey, &value);
  if (s.ok()) {
    ASSIGN_OR_RETURN(st.counters.last_uid_validity, DecodeUidValidity(value));
  } else if (!absl::IsNotFound(s)) {
    return s;
  }
  RETURN_IF_ERROR(LoadFolders(db, st));
  size_t orphans = 0;
  RETURN_IF_ERROR(LoadEntries(db, st, &orphans));
  // Blob ids only grow: past the last blob on disk, referenced or not.
  auto it = db.Scan(Cf::kMailbox, /*fill_cache=*/false);
  it->SeekForPrev(ToSlice(MailboxBlobKey(UINT64_MAX)));
  if (it->Valid()) {
    if (auto blob = ParseMailboxBlobKey(ToView(it->key()))) {
      st.counters.next_blob = std::max(st.counters.next_blob, *blob + 1);
    }
  }
  return FromRocks(it->status(), "seek mailbox blobs");
}

absl::Status CreateSystemFolders(RocksDb& db, Mailbox::State& st) {
  RocksBatch batch(&db);
  MailboxPending pending;
  MailboxTxn txn(st.index, pending, st.counters, batch);
  absl::Time now = absl::Now();
  for (std::string_view name : kMailboxSystemFolders) {
    if (st.index.FindFolder(name) != nullptr) continue;
    FolderRecord record{.name = std::string(name),
                        .uid_validity = txn.NewUidValidity(now),
                        .subscribed = true,
                        .system = true};
    txn.PutFolder(txn.NewFolderId(), record);
  }
  if (!txn.changed()) return absl::OkStatus();
  RETURN_IF_ERROR(db.WriteSynced(batch.raw()));
  st.index.Apply(txn.TakeChanges());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Mailbox>> Mailbox::Open(Spool::Core& core, MailboxOptions options) {
  auto state = std::make_unique<State>(core, options);
  absl::Time start = absl::Now();
  RETURN_IF_ERROR(LoadMailbox(*core.db, *state));
  RETURN_IF_ERROR(CreateSystemFolders(*core.db, *state));
  state->readers = std::make_unique<WorkerPool>(std::max(1, options.reader_threads));
  std::unique_ptr<Mailbox> mailbox(new Mailbox(std::move(state)));
  MailboxStats stats = mailbox->stats();
  spdlog::info("mailbox: {} folders, {} messages, {} contents loaded in {}", stats.folders,
               stats.messages, stats.blobs, absl::FormatDuration(absl::Now() - start));
  return mailbox;
}

namespace {

struct DiskEntry {
  uint64_t blob = 0;
  uint8_t flags = 0;
};

void CompareFolders(const std::map<uint32_t, FolderRecord>& disk, const MailboxIndex& index,
                    MailboxAudit& audit) {
  for (const auto& [id, record] : disk) {
    auto it = index.folders().find(id);
    if (it == index.folders().end()) {
      audit.problems.push_back(
          fmt::format("folder {} \"{}\" is not in the index", id, record.name));
    } else if (it->second.record.name != record.name ||
               it->second.record.uid_validity != record.uid_validity ||
               it->second.record.uid_next != record.uid_next) {
      audit.problems.push_back(
          fmt::format("folder {} \"{}\" differs from the index", id, record.name));
    }
  }
  if (disk.size() != index.folders().size()) {
    audit.problems.push_back(fmt::format("{} folder records, {} folders in the index", disk.size(),
                                         index.folders().size()));
  }
}

}  // namespace

MailboxAudit AuditMailbox(RocksDb& db, Mailbox::State& st) {
  MailboxAudit audit;
  std::map<uint32_t, FolderRecord> folders;
  std::map<std::pair<uint32_t, uint32_t>, DiskEntry> entries;
  std::set<uint64_t> blobs;
  std::lock_guard<std::mutex> lock(st.mu);  // the index must not move meanwhile
  auto it = db.Scan(Cf::kMailbox, /*fill_cache=*/false);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = ToView(it->key());
    if (auto blob = ParseMailboxBlobKey(key)) {
      blobs.insert(*blob);
    } else if (auto id = ParseMailboxFolderKey(key)) {
      auto r = DecodeFolderRecord(ToView(it->value()));
      if (r.ok()) folders[*id] = *r;
      if (!r.ok()) audit.problems.push_back(r.status().ToString());
    } else if (auto parts = ParseMailboxEntryKey(key)) {
      auto r = DecodeEntryRecord(ToView(it->value()));
      if (r.ok()) entries[{parts->folder, parts->uid}] = {r->blob, r->flags};
      if (!r.ok()) audit.problems.push_back(r.status().ToString());
    } else if (key != kMailboxUidValidityKey) {
      audit.problems.push_back(fmt::format("unknown mailbox key {}", Hex(key)));
    }
  }
  if (!it->status().ok()) audit.problems.push_back(it->status().ToString());
  audit.folders = folders.size();
  audit.entries = entries.size();
  audit.blobs = blobs.size();
  CompareFolders(folders, st.index, audit);
  absl::flat_hash_map<uint64_t, uint32_t> refs;
  size_t indexed = 0;
  for (const auto& [id, f] : st.index.folders()) {
    for (const MailboxEntry& e : f.entries) {
      ++indexed;
      ++refs[e.blob];
      auto d = entries.find({id, e.uid});
      if (d == entries.end() || d->second.blob != e.blob || d->second.flags != e.flags) {
        audit.problems.push_back(
            fmt::format("message {} in \"{}\" differs from its record", e.uid, f.record.name));
      }
      if (!blobs.contains(e.blob)) {
        audit.problems.push_back(
            fmt::format("message {} in \"{}\": content {} missing", e.uid, f.record.name, e.blob));
      }
    }
  }
  if (indexed != entries.size()) {
    audit.problems.push_back(
        fmt::format("{} message records, {} in the index", entries.size(), indexed));
  }
  for (uint64_t blob : blobs) {
    if (!refs.contains(blob))
      audit.problems.push_back(fmt::format("content {} unreferenced", blob));
  }
  if (refs != st.index.refs()) audit.problems.push_back("content reference counts differ");
  return audit;
}

}  // namespace salvo::queue
