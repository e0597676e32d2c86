// The check and proceed functions of the command table (command_table.h),
// one group per file:
//   hello_commands.cc  EHLO HELO RSET NOOP VRFY EXPN HELP QUIT
//   mail_commands.cc   MAIL RCPT
//   data_commands.cc   DATA BDAT, and the hand-over to the MessageSink
//   auth_command.cc    AUTH
//   starttls_command.cc STARTTLS
// Internal to engine/smtp/server.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "engine/loop/task.h"
#include "engine/smtp/server/command_table.h"

namespace salvo::smtp::commands {

std::optional<SmtpReply> CheckHelo(const ServerSession& s, Command& c);
Task<absl::Status> ProceedEhlo(ServerSession& s, Command& c);
Task<absl::Status> ProceedHelo(ServerSession& s, Command& c);
Task<absl::Status> ProceedRset(ServerSession& s, Command& c);
Task<absl::Status> ProceedNoop(ServerSession& s, Command& c);
Task<absl::Status> ProceedVrfy(ServerSession& s, Command& c);
Task<absl::Status> ProceedExpn(ServerSession& s, Command& c);
Task<absl::Status> ProceedHelp(ServerSession& s, Command& c);
Task<absl::Status> ProceedQuit(ServerSession& s, Command& c);

std::optional<SmtpReply> CheckMail(const ServerSession& s, Command& c);
Task<absl::Status> ProceedMail(ServerSession& s, Command& c);
std::optional<SmtpReply> CheckRcpt(const ServerSession& s, Command& c);
Task<absl::Status> ProceedRcpt(ServerSession& s, Command& c);

std::optional<SmtpReply> CheckData(const ServerSession& s, Command& c);
Task<absl::Status> ProceedData(ServerSession& s, Command& c);
std::optional<SmtpReply> CheckBdat(const ServerSession& s, Command& c);
Task<absl::Status> ProceedBdat(ServerSession& s, Command& c);

std::optional<SmtpReply> CheckAuth(const ServerSession& s, Command& c);
Task<absl::Status> ProceedAuth(ServerSession& s, Command& c);

std::optional<SmtpReply> CheckStartTls(const ServerSession& s, Command& c);
Task<absl::Status> ProceedStartTls(ServerSession& s, Command& c);

}  // namespace salvo::smtp::commands
