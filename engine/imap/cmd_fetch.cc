// FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2). Metadata items come from
// the sequence map; content items read the message from the store (one read
// per message, off the ring) and parse it once for all items. A non-peek
// body section sets \Seen first (one StoreFlags for the whole set) and the
// response then carries FLAGS.
#include <algorithm>

#include "engine/imap/command_table.h"
#include "engine/imap/envelope.h"
#include "engine/imap/fetch_items.h"
#include "engine/imap/imap_session.h"
#include "engine/imap/imap_string.h"
#include "engine/imap/mime_message.h"
#include "engine/imap/sequence_set.h"
#include "fmt/format.h"

namespace salvo::imap::commands {
namespace {

using Kind = FetchItem::Kind;

void AppendItems(std::string& out, const FetchRequest& req, const SessionMessage& m,
                 const MimeMessage* message) {
  bool first = true;
  for (const FetchItem& item : req.items) {
    if (!first) out += ' ';
    first = false;
    switch (item.kind) {
      case Kind::kFlags:
        out += "FLAGS " + FlagList(m.flags, m.recent);
        break;
      case Kind::kUid:
        out += fmt::format("UID {}", m.uid);
        break;
      case Kind::kInternalDate:
        out += fmt::format("INTERNALDATE \"{}\"",
                           FormatInternalDate(absl::FromUnixSeconds(m.internal_date)));
        break;
      case Kind::kSize:
        out += fmt::format("RFC822.SIZE {}", m.size);
        break;
      case Kind::kEnvelope:
        out += "ENVELOPE ";
        AppendEnvelope(out, message->root());
        break;
      case Kind::kBody:
      case Kind::kBodyStructure:
        out += item.kind == Kind::kBody ? "BODY " : "BODYSTRUCTURE ";
        AppendBodyStructure(out, message->root(), item.kind == Kind::kBodyStructure);
        break;
      case Kind::kSection: {
        std::optional<std::string> data = message->Section(item.section);
        std::string bytes = data.value_or("");
        out += item.name;
        if (item.partial_start) {
          out += fmt::format("<{}>", *item.partial_start);
          uint64_t start = std::min<uint64_t>(*item.partial_start, bytes.size());
          bytes = bytes.substr(start, item.partial_length);
        }
        out += ' ';
        AppendLiteral(out, bytes);
        break;
      }
    }
  }
}

bool SectionsValid(const FetchRequest& req) {
  MimeMessage probe("");
  for (const FetchItem& item : req.items) {
    if (item.kind == Kind::kSection && !probe.Section(item.section)) return false;
  }
  return true;
}

}  // namespace

Task<absl::Status> Fetch(ImapSession& s, ImapCommand& c) {
  bool uid = c.name == "UID FETCH";
  std::optional<SequenceSet> set =
      c.args.empty() ? std::nullopt : SequenceSet::Parse(c.args[0].text);
  if (!set) {
    s.Tagged(c.tag, "BAD", "Bad sequence set");
    co_return absl::OkStatus();
  }
  absl::StatusOr<FetchRequest> req = ParseFetch(c.args, 1, uid);
  if (!req.ok() || !SectionsValid(*req)) {
    s.Tagged(c.tag, "BAD", req.ok() ? "Bad section" : std::string(req.status().message()));
    co_return absl::OkStatus();
  }
  SelectedFolder& f = *s.selected;
  std::vector<size_t> indexes;
  if (uid) {
    indexes = set->Select(f.Uids());
  } else {
    for (uint32_t msn : set->Expand(static_cast<uint32_t>(f.messages.size()))) {
      indexes.push_back(msn - 1);
    }
    if (indexes.empty() && !f.messages.empty()) {
      s.Tagged(c.tag, "BAD", "No such message");
      co_return absl::OkStatus();
    }
  }
  if (req->sets_seen && !f.read_only) {
    std::vector<uint32_t> unseen;
    for (size_t i : indexes) {
      if ((f.messages[i].flags & mailbox::kSeen) == 0) unseen.push_back(f.messages[i].uid);
    }
    if (!unseen.empty()) {
      std::string folder = f.name;
      auto updated = co_await s.store().StoreFlags(folder, std::move(unseen), mailbox::FlagOp::kAdd,
                                                   mailbox::kSeen);
      if (updated.ok()) {
        s.ApplyFlags(*updated, ImapSession::FlagReport::kNone, false);
        bool has_flags = std::any_of(req->items.begin(), req->items.end(),
                                     [](const FetchItem& i) { return i.kind == Kind::kFlags; });
        if (!has_flags) req->items.push_back(FetchItem{.kind = Kind::kFlags});
      }
    }
  }
  // Indexes stay valid: nothing is removed from the map until the command ends.
  std::vector<uint32_t> uids;
  for (size_t i : indexes) uids.push_back(s.selected->messages[i].uid);
  for (size_t k = 0; k < uids.size(); ++k) {
    if (!s.selected) break;
    uint32_t msn = s.selected->Msn(uids[k]);
    if (msn == 0) continue;
    std::optional<std::string> content;
    std::optional<MimeMessage> message;
    if (req->needs_content) {
      std::string folder = s.selected->name;
      absl::StatusOr<std::string> read = co_await s.store().Read(folder, uids[k]);
      if (!read.ok()) continue;  // expunged meanwhile by another session
      content = std::move(*read);
      message.emplace(*content);
    }
    msn = s.selected->Msn(uids[k]);
    if (msn == 0) continue;
    std::string out = fmt::format("* {} FETCH (", msn);
    AppendItems(out, *req, s.selected->messages[msn - 1], message ? &*message : nullptr);
    out += ")\r\n";
    s.Raw(out);
    absl::Status st = co_await s.FlushIfLarge();
    if (!st.ok()) co_return st;
  }
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

}  // namespace salvo::imap::commands
