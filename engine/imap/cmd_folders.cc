// Folder commands (RFC 3501 §6.3): LIST/LSUB with '*' and '%' wildcards
// and the '/' delimiter, NAMESPACE (RFC 2342), CREATE, DELETE, RENAME,
// SUBSCRIBE/UNSUBSCRIBE, STATUS, APPEND (with UIDPLUS APPENDUID).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "engine/base/strings.h"
#include "engine/imap/command_table.h"
#include "engine/imap/imap_session.h"
#include "engine/imap/imap_string.h"
#include "engine/imap/mime_message.h"
#include "fmt/format.h"

namespace salvo::imap::commands {
namespace {

// '*' matches anything, '%' anything but the delimiter (dynamic
// programming: no exponential backtracking on hostile patterns).
bool WildcardMatch(std::string_view pattern, std::string_view name) {
  std::vector<bool> row(name.size() + 1, false), next(name.size() + 1);
  row[0] = true;
  for (char p : pattern) {
    std::fill(next.begin(), next.end(), false);
    for (size_t i = 0; i <= name.size(); ++i) {
      if (p == '*' || p == '%') {
        bool prev = (i > 0) && next[i - 1] && (p == '*' || name[i - 1] != '/');
        next[i] = row[i] || prev;
      } else if (i > 0 && row[i - 1] && name[i - 1] == p) {
        next[i] = true;
      }
    }
    std::swap(row, next);
  }
  return row[name.size()];
}

bool ValidName(const std::string& name) { return !name.empty() && name.size() <= 200; }

// Folder name argument (astring), canonical; nullopt after a BAD reply.
std::optional<std::string> FolderArg(ImapSession& s, ImapCommand& c, size_t i) {
  if (i >= c.args.size() || !c.args[i].IsAString()) {
    s.Tagged(c.tag, "BAD", "Missing mailbox name");
    return std::nullopt;
  }
  return CanonicalFolder(c.args[i].text);
}

std::optional<absl::Time> ParseDateTime(std::string_view text) {
  std::string t(text);
  if (!t.empty() && t[0] == ' ') t[0] = '0';
  absl::Time out;
  std::string err;
  if (!absl::ParseTime("%d-%b-%Y %H:%M:%S %z", t, &out, &err)) return std::nullopt;
  return out;
}

}  // namespace

std::string StoreErrorText(const absl::Status& st) {
  std::string why(st.message());
  if (absl::IsNotFound(st)) return "[NONEXISTENT] " + why;
  if (absl::IsAlreadyExists(st)) return "[ALREADYEXISTS] " + why;
  if (absl::IsFailedPrecondition(st) || absl::IsInvalidArgument(st)) return "[CANNOT] " + why;
  if (absl::IsResourceExhausted(st)) return "[LIMIT] " + why;
  return "[UNAVAILABLE] " + why;
}

std::optional<uint8_t> ParseFlags(const ImapArg& arg) {
  std::vector<const ImapArg*> items;
  if (arg.kind == ImapArg::kList) {
    for (const ImapArg& a : arg.list) items.push_back(&a);
  } else {
    items.push_back(&arg);
  }
  uint8_t flags = 0;
  for (const ImapArg* a : items) {
    if (a->kind != ImapArg::kAtom) return std::nullopt;
    std::string f = absl::AsciiStrToUpper(a->text);
    if (f == "\\SEEN") {
      flags |= mailbox::kSeen;
    } else if (f == "\\ANSWERED") {
      flags |= mailbox::kAnswered;
    } else if (f == "\\FLAGGED") {
      flags |= mailbox::kFlagged;
    } else if (f == "\\DELETED") {
      flags |= mailbox::kDeleted;
    } else if (f == "\\DRAFT") {
      flags |= mailbox::kDraft;
    } else if (!f.empty() && f[0] == '\\') {
      return std::nullopt;  // \Recent and unknown system flags
    }
  }
  return flags;
}

Task<absl::Status> List(ImapSession& s, ImapCommand& c) {
  bool lsub = c.name == "LSUB";
  if (c.args.size() != 2 || !c.args[0].IsAString() || !c.args[1].IsAString()) {
    s.Tagged(c.tag, "BAD", fmt::format("{} needs a reference and a mailbox pattern", c.name));
    co_return absl::OkStatus();
  }
  const std::string& reference = c.args[0].text;
  const std::string& pattern = c.args[1].text;
  if (pattern.empty()) {
    s.Untagged(fmt::format("{} (\\Noselect) \"/\" \"\"", c.name));
    s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
    co_return absl::OkStatus();
  }
  std::string full = reference + pattern;
  std::vector<mailbox::FolderInfo> folders = s.store().ListFolders();
  for (const mailbox::FolderInfo& f : folders) {
    if (lsub && !f.subscribed) continue;
    bool match = WildcardMatch(full, f.name) ||
                 (f.name == "INBOX" && WildcardMatch(absl::AsciiStrToUpper(full), f.name));
    if (!match) continue;
    bool children = std::any_of(folders.begin(), folders.end(), [&](const auto& o) {
      return absl::StartsWith(o.name, f.name + "/");
    });
    std::string line =
        fmt::format("{} ({}) \"/\" ", c.name, children ? "\\HasChildren" : "\\HasNoChildren");
    AppendAString(line, f.name);
    s.Untagged(line);
  }
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

Task<absl::Status> Namespace(ImapSession& s, ImapCommand& c) {
  s.Untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  s.Tagged(c.tag, "OK", "NAMESPACE completed");
  co_return absl::OkStatus();
}

Task<absl::Status> Create(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> name = FolderArg(s, c, 0);
  if (!name) co_return absl::OkStatus();
  if (!ValidName(*name) || *name == "INBOX") {
    s.Tagged(c.tag, "NO", *name == "INBOX" ? "[ALREADYEXISTS] INBOX exists" : "[CANNOT] Bad name");
    co_return absl::OkStatus();
  }
  absl::Status st = co_await s.store().CreateFolder(*name);
  s.Tagged(c.tag, st.ok() ? "OK" : "NO", st.ok() ? "CREATE completed" : StoreErrorText(st));
  co_return absl::OkStatus();
}

Task<absl::Status> Delete(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> name = FolderArg(s, c, 0);
  if (!name) co_return absl::OkStatus();
  if (s.selected && s.selected->name == *name) s.Unselect();
  absl::Status st = co_await s.store().DeleteFolder(*name);
  s.Tagged(c.tag, st.ok() ? "OK" : "NO", st.ok() ? "DELETE completed" : StoreErrorText(st));
  co_return absl::OkStatus();
}

Task<absl::Status> Rename(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> from = FolderArg(s, c, 0);
  if (!from) co_return absl::OkStatus();
  std::optional<std::string> to = FolderArg(s, c, 1);
  if (!to) co_return absl::OkStatus();
  if (!ValidName(*to)) {
    s.Tagged(c.tag, "NO", "[CANNOT] Bad name");
    co_return absl::OkStatus();
  }
  absl::Status st = co_await s.store().RenameFolder(*from, *to);
  s.Tagged(c.tag, st.ok() ? "OK" : "NO", st.ok() ? "RENAME completed" : StoreErrorText(st));
  co_return absl::OkStatus();
}

Task<absl::Status> Subscribe(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> name = FolderArg(s, c, 0);
  if (!name) co_return absl::OkStatus();
  absl::Status st = co_await s.store().SetSubscribed(*name, c.name == "SUBSCRIBE");
  s.Tagged(c.tag, st.ok() ? "OK" : "NO",
           st.ok() ? fmt::format("{} completed", c.name) : StoreErrorText(st));
  co_return absl::OkStatus();
}

Task<absl::Status> Status(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> name = FolderArg(s, c, 0);
  if (!name) co_return absl::OkStatus();
  if (c.args.size() != 2 || c.args[1].kind != ImapArg::kList || c.args[1].list.empty()) {
    s.Tagged(c.tag, "BAD", "STATUS needs a list of items");
    co_return absl::OkStatus();
  }
  absl::StatusOr<mailbox::FolderStatus> st = s.store().Status(*name);
  if (!st.ok()) {
    s.Tagged(c.tag, "NO", StoreErrorText(st.status()));
    co_return absl::OkStatus();
  }
  std::string items;
  for (const ImapArg& a : c.args[1].list) {
    std::string item = absl::AsciiStrToUpper(a.text);
    uint64_t value = 0;
    if (item == "MESSAGES") {
      value = st->messages;
    } else if (item == "RECENT") {
      value = st->recent;
    } else if (item == "UIDNEXT") {
      value = st->uid_next;
    } else if (item == "UIDVALIDITY") {
      value = st->uid_validity;
    } else if (item == "UNSEEN") {
      value = st->unseen;
    } else if (item == "SIZE") {
      value = st->total_bytes;
    } else {
      s.Tagged(c.tag, "BAD", fmt::format("Unknown STATUS item {}", item));
      co_return absl::OkStatus();
    }
    if (!items.empty()) items += ' ';
    items += fmt::format("{} {}", item, value);
  }
  std::string line = "STATUS ";
  AppendAString(line, *name);
  s.Untagged(fmt::format("{} ({})", line, items));
  s.Tagged(c.tag, "OK", "STATUS completed");
  co_return absl::OkStatus();
}

Task<absl::Status> Append(ImapSession& s, ImapCommand& c) {
  std::optional<std::string> name = FolderArg(s, c, 0);
  if (!name) co_return absl::OkStatus();
  if (c.args.size() < 2 || c.args.size() > 4 || c.args.back().kind != ImapArg::kString) {
    s.Tagged(c.tag, "BAD", "APPEND needs a mailbox and a message literal");
    co_return absl::OkStatus();
  }
  uint8_t flags = 0;
  absl::Time date = absl::Now();
  for (size_t i = 1; i + 1 < c.args.size(); ++i) {
    const ImapArg& a = c.args[i];
    if (a.kind == ImapArg::kList) {
      std::optional<uint8_t> f = ParseFlags(a);
      if (!f) {
        s.Tagged(c.tag, "BAD", "Bad flags");
        co_return absl::OkStatus();
      }
      flags = *f;
    } else {
      std::optional<absl::Time> t = ParseDateTime(a.text);
      if (!t) {
        s.Tagged(c.tag, "BAD", "Bad date-time");
        co_return absl::OkStatus();
      }
      date = *t;
    }
  }
  std::string content = std::move(c.args.back().text);
  if (content.empty()) {
    s.Tagged(c.tag, "NO", "Empty message");
    co_return absl::OkStatus();
  }
  absl::StatusOr<mailbox::FolderStatus> target = s.store().Status(*name);
  if (!target.ok()) {
    s.Tagged(c.tag, "NO",
             absl::IsNotFound(target.status()) ? "[TRYCREATE] No such mailbox"
                                               : StoreErrorText(target.status()));
    co_return absl::OkStatus();
  }
  mailbox::MessageAttributes attributes;
  {
    MimeMessage m(content);
    if (auto v = m.root().Field("X-Salvo-Category")) attributes.category = std::string(*v);
    if (auto v = m.root().Field("X-Salvo-Campaign")) attributes.campaign = std::string(*v);
  }
  uint64_t size = content.size();
  absl::StatusOr<uint32_t> uid =
      co_await s.store().Append(*name, std::move(content), flags, date, attributes);
  if (!uid.ok()) {
    s.Tagged(c.tag, "NO", StoreErrorText(uid.status()));
    co_return absl::OkStatus();
  }
  if (s.selected && s.selected->name == *name &&
      (s.selected->messages.empty() || s.selected->messages.back().uid < *uid)) {
    SessionMessage meta;
    meta.uid = *uid;
    meta.flags = flags;
    meta.recent = !s.selected->read_only;
    meta.internal_date = absl::ToUnixSeconds(date);
    meta.size = size;
    s.selected->messages.push_back(meta);
    s.Untagged(fmt::format("{} EXISTS", s.selected->messages.size()));
  }
  s.Tagged(c.tag, "OK",
           fmt::format("[APPENDUID {} {}] APPEND completed", target->uid_validity, *uid));
  co_return absl::OkStatus();
}

}  // namespace salvo::imap::commands
