// The command table of the inbound SMTP session: one row per verb,
// {verb, name, flags, check, proceed}, after Postfix smtpd's cmd_table and
// OpenSMTPD's check/proceed split.
//
//  - flags state the rules shared by many commands (arguments required or
//    forbidden, EHLO first, STARTTLS first, AUTH first, a payload that
//    follows the command line) and are checked in that order by Dispatch;
//  - check(session, command) answers what is specific (state: 503, syntax:
//    501/555, policy: 550/552/553...) and fills in the parsed parameters;
//    it changes nothing;
//  - proceed(session, command) does the work and queues the reply.
// A command with kHasPayload (BDAT) has its chunk read and dropped when a
// check refuses it, so the chunk is never mistaken for commands.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/loop/task.h"
#include "engine/smtp/reply.h"
#include "engine/smtp/server/command_parser.h"

namespace salvo::smtp {

class ServerSession;

enum CommandFlag : uint32_t {
  kNoArgs = 1u << 0,      // 501 5.5.4 when arguments are given
  kNeedsArgs = 1u << 1,   // 501 5.5.4 when none are
  kNeedsTls = 1u << 2,    // 530 5.7.0 before STARTTLS when require_tls
  kNeedsHelo = 1u << 3,   // 503 5.5.1 before EHLO/HELO
  kNeedsAuth = 1u << 4,   // 530 5.7.0 before AUTH when require_auth
  kHasPayload = 1u << 5,  // octets follow the line (BDAT)
};

// A command line and what its check parsed from it.
struct Command {
  CommandLine line;
  std::string helo;  // EHLO/HELO
  MailCommand mail;
  RcptCommand rcpt;
  BdatCommand bdat;
  AuthCommand auth;
};

using CheckFn = std::optional<SmtpReply> (*)(const ServerSession&, Command&);
using ProceedFn = Task<absl::Status> (*)(ServerSession&, Command&);

struct CommandSpec {
  Verb verb;
  std::string_view name;
  uint32_t flags;
  std::string_view usage;  // "Syntax: ..." text for 501
  CheckFn check;           // may be null: flags say it all
  ProceedFn proceed;
};

// The row for `verb`, or null (unknown verb).
const CommandSpec* FindCommand(Verb verb);

// Runs one command line through the table. An error status means the
// connection failed and the session must end.
Task<absl::Status> Dispatch(ServerSession& session, std::string_view line);

}  // namespace salvo::smtp
