#include "queue/mailbox_index.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"

namespace salvo::queue {

using mailbox::kSeen;

EntryRecord MailboxEntry::ToRecord() const {
  return EntryRecord{.blob = blob,
                     .flags = flags,
                     .internal_date = internal_date,
                     .size = size,
                     .attributes = attributes};
}

mailbox::MessageMeta MailboxEntry::ToMeta() const {
  return mailbox::MessageMeta{.uid = uid,
                              .flags = flags,
                              .recent = false,
                              .internal_date = internal_date,
                              .size = size,
                              .attributes = attributes};
}

namespace {
template <typename Vec>
auto FindUid(Vec& entries, uint32_t uid) -> decltype(&entries[0]) {
  auto it = std::lower_bound(entries.begin(), entries.end(), uid,
                             [](const MailboxEntry& e, uint32_t u) { return e.uid < u; });
  if (it == entries.end() || it->uid != uid) return nullptr;
  return &*it;
}
}  // namespace

const MailboxEntry* MailboxFolder::Find(uint32_t uid) const { return FindUid(entries, uid); }
MailboxEntry* MailboxFolder::Find(uint32_t uid) { return FindUid(entries, uid); }

mailbox::FolderStatus MailboxFolder::Status() const {
  return mailbox::FolderStatus{.name = record.name,
                               .uid_validity = record.uid_validity,
                               .uid_next = record.uid_next,
                               .messages = static_cast<uint32_t>(entries.size()),
                               .unseen = unseen,
                               .recent = recent,
                               .total_bytes = bytes};
}

// --- MailboxIndex ---

MailboxFolder* MailboxIndex::FindFolder(std::string_view name) {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &folders_.at(it->second);
}

const MailboxFolder* MailboxIndex::FindFolder(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &folders_.at(it->second);
}

MailboxFolder* MailboxIndex::folder(uint32_t id) {
  auto it = folders_.find(id);
  return it == folders_.end() ? nullptr : &it->second;
}

uint32_t MailboxIndex::RefCount(uint64_t blob) const {
  auto it = refs_.find(blob);
  return it == refs_.end() ? 0 : it->second;
}

void MailboxIndex::PutFolder(uint32_t id, const FolderRecord& record) {
  MailboxFolder& f = folders_[id];
  if (f.id != 0 && f.record.name != record.name) {
    // A rename; in a hierarchy rename another folder may already own the
    // old name.
    auto old = by_name_.find(f.record.name);
    if (old != by_name_.end() && old->second == id) by_name_.erase(old);
  }
  f.id = id;
  f.record = record;
  by_name_[record.name] = id;
}

void MailboxIndex::PutEntry(uint32_t folder, const MailboxEntry& e) {
  MailboxFolder& f = folders_.at(folder);
  auto& entries = f.entries;
  MailboxEntry* old = nullptr;
  if (entries.empty() || entries.back().uid < e.uid) {
    entries.push_back(e);
  } else {
    auto it = std::lower_bound(entries.begin(), entries.end(), e.uid,
                               [](const MailboxEntry& x, uint32_t u) { return x.uid < u; });
    if (it != entries.end() && it->uid == e.uid) {
      old = &*it;
    } else {
      entries.insert(it, e);
    }
  }
  if (old != nullptr) {  // a flag change: keeps its \Recent
    f.unseen -= (old->flags & kSeen) ? 0 : 1;
    f.bytes -= old->size;
    bool recent = old->recent;
    *old = e;
    old->recent = recent;
  } else {
    f.recent += e.recent ? 1 : 0;
  }
  f.unseen += (e.flags & kSeen) ? 0 : 1;
  f.bytes += e.size;
}

void MailboxIndex::DropEntries(uint32_t folder, std::vector<uint32_t> uids) {
  MailboxFolder& f = folders_.at(folder);
  absl::flat_hash_set<uint32_t> gone(uids.begin(), uids.end());
  auto end = std::remove_if(f.entries.begin(), f.entries.end(), [&](const MailboxEntry& e) {
    if (!gone.contains(e.uid)) return false;
    f.unseen -= (e.flags & kSeen) ? 0 : 1;
    f.recent -= e.recent ? 1 : 0;
    f.bytes -= e.size;
    return true;
  });
  f.entries.erase(end, f.entries.end());
}

void MailboxIndex::DropFolder(uint32_t id) {
  auto it = folders_.find(id);
  if (it == folders_.end()) return;
  auto name = by_name_.find(it->second.record.name);
  if (name != by_name_.end() && name->second == id) by_name_.erase(name);
  folders_.erase(it);
}

void MailboxIndex::Ref(uint64_t blob, int64_t delta) {
  int64_t n = int64_t{RefCount(blob)} + delta;
  if (n <= 0) {
    refs_.erase(blob);
  } else {
    refs_[blob] = static_cast<uint32_t>(n);
  }
}

void MailboxIndex::Apply(const std::vector<MailboxChange>& changes) {
  using Kind = MailboxChange::Kind;
  for (size_t i = 0; i < changes.size();) {
    const MailboxChange& c = changes[i];
    switch (c.kind) {
      case Kind::kPutFolder:
        PutFolder(c.folder, c.record);
        break;
      case Kind::kDropFolder:
        DropFolder(c.folder);
        break;
      case Kind::kPutEntry:
        PutEntry(c.folder, c.entry);
        break;
      case Kind::kDropEntry: {
        std::vector<uint32_t> uids;
        size_t j = i;
        for (; j < changes.size() && changes[j].kind == Kind::kDropEntry &&
               changes[j].folder == c.folder;
             ++j) {
          uids.push_back(changes[j].entry.uid);
        }
        DropEntries(c.folder, std::move(uids));
        i = j;
        continue;
      }
      case Kind::kRef:
        Ref(c.blob, c.delta);
        break;
    }
    ++i;
  }
}

// --- MailboxTxn ---

std::optional<FolderRef> MailboxTxn::FindFolder(std::string_view name) const {
  for (const auto& [id, record] : pending_.folders) {
    if (record && record->name == name) return FolderRef{id, *record};
  }
  auto it = index_.by_name().find(name);
  if (it == index_.by_name().end() || pending_.folders.contains(it->second)) return std::nullopt;
  return FolderRef{it->second, index_.folders().at(it->second).record};
}

std::vector<FolderRef> MailboxTxn::Folders() const {
  std::vector<FolderRef> out;
  for (const auto& [id, f] : index_.folders()) {
    if (!pending_.folders.contains(id)) out.push_back({id, f.record});
  }
  for (const auto& [id, record] : pending_.folders) {
    if (record) out.push_back({id, *record});
  }
  return out;
}

std::optional<MailboxEntry> MailboxTxn::GetEntry(uint32_t folder, uint32_t uid) const {
  auto p = pending_.entries.find({folder, uid});
  if (p != pending_.entries.end()) return p->second;
  const MailboxFolder* f = index_.folder(folder);
  if (f == nullptr) return std::nullopt;
  const MailboxEntry* e = f->Find(uid);
  if (e == nullptr) return std::nullopt;
  return *e;
}

void MailboxTxn::ForEachEntry(uint32_t folder,
                              const std::function<void(const MailboxEntry&)>& fn) const {
  auto begin = pending_.entries.lower_bound({folder, 0});
  auto end = pending_.entries.upper_bound({folder, UINT32_MAX});
  const MailboxFolder* f = index_.folder(folder);
  if (f != nullptr) {
    for (const MailboxEntry& e : f->entries) {
      if (begin == end) {
        fn(e);
        continue;
      }
      auto p = pending_.entries.find({folder, e.uid});
      if (p == pending_.entries.end()) {
        fn(e);
      } else if (p->second) {
        fn(*p->second);
      }
    }
  }
  for (auto p = begin; p != end; ++p) {  // messages new in this group (higher UIDs)
    if (p->second && (f == nullptr || f->Find(p->second->uid) == nullptr)) fn(*p->second);
  }
}

uint32_t MailboxTxn::NewUidValidity(absl::Time now) {
  int64_t s = absl::ToUnixSeconds(now);
  uint32_t v = static_cast<uint32_t>(std::clamp<int64_t>(s, 1, UINT32_MAX - 1));
  v = std::max(v, counters_.last_uid_validity + 1);
  counters_.last_uid_validity = v;
  batch_.Put(Cf::kMailbox, kMailboxUidValidityKey, EncodeUidValidity(v));
  return v;
}

void MailboxTxn::PutFolder(uint32_t id, const FolderRecord& record) {
  pending_.folders[id] = record;
  batch_.Put(Cf::kMailbox, MailboxFolderKey(id), EncodeFolderRecord(record));
  MailboxChange& c = changes_.emplace_back();
  c.kind = MailboxChange::Kind::kPutFolder;
  c.folder = id;
  c.record = record;
}

void MailboxTxn::DropFolder(uint32_t id) {
  std::vector<MailboxEntry> entries;
  ForEachEntry(id, [&](const MailboxEntry& e) { entries.push_back(e); });
  for (const MailboxEntry& e : entries) DropEntry(id, e);
  pending_.folders[id] = std::nullopt;
  batch_.Delete(Cf::kMailbox, MailboxFolderKey(id));
  MailboxChange& c = changes_.emplace_back();
  c.kind = MailboxChange::Kind::kDropFolder;
  c.folder = id;
}

uint64_t MailboxTxn::NewBlob(std::string_view content) {
  uint64_t id = counters_.next_blob++;
  pending_.refs[id] = 0;
  batch_.Put(Cf::kMailbox, MailboxBlobKey(id), content);
  return id;
}

void MailboxTxn::PutEntry(uint32_t folder, const MailboxEntry& e) {
  bool is_new = !GetEntry(folder, e.uid).has_value();
  pending_.entries[{folder, e.uid}] = e;
  batch_.Put(Cf::kMailbox, MailboxEntryKey(folder, e.uid), EncodeEntryRecord(e.ToRecord()));
  MailboxChange& c = changes_.emplace_back();
  c.kind = MailboxChange::Kind::kPutEntry;
  c.folder = folder;
  c.entry = e;
  if (is_new) Ref(e.blob, +1);
}

void MailboxTxn::DropEntry(uint32_t folder, const MailboxEntry& e) {
  pending_.entries[{folder, e.uid}] = std::nullopt;
  batch_.Delete(Cf::kMailbox, MailboxEntryKey(folder, e.uid));
  MailboxChange& c = changes_.emplace_back();
  c.kind = MailboxChange::Kind::kDropEntry;
  c.folder = folder;
  c.entry.uid = e.uid;
  Ref(e.blob, -1);
}

void MailboxTxn::Ref(uint64_t blob, int64_t delta) {
  auto it = pending_.refs.find(blob);
  int64_t now = (it != pending_.refs.end() ? it->second : int64_t{index_.RefCount(blob)}) + delta;
  pending_.refs[blob] = now;
  MailboxChange& c = changes_.emplace_back();
  c.kind = MailboxChange::Kind::kRef;
  c.blob = blob;
  c.delta = delta;
  if (now == 0) batch_.Delete(Cf::kMailbox, MailboxBlobKey(blob));
}

}  // namespace salvo::queue
