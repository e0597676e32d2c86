// The handlers of the command table (command_table.h), one group per file:
//   auth_commands.cc         USER PASS APOP AUTH STLS CAPA, QUIT
//   transaction_commands.cc  STAT LIST UIDL TOP RETR DELE NOOP RSET
// Internal to engine/pop3.
#pragma once

#include "absl/status/status.h"
#include "engine/loop/task.h"
#include "engine/pop3/command_parser.h"

namespace salvo::pop3 {
class Pop3Session;
}

namespace salvo::pop3::commands {

Task<absl::Status> User(Pop3Session& s, const Command& c);
Task<absl::Status> Pass(Pop3Session& s, const Command& c);
Task<absl::Status> Apop(Pop3Session& s, const Command& c);
Task<absl::Status> Auth(Pop3Session& s, const Command& c);
Task<absl::Status> Stls(Pop3Session& s, const Command& c);
Task<absl::Status> Capa(Pop3Session& s, const Command& c);
Task<absl::Status> Quit(Pop3Session& s, const Command& c);

Task<absl::Status> Stat(Pop3Session& s, const Command& c);
Task<absl::Status> List(Pop3Session& s, const Command& c);
Task<absl::Status> Uidl(Pop3Session& s, const Command& c);
Task<absl::Status> Top(Pop3Session& s, const Command& c);
Task<absl::Status> Retr(Pop3Session& s, const Command& c);
Task<absl::Status> Dele(Pop3Session& s, const Command& c);
Task<absl::Status> Noop(Pop3Session& s, const Command& c);
Task<absl::Status> Rset(Pop3Session& s, const Command& c);

}  // namespace salvo::pop3::commands
