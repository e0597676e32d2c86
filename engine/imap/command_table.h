// The IMAP command table (after Dovecot's imap-commands.c and OpenSMTPD's
// table with flags): each verb, the states it is valid in, whether
// untagged EXPUNGE may be sent while it runs, and its handler (cmd_*.cc).
// A handler answers the command itself (Tagged); it returns a non-OK status
// only when the connection failed or timed out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/imap/command_parser.h"
#include "engine/loop/task.h"

namespace salvo::imap {

class ImapSession;
enum class SessionState;

enum StateMask : uint8_t {
  kNotAuthenticatedState = 1,
  kAuthenticatedState = 2,
  kSelectedState = 4,
  kAnyState = 7,
  kAuthenticatedOrSelected = 6,
};

using CommandHandler = Task<absl::Status> (*)(ImapSession&, ImapCommand&);

struct CommandSpec {
  std::string_view name;
  uint8_t states;
  bool allows_expunge;  // false: FETCH, STORE, SEARCH (RFC 3501 §7.4.1)
  CommandHandler handler;
};

const CommandSpec* FindCommand(std::string_view name);
bool StateAllows(const CommandSpec& spec, SessionState state);

// The handlers, by file.
namespace commands {
// Shared helpers (cmd_folders.cc): "[NONEXISTENT] ..." etc. for a store error;
// the system flags of a flag list or atom (nullopt: \Recent or junk;
// keywords are ignored, as PERMANENTFLAGS does not offer \*).
std::string StoreErrorText(const absl::Status& status);
std::optional<uint8_t> ParseFlags(const ImapArg& arg);

// cmd_auth.cc
Task<absl::Status> Capability(ImapSession& s, ImapCommand& c);
Task<absl::Status> Noop(ImapSession& s, ImapCommand& c);
Task<absl::Status> Logout(ImapSession& s, ImapCommand& c);
Task<absl::Status> Id(ImapSession& s, ImapCommand& c);
Task<absl::Status> Enable(ImapSession& s, ImapCommand& c);
Task<absl::Status> StartTls(ImapSession& s, ImapCommand& c);
Task<absl::Status> Login(ImapSession& s, ImapCommand& c);
Task<absl::Status> Authenticate(ImapSession& s, ImapCommand& c);
// cmd_folders.cc
Task<absl::Status> List(ImapSession& s, ImapCommand& c);
Task<absl::Status> Namespace(ImapSession& s, ImapCommand& c);
Task<absl::Status> Create(ImapSession& s, ImapCommand& c);
Task<absl::Status> Delete(ImapSession& s, ImapCommand& c);
Task<absl::Status> Rename(ImapSession& s, ImapCommand& c);
Task<absl::Status> Subscribe(ImapSession& s, ImapCommand& c);
Task<absl::Status> Status(ImapSession& s, ImapCommand& c);
Task<absl::Status> Append(ImapSession& s, ImapCommand& c);
// cmd_select.cc
Task<absl::Status> Select(ImapSession& s, ImapCommand& c);
Task<absl::Status> Close(ImapSession& s, ImapCommand& c);
Task<absl::Status> Expunge(ImapSession& s, ImapCommand& c);
Task<absl::Status> Idle(ImapSession& s, ImapCommand& c);
// cmd_fetch.cc
Task<absl::Status> Fetch(ImapSession& s, ImapCommand& c);
// cmd_store.cc
Task<absl::Status> Store(ImapSession& s, ImapCommand& c);
Task<absl::Status> Copy(ImapSession& s, ImapCommand& c);
// cmd_search.cc
Task<absl::Status> Search(ImapSession& s, ImapCommand& c);
}  // namespace commands

}  // namespace salvo::imap
