// The command table of the POP3 session: one row per verb,
// {verb, states, min_args, max_args, handler}. Dispatch checks the state
// (RFC 1939 §3: each command is valid in given states only) and the
// argument count before any handler runs, so a handler sees a well-formed
// command in a state where it is allowed — and no TRANSACTION handler, the
// only ones that touch the store, runs before a successful login.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "engine/loop/task.h"
#include "engine/pop3/command_parser.h"

namespace salvo::pop3 {

class Pop3Session;

enum StateMask : uint32_t {
  kInAuthorization = 1u << 0,
  kInTransaction = 1u << 1,
};

using HandlerFn = Task<absl::Status> (*)(Pop3Session&, const Command&);

struct CommandSpec {
  Verb verb;
  uint32_t states;  // StateMask bits
  int min_args;
  int max_args;  // PASS: not checked (the rest of the line is the password)
  std::string_view usage;
  HandlerFn handler;
};

// The row for `verb`, or null (unknown verb).
const CommandSpec* FindCommand(Verb verb);

// Runs one command line through the parser and the table. An error status
// means the connection failed and the session must end.
Task<absl::Status> Dispatch(Pop3Session& session, std::string_view line);

}  // namespace salvo::pop3
