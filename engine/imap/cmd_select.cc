// Selected-state lifecycle (RFC 3501 §6.3.1-2, §6.4.2-3): SELECT, EXAMINE,
// CLOSE (expunges silently), UNSELECT (RFC 3691), EXPUNGE, UID EXPUNGE
// (RFC 4315), and IDLE (RFC 2177) with the store's pushes.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/imap/command_table.h"
#include "engine/imap/imap_session.h"
#include "engine/imap/imap_string.h"
#include "engine/imap/sequence_set.h"
#include "engine/loop/ops.h"
#include "fmt/format.h"

namespace salvo::imap::commands {

Task<absl::Status> Select(ImapSession& s, ImapCommand& c) {
  bool examine = c.name == "EXAMINE";
  if (c.args.size() != 1 || !c.args[0].IsAString()) {
    s.Tagged(c.tag, "BAD", fmt::format("{} needs a mailbox name", c.name));
    co_return absl::OkStatus();
  }
  std::string name = CanonicalFolder(c.args[0].text);
  if (s.selected) {
    s.Unselect();
    s.Untagged("OK [CLOSED] Previous mailbox closed");
  }
  absl::Status st = s.Select(name, examine);
  if (!st.ok()) {
    s.Tagged(c.tag, "NO", StoreErrorText(st));
    co_return absl::OkStatus();
  }
  const SelectedFolder& f = *s.selected;
  s.Untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
  s.Untagged(fmt::format("{} EXISTS", f.messages.size()));
  size_t recent = std::count_if(f.messages.begin(), f.messages.end(),
                                [](const SessionMessage& m) { return m.recent; });
  s.Untagged(fmt::format("{} RECENT", recent));
  auto unseen = std::find_if(f.messages.begin(), f.messages.end(),
                             [](const auto& m) { return (m.flags & mailbox::kSeen) == 0; });
  if (unseen != f.messages.end()) {
    s.Untagged(fmt::format("OK [UNSEEN {}] First unseen", unseen - f.messages.begin() + 1));
  }
  s.Untagged(fmt::format("OK [UIDVALIDITY {}] UIDs valid", f.uid_validity));
  s.Untagged(fmt::format("OK [UIDNEXT {}] Predicted next UID", f.uid_next));
  s.Untagged(examine ? "OK [PERMANENTFLAGS ()] Read-only mailbox"
                     : "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)] "
                       "Flags permitted");
  s.Tagged(c.tag, "OK",
           fmt::format("[{}] {} completed", examine ? "READ-ONLY" : "READ-WRITE", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Close(ImapSession& s, ImapCommand& c) {
  if (c.name == "CLOSE" && !s.selected->read_only) {
    // Silently expunge (no untagged EXPUNGE for CLOSE).
    std::string folder = s.selected->name;
    absl::StatusOr<std::vector<uint32_t>> gone = co_await s.store().Expunge(folder, std::nullopt);
    if (!gone.ok()) {
      s.Tagged(c.tag, "NO", StoreErrorText(gone.status()));
      co_return absl::OkStatus();
    }
  }
  s.Unselect();
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Expunge(ImapSession& s, ImapCommand& c) {
  bool uid = c.name == "UID EXPUNGE";
  if (s.selected->read_only) {
    s.Tagged(c.tag, "NO", "[READ-ONLY] Mailbox is read-only");
    co_return absl::OkStatus();
  }
  std::optional<std::vector<uint32_t>> only;
  if (uid) {
    std::optional<SequenceSet> set =
        c.args.size() == 1 ? SequenceSet::Parse(c.args[0].text) : std::nullopt;
    if (!set) {
      s.Tagged(c.tag, "BAD", "UID EXPUNGE needs a UID set");
      co_return absl::OkStatus();
    }
    std::vector<uint32_t> uids = s.selected->Uids();
    only.emplace();
    for (size_t i : set->Select(uids)) only->push_back(uids[i]);
  } else if (!c.args.empty()) {
    s.Tagged(c.tag, "BAD", "EXPUNGE takes no arguments");
    co_return absl::OkStatus();
  }
  std::string folder = s.selected->name;
  absl::StatusOr<std::vector<uint32_t>> gone = co_await s.store().Expunge(folder, std::move(only));
  if (!gone.ok()) {
    s.Tagged(c.tag, "NO", StoreErrorText(gone.status()));
    co_return absl::OkStatus();
  }
  s.ApplyExpunge(*gone);
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Idle(ImapSession& s, ImapCommand& c) {
  s.Raw("+ idling\r\n");
  Deadline deadline = After(s.options().timeouts.idle);
  for (;;) {
    if (s.selected) s.DeliverUpdates(true);
    absl::StatusOr<std::string_view> line = co_await s.WaitIdle(deadline);
    if (!line.ok()) {
      if (absl::IsCancelled(line.status()) && !s.stopping()) continue;  // a push arrived
      if (absl::IsResourceExhausted(line.status())) {
        s.Tagged(c.tag, "BAD", "Expected DONE");
        co_return absl::OkStatus();
      }
      co_return line.status();
    }
    if (absl::EqualsIgnoreCase(absl::string_view(line->data(), line->size()), "DONE")) {
      s.Tagged(c.tag, "OK", "IDLE terminated");
    } else {
      s.Tagged(c.tag, "BAD", "Expected DONE");
    }
    co_return absl::OkStatus();
  }
}

}  // namespace salvo::imap::commands
