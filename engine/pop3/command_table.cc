#include "engine/pop3/command_table.h"

#include <array>

#include "engine/base/strings.h"
#include "engine/pop3/commands.h"
#include "engine/pop3/session.h"
#include "fmt/format.h"
#include "spdlog/spdlog.h"

namespace salvo::pop3 {
namespace {

constexpr uint32_t kAuth = kInAuthorization;
constexpr uint32_t kTrans = kInTransaction;
constexpr uint32_t kBoth = kInAuthorization | kInTransaction;

constexpr std::array<CommandSpec, 15> kCommands = {{
    {Verb::kUser, kAuth, 1, 1, "USER name", commands::User},
    {Verb::kPass, kAuth, 0, 0, "PASS string", commands::Pass},
    {Verb::kApop, kAuth, 2, 2, "APOP name digest", commands::Apop},
    {Verb::kAuth, kAuth, 0, 2, "AUTH mechanism [initial-response]", commands::Auth},
    {Verb::kStls, kAuth, 0, 0, "STLS", commands::Stls},
    {Verb::kCapa, kBoth, 0, 0, "CAPA", commands::Capa},
    {Verb::kQuit, kBoth, 0, 0, "QUIT", commands::Quit},
    {Verb::kStat, kTrans, 0, 0, "STAT", commands::Stat},
    {Verb::kList, kTrans, 0, 1, "LIST [msg]", commands::List},
    {Verb::kUidl, kTrans, 0, 1, "UIDL [msg]", commands::Uidl},
    {Verb::kTop, kTrans, 2, 2, "TOP msg n", commands::Top},
    {Verb::kRetr, kTrans, 1, 1, "RETR msg", commands::Retr},
    {Verb::kDele, kTrans, 1, 1, "DELE msg", commands::Dele},
    {Verb::kNoop, kTrans, 0, 0, "NOOP", commands::Noop},
    {Verb::kRset, kTrans, 0, 0, "RSET", commands::Rset},
}};

uint32_t StateBit(SessionState s) {
  switch (s) {
    case SessionState::kAuthorization:
      return kInAuthorization;
    case SessionState::kTransaction:
      return kInTransaction;
    case SessionState::kUpdate:
      return 0;
  }
  return 0;
}

}  // namespace

const CommandSpec* FindCommand(Verb verb) {
  for (const CommandSpec& spec : kCommands) {
    if (spec.verb == verb) return &spec;
  }
  return nullptr;
}

Task<absl::Status> Dispatch(Pop3Session& s, std::string_view line) {
  absl::StatusOr<Command> command = ParseCommand(line);
  if (!command.ok()) {
    s.Err(fmt::format("Syntax error: {}", ToStd(command.status().message())));
    co_return absl::OkStatus();
  }
  const CommandSpec* spec = FindCommand(command->verb);
  if (spec == nullptr) {
    spdlog::debug("pop3d {}: unknown command \"{}\"", s.session_id(),
                  Printable(command->keyword, 16));
    s.Err("Unknown command");
    co_return absl::OkStatus();
  }
  if ((spec->states & StateBit(s.state)) == 0) {
    s.Err(s.state == SessionState::kAuthorization ? "Not logged in"
                                                  : "Command not valid in this state");
    co_return absl::OkStatus();
  }
  int n = static_cast<int>(command->args.size());
  if (spec->verb != Verb::kPass && (n < spec->min_args || n > spec->max_args)) {
    s.Err(fmt::format("Syntax: {}", spec->usage));
    co_return absl::OkStatus();
  }
  absl::Status st = co_await spec->handler(s, *command);
  co_return st;
}

}  // namespace salvo::pop3
