// TRANSACTION-state commands (RFC 1939 §5, §7): STAT LIST UIDL TOP RETR DELE
// NOOP RSET. They work on the session's Maildrop view; only RETR and TOP
// read from the store (the content), and nothing here changes it — DELE
// and RETR only mark, for the UPDATE state (Pop3Session::Update).
#include <string>

#include "engine/pop3/commands.h"
#include "engine/pop3/multiline.h"
#include "engine/pop3/session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::pop3::commands {
namespace {

// The message `arg` names, or null with the -ERR queued.
const Maildrop::Message* FindMessage(Pop3Session& s, std::string_view arg, uint32_t* number) {
  std::optional<uint32_t> n = ParseMessageNumber(arg);
  if (!n) {
    s.Err("Invalid message number");
    return nullptr;
  }
  const Maildrop::Message* m = s.maildrop.Find(*n);
  if (m == nullptr) {
    bool deleted = *n <= s.maildrop.total() && s.maildrop.at(*n).deleted;
    s.Err(deleted ? "Message already deleted" : "No such message");
    return nullptr;
  }
  *number = *n;
  return m;
}

// The content of `m` from the store, or nullopt with the -ERR queued.
Task<std::optional<std::string>> ReadContent(Pop3Session& s, const Maildrop::Message& m) {
  const Pop3Options& o = s.options();
  auto op = o.store->Read(o.folder, m.uid);
  absl::StatusOr<std::string> content = co_await op;
  if (content.ok()) co_return std::move(*content);
  if (absl::IsNotFound(content.status())) {
    s.Err("Message no longer exists (removed by another session)", false);
  } else {
    spdlog::warn("pop3d {}: reading UID {} of \"{}\" failed: {}", s.session_id(), m.uid, o.folder,
                 content.status().ToString());
    s.Err("[SYS/TEMP] Cannot read the message; try again later", false);
  }
  co_return std::nullopt;
}

}  // namespace

Task<absl::Status> Stat(Pop3Session& s, const Command&) {
  s.Ok(fmt::format("{} {}", s.maildrop.count(), s.maildrop.octets()));
  co_return absl::OkStatus();
}

Task<absl::Status> List(Pop3Session& s, const Command& c) {
  uint32_t n = 0;
  if (!c.args.empty()) {
    if (const Maildrop::Message* m = FindMessage(s, c.args[0], &n)) {
      s.Ok(fmt::format("{} {}", n, m->size));
    }
    co_return absl::OkStatus();
  }
  s.Ok(fmt::format("{} messages ({} octets)", s.maildrop.count(), s.maildrop.octets()));
  for (uint32_t i = 1; i <= s.maildrop.total(); ++i) {
    if (const Maildrop::Message* m = s.maildrop.Find(i)) s.Line(fmt::format("{} {}", i, m->size));
  }
  s.Line(".");
  co_return absl::OkStatus();
}

Task<absl::Status> Uidl(Pop3Session& s, const Command& c) {
  uint32_t n = 0;
  if (!c.args.empty()) {
    if (const Maildrop::Message* m = FindMessage(s, c.args[0], &n)) {
      s.Ok(fmt::format("{} {}", n, s.maildrop.UniqueId(*m)));
    }
    co_return absl::OkStatus();
  }
  s.Ok("Unique-id listing follows");
  for (uint32_t i = 1; i <= s.maildrop.total(); ++i) {
    if (const Maildrop::Message* m = s.maildrop.Find(i)) {
      s.Line(fmt::format("{} {}", i, s.maildrop.UniqueId(*m)));
    }
  }
  s.Line(".");
  co_return absl::OkStatus();
}

Task<absl::Status> Top(Pop3Session& s, const Command& c) {
  uint32_t n = 0;
  const Maildrop::Message* m = FindMessage(s, c.args[0], &n);
  if (m == nullptr) co_return absl::OkStatus();
  std::optional<uint32_t> lines = ParseLineCount(c.args[1]);
  if (!lines) {
    s.Err("Invalid line count");
    co_return absl::OkStatus();
  }
  std::optional<std::string> content = co_await ReadContent(s, *m);
  if (!content) co_return absl::OkStatus();
  absl::Status st =
      co_await s.SendContent("Top of message follows", TopOfMessage(*content, *lines));
  co_return st;
}

Task<absl::Status> Retr(Pop3Session& s, const Command& c) {
  uint32_t n = 0;
  const Maildrop::Message* m = FindMessage(s, c.args[0], &n);
  if (m == nullptr) co_return absl::OkStatus();
  std::optional<std::string> content = co_await ReadContent(s, *m);
  if (!content) co_return absl::OkStatus();
  s.maildrop.MarkRetrieved(n);
  std::string status = fmt::format("{} octets", m->size);
  absl::Status st = co_await s.SendContent(status, *content);
  co_return st;
}

Task<absl::Status> Dele(Pop3Session& s, const Command& c) {
  uint32_t n = 0;
  if (FindMessage(s, c.args[0], &n) == nullptr) co_return absl::OkStatus();
  s.maildrop.MarkDeleted(n);
  s.Ok(fmt::format("Message {} deleted", n));
  co_return absl::OkStatus();
}

Task<absl::Status> Noop(Pop3Session& s, const Command&) {
  s.Ok("");
  co_return absl::OkStatus();
}

Task<absl::Status> Rset(Pop3Session& s, const Command&) {
  s.maildrop.UnmarkAll();
  s.Ok(
      fmt::format("Maildrop has {} messages ({} octets)", s.maildrop.count(), s.maildrop.octets()));
  co_return absl::OkStatus();
}

}  // namespace salvo::pop3::commands
