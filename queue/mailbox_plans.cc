#include "queue/mailbox_plans.h"

#include <fmt/format.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace salvo::queue {
namespace {

using mailbox::FolderEvent;

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    }
    i += n;
  }
  return true;
}

bool IsChildOf(std::string_view name, std::string_view parent) {
  return name.size() > parent.size() + 1 && name.substr(0, parent.size()) == parent &&
         name[parent.size()] == '/';
}

void SortUnique(std::vector<uint32_t>& uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
}

// Allocates the next UID of `folder` (tentatively).
uint32_t NextUid(FolderRef& folder) { return folder.record.uid_next++; }

}  // namespace

absl::Status NoFolderError(std::string_view name) {
  return absl::NotFoundError(fmt::format("no folder named \"{}\"", name));
}

std::string NormalizeFolderName(std::string_view name) {
  if (absl::EqualsIgnoreCase(absl::string_view(name.data(), name.size()), "INBOX")) {
    return "INBOX";
  }
  return std::string(name);
}

absl::Status ValidateFolderName(std::string_view name) {
  const char* problem = nullptr;
  if (name.empty()) {
    problem = "is empty";
  } else if (name.size() > mailbox::kMaxFolderName) {
    problem = "is too long";
  } else if (std::any_of(name.begin(), name.end(), [](char c) {
               unsigned char u = static_cast<unsigned char>(c);
               return u < 0x20 || u == 0x7f || c == '*' || c == '%';
             })) {
    problem = "contains a control character, '*' or '%'";
  } else if (name.front() == '/' || name.back() == '/' ||
             name.find("//") != std::string_view::npos) {
    problem = "has an empty hierarchy level";
  } else if (!ValidUtf8(name)) {
    problem = "is not valid UTF-8";
  }
  if (problem == nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(fmt::format("folder name {}", problem));
}

absl::Status PlanCreateFolder(MailboxTxn& txn, const std::string& name, absl::Time now) {
  if (absl::Status s = ValidateFolderName(name); !s.ok()) return s;
  if (txn.FindFolder(name)) {
    return absl::AlreadyExistsError(fmt::format("folder \"{}\" exists", name));
  }
  if (txn.Folders().size() >= mailbox::kMaxFolders) {
    return absl::ResourceExhaustedError(fmt::format("at most {} folders", mailbox::kMaxFolders));
  }
  FolderRecord record{.name = name, .uid_validity = txn.NewUidValidity(now), .uid_next = 1};
  txn.PutFolder(txn.NewFolderId(), record);
  return absl::OkStatus();
}

absl::Status PlanDeleteFolder(MailboxTxn& txn, const std::string& name) {
  std::optional<FolderRef> f = txn.FindFolder(name);
  if (!f) return NoFolderError(name);
  if (f->record.system) {
    return absl::FailedPreconditionError(
        fmt::format("\"{}\" is a system folder and cannot be deleted", name));
  }
  txn.DropFolder(f->id);
  txn.Emit(FolderEvent{.kind = FolderEvent::Kind::kDeleted, .folder = name});
  return absl::OkStatus();
}

absl::Status PlanRenameFolder(MailboxTxn& txn, const std::string& from, const std::string& to) {
  std::optional<FolderRef> f = txn.FindFolder(from);
  if (!f) return NoFolderError(from);
  if (f->record.system) {
    return absl::FailedPreconditionError(
        fmt::format("\"{}\" is a system folder and cannot be renamed", from));
  }
  if (absl::Status s = ValidateFolderName(to); !s.ok()) return s;
  if (txn.FindFolder(to)) return absl::AlreadyExistsError(fmt::format("folder \"{}\" exists", to));
  std::vector<FolderRef> moved{*f};
  for (FolderRef& c : txn.Folders()) {
    if (IsChildOf(c.record.name, from)) moved.push_back(std::move(c));
  }
  std::vector<std::string> old_names;
  for (FolderRef& m : moved) {
    old_names.push_back(m.record.name);
    m.record.name = to + m.record.name.substr(from.size());
    if (m.record.name.size() > mailbox::kMaxFolderName) {
      return absl::InvalidArgumentError(
          fmt::format("folder \"{}\" would get a name that is too long", old_names.back()));
    }
  }
  for (size_t i = 1; i < moved.size(); ++i) {  // a child's new name may be taken
    std::optional<FolderRef> other = txn.FindFolder(moved[i].record.name);
    if (other && !IsChildOf(other->record.name, from)) {
      return absl::AlreadyExistsError(fmt::format("folder \"{}\" exists", moved[i].record.name));
    }
  }
  for (const FolderRef& m : moved) txn.PutFolder(m.id, m.record);
  for (std::string& name : old_names) {
    txn.Emit(FolderEvent{.kind = FolderEvent::Kind::kDeleted, .folder = std::move(name)});
  }
  return absl::OkStatus();
}

absl::Status PlanSubscribe(MailboxTxn& txn, const std::string& name, bool subscribed) {
  std::optional<FolderRef> f = txn.FindFolder(name);
  if (!f) return NoFolderError(name);
  if (f->record.subscribed == subscribed) return absl::OkStatus();
  f->record.subscribed = subscribed;
  txn.PutFolder(f->id, f->record);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<mailbox::FlagUpdate>> PlanStoreFlags(MailboxTxn& txn,
                                                                const std::string& folder,
                                                                std::vector<uint32_t> uids,
                                                                mailbox::FlagOp op, uint8_t flags) {
  std::optional<FolderRef> f = txn.FindFolder(folder);
  if (!f) return NoFolderError(folder);
  flags &= mailbox::kAllFlags;
  SortUnique(uids);
  std::vector<mailbox::FlagUpdate> out;
  FolderEvent event{.kind = FolderEvent::Kind::kFlags, .folder = folder};
  for (uint32_t uid : uids) {
    std::optional<MailboxEntry> e = txn.GetEntry(f->id, uid);
    if (!e) continue;
    uint8_t now = op == mailbox::FlagOp::kSet   ? flags
                  : op == mailbox::FlagOp::kAdd ? static_cast<uint8_t>(e->flags | flags)
                                                : static_cast<uint8_t>(e->flags & ~flags);
    out.push_back({uid, now});
    if (now == e->flags) continue;
    e->flags = now;
    txn.PutEntry(f->id, *e);
    event.flags.push_back({uid, now});
  }
  if (!event.flags.empty()) txn.Emit(std::move(event));
  return out;
}

absl::StatusOr<mailbox::CopyResult> PlanCopy(MailboxTxn& txn, const std::string& from,
                                             std::vector<uint32_t> uids, const std::string& to,
                                             bool move) {
  std::optional<FolderRef> source = txn.FindFolder(from);
  if (!source) return NoFolderError(from);
  std::optional<FolderRef> target = txn.FindFolder(to);
  if (!target) return NoFolderError(to);
  SortUnique(uids);
  std::vector<MailboxEntry> entries;
  for (uint32_t uid : uids) {
    std::optional<MailboxEntry> e = txn.GetEntry(source->id, uid);
    if (e) entries.push_back(std::move(*e));
  }
  if (uint64_t{target->record.uid_next} + entries.size() >= UINT32_MAX) {
    return absl::ResourceExhaustedError(fmt::format("folder \"{}\" has run out of UIDs", to));
  }
  mailbox::CopyResult result{.target_uid_validity = target->record.uid_validity};
  if (entries.empty()) return result;
  // A move within one folder: read the target's UIDNEXT after nothing else.
  FolderEvent appended{.kind = FolderEvent::Kind::kAppended, .folder = to};
  std::vector<MailboxEntry> copies;
  for (const MailboxEntry& e : entries) {
    MailboxEntry copy = e;
    copy.uid = NextUid(*target);
    copy.recent = true;
    result.source_uids.push_back(e.uid);
    result.target_uids.push_back(copy.uid);
    appended.appended.push_back(copy.ToMeta());
    copies.push_back(std::move(copy));
  }
  txn.PutFolder(target->id, target->record);
  for (const MailboxEntry& c : copies) txn.PutEntry(target->id, c);
  if (move) {
    for (const MailboxEntry& e : entries) txn.DropEntry(source->id, e);
  }
  txn.Emit(std::move(appended));
  if (move) {
    txn.Emit(FolderEvent{
        .kind = FolderEvent::Kind::kExpunged, .folder = from, .expunged = result.source_uids});
  }
  return result;
}

absl::StatusOr<std::vector<uint32_t>> PlanExpunge(
    MailboxTxn& txn, const std::string& folder, const std::optional<std::vector<uint32_t>>& only) {
  std::optional<FolderRef> f = txn.FindFolder(folder);
  if (!f) return NoFolderError(folder);
  std::vector<MailboxEntry> gone;
  if (only) {
    std::vector<uint32_t> uids = *only;
    SortUnique(uids);
    for (uint32_t uid : uids) {
      std::optional<MailboxEntry> e = txn.GetEntry(f->id, uid);
      if (e && (e->flags & mailbox::kDeleted)) gone.push_back(std::move(*e));
    }
  } else {
    txn.ForEachEntry(f->id, [&](const MailboxEntry& e) {
      if (e.flags & mailbox::kDeleted) gone.push_back(e);
    });
  }
  std::vector<uint32_t> uids;
  for (const MailboxEntry& e : gone) {
    txn.DropEntry(f->id, e);
    uids.push_back(e.uid);
  }
  std::sort(uids.begin(), uids.end());
  if (!uids.empty()) {
    txn.Emit(FolderEvent{.kind = FolderEvent::Kind::kExpunged, .folder = folder, .expunged = uids});
  }
  return uids;
}

absl::StatusOr<std::vector<uint32_t>> PlanAppend(MailboxTxn& txn,
                                                 const std::vector<std::string>& folders,
                                                 const NewMessage& message) {
  std::vector<FolderRef> targets;
  for (const std::string& name : folders) {
    std::optional<FolderRef> f = txn.FindFolder(name);
    if (!f) return NoFolderError(name);
    if (f->record.uid_next >= UINT32_MAX - 1) {
      return absl::ResourceExhaustedError(fmt::format("folder \"{}\" has run out of UIDs", name));
    }
    targets.push_back(std::move(*f));
  }
  uint64_t blob = txn.NewBlob(message.content);
  std::vector<uint32_t> uids;
  for (FolderRef& f : targets) {
    MailboxEntry e{.uid = NextUid(f),
                   .flags = static_cast<uint8_t>(message.flags & mailbox::kAllFlags),
                   .recent = true,
                   .blob = blob,
                   .internal_date = message.internal_date,
                   .size = message.content.size(),
                   .attributes = *message.attributes};
    txn.PutFolder(f.id, f.record);
    txn.PutEntry(f.id, e);
    uids.push_back(e.uid);
    txn.Emit(FolderEvent{
        .kind = FolderEvent::Kind::kAppended, .folder = f.record.name, .appended = {e.ToMeta()}});
  }
  return uids;
}

}  // namespace salvo::queue
