// SEARCH and UID SEARCH (RFC 3501 §6.4.4). Keys that need only metadata
// (flags, dates, sizes, sets, bounce category/campaign) run over the
// sequence map without touching the content; header and body keys read
// each candidate message once.
#include <string>

#include "engine/imap/command_table.h"
#include "engine/imap/imap_session.h"
#include "engine/imap/mime_message.h"
#include "engine/imap/search_query.h"
#include "fmt/format.h"

namespace salvo::imap::commands {

Task<absl::Status> Search(ImapSession& s, ImapCommand& c) {
  bool uid = c.name == "UID SEARCH";
  absl::StatusOr<SearchKey> key = ParseSearch(c.args, 0);
  if (!key.ok()) {
    std::string why(key.status().message());
    if (why == "[BADCHARSET]") {
      s.Tagged(c.tag, "NO", "[BADCHARSET (US-ASCII UTF-8)] Unsupported charset");
    } else {
      s.Tagged(c.tag, "BAD", why);
    }
    co_return absl::OkStatus();
  }
  bool content = NeedsContent(*key);
  // The map does not change while a command runs (pushes are applied at
  // its end), so indexes are MSNs - 1 throughout.
  const std::vector<SessionMessage>& messages = s.selected->messages;
  std::string folder = s.selected->name;
  std::vector<mailbox::MessageMeta> with_attributes;  // ascending UIDs, like the map
  if (NeedsAttributes(*key)) {
    absl::StatusOr<mailbox::FolderView> view = s.store().View(folder, false);
    if (view.ok()) with_attributes = std::move(view->messages);
  }
  size_t a = 0;
  SearchTarget t;
  t.max_msn = static_cast<uint32_t>(messages.size());
  t.max_uid = messages.empty() ? 0 : messages.back().uid;
  std::string out = "* SEARCH";
  for (size_t i = 0; i < messages.size(); ++i) {
    mailbox::MessageMeta meta = messages[i].ToMeta();
    while (a < with_attributes.size() && with_attributes[a].uid < meta.uid) ++a;
    if (a < with_attributes.size() && with_attributes[a].uid == meta.uid) {
      meta.attributes = std::move(with_attributes[a].attributes);
    }
    t.meta = &meta;
    t.msn = static_cast<uint32_t>(i + 1);
    std::optional<std::string> text;
    std::optional<MimeMessage> message;
    if (content) {
      absl::StatusOr<std::string> read = co_await s.store().Read(folder, meta.uid);
      if (!read.ok()) continue;  // expunged by another session meanwhile
      text = std::move(*read);
      message.emplace(*text);
    }
    t.message = message ? &*message : nullptr;
    if (Matches(*key, t)) {
      out += ' ';
      out += std::to_string(uid ? meta.uid : t.msn);
    }
  }
  out += "\r\n";
  s.Raw(out);
  s.Tagged(c.tag, "OK", fmt::format("{} completed", c.name));
  co_return absl::OkStatus();
}

}  // namespace salvo::imap::commands
