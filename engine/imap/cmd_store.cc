// STORE (RFC 3501 §6.4.6) with FLAGS / +FLAGS / -FLAGS and .SILENT; COPY
// (§6.4.7) and MOVE (RFC 6851), with UIDPLUS COPYUID (RFC 4315); and their
// UID forms.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "engine/imap/command_table.h"
#include "engine/imap/imap_session.h"
#include "engine/imap/sequence_set.h"
#include "fmt/format.h"

namespace salvo::imap::commands {
namespace {

// The UIDs a (UID) sequence set names in the selected folder, or nullopt
// after a BAD reply.
std::optional<std::vector<uint32_t>> TargetUids(ImapSession& s, ImapCommand& c, bool uid) {
  std::optional<SequenceSet> set =
      c.args.empty() ? std::nullopt : SequenceSet::Parse(c.args[0].text);
  if (!set) {
    s.Tagged(c.tag, "BAD", "Bad sequence set");
    return std::nullopt;
  }
  const SelectedFolder& f = *s.selected;
  std::vector<uint32_t> uids;
  if (uid) {
    std::vector<uint32_t> all = f.Uids();
    for (size_t i : set->Select(all)) uids.push_back(all[i]);
  } else {
    std::vector<uint32_t> msns = set->Expand(static_cast<uint32_t>(f.messages.size()));
    if (msns.empty() && !f.messages.empty()) {
      s.Tagged(c.tag, "BAD", "No such message");
      return std::nullopt;
    }
    for (uint32_t msn : msns) uids.push_back(f.messages[msn - 1].uid);
  }
  return uids;
}

}  // namespace

Task<absl::Status> Store(ImapSession& s, ImapCommand& c) {
  bool uid = c.name == "UID STORE";
  if (c.args.size() < 3 || c.args[1].kind != ImapArg::kAtom) {
    s.Tagged(c.tag, "BAD", "STORE needs a set, an item and flags");
    co_return absl::OkStatus();
  }
  std::string item = absl::AsciiStrToUpper(c.args[1].text);
  mailbox::FlagOp op = mailbox::FlagOp::kSet;
  if (!item.empty() && (item[0] == '+' || item[0] == '-')) {
    op = item[0] == '+' ? mailbox::FlagOp::kAdd : mailbox::FlagOp::kRemove;
    item.erase(0, 1);
  }
  bool silent = item == "FLAGS.SILENT";
  if (item != "FLAGS" && !silent) {
    s.Tagged(c.tag, "BAD", "Unknown STORE item");
    co_return absl::OkStatus();
  }
  uint8_t flags = 0;
  for (size_t i = 2; i < c.args.size(); ++i) {
    std::optional<uint8_t> f = ParseFlags(c.args[i]);
    if (!f) {
      s.Tagged(c.tag, "BAD", "Bad flags");
      co_return absl::OkStatus();
    }
    flags |= *f;
  }
  std::optional<std::vector<uint32_t>> uids = TargetUids(s, c, uid);
  if (!uids) co_return absl::OkStatus();
  if (s.selected->read_only) {
    s.Tagged(c.tag, "NO", "[READ-ONLY] Mailbox is read-only");
    co_return absl::OkStatus();
  }
  std::vector<uint32_t> targets = *uids;
  if (!uids->empty()) {
    std::string folder = s.selected->name;
    auto updated = co_await s.store().StoreFlags(folder, std::move(*uids), op, flags);
    if (!updated.ok()) {
      s.Tagged(c.tag, "NO", StoreErrorText(updated.status()));
      co_return absl::OkStatus();
    }
    s.ApplyFlags(*updated, ImapSession::FlagReport::kNone, false);
  }
  if (!silent && s.selected) {
    std::vector<mailbox::FlagUpdate> now;
    for (uint32_t u : targets) {
      uint32_t msn = s.selected->Msn(u);
      if (msn != 0) now.push_back({u, s.selected->messages[msn - 1].flags});
    }
    s.ApplyFlags(now, ImapSession::FlagReport::kAll, uid);
  }
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Copy(ImapSession& s, ImapCommand& c) {
  bool uid = c.name.rfind("UID ", 0) == 0;
  bool move = c.name == "MOVE" || c.name == "UID MOVE";
  if (c.args.size() != 2 || !c.args[1].IsAString()) {
    s.Tagged(c.tag, "BAD", fmt::format("{} needs a set and a mailbox", c.name));
    co_return absl::OkStatus();
  }
  std::optional<std::vector<uint32_t>> uids = TargetUids(s, c, uid);
  if (!uids) co_return absl::OkStatus();
  if (move && s.selected->read_only) {
    s.Tagged(c.tag, "NO", "[READ-ONLY] Mailbox is read-only");
    co_return absl::OkStatus();
  }
  std::string target = CanonicalFolder(c.args[1].text);
  if (!s.store().Status(target).ok()) {
    s.Tagged(c.tag, "NO", "[TRYCREATE] No such mailbox");
    co_return absl::OkStatus();
  }
  if (uids->empty()) {
    s.Tagged(c.tag, "OK", fmt::format("{} completed (no messages)", c.name));
    co_return absl::OkStatus();
  }
  std::string folder = s.selected->name;
  absl::StatusOr<mailbox::CopyResult> result = absl::UnknownError("unset");
  if (move) {
    result = co_await s.store().Move(folder, std::move(*uids), target);
  } else {
    result = co_await s.store().Copy(folder, std::move(*uids), target);
  }
  if (!result.ok()) {
    s.Tagged(c.tag, "NO", StoreErrorText(result.status()));
    co_return absl::OkStatus();
  }
  std::string copyuid = fmt::format("COPYUID {} {} {}", result->target_uid_validity,
                                    SequenceSet::Of(result->source_uids).ToString(),
                                    SequenceSet::Of(result->target_uids).ToString());
  if (move) {
    s.Untagged(fmt::format("OK [{}] Moved", copyuid));
    s.ApplyExpunge(result->source_uids);
    s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  } else {
    s.Tagged(c.tag, "OK", fmt::format("[{}] {} completed", copyuid, c.name));
  }
  co_return absl::OkStatus();
}

}  // namespace salvo::imap::commands
