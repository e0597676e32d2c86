#include "engine/imap/command_table.h"

#include "engine/imap/imap_session.h"

namespace salvo::imap {
namespace {

using namespace commands;

constexpr CommandSpec kCommands[] = {
    {"CAPABILITY", kAnyState, true, Capability},
    {"NOOP", kAnyState, true, Noop},
    {"LOGOUT", kAnyState, true, Logout},
    {"ID", kAnyState, true, Id},
    {"STARTTLS", kNotAuthenticatedState, true, StartTls},
    {"LOGIN", kNotAuthenticatedState, true, Login},
    {"AUTHENTICATE", kNotAuthenticatedState, true, Authenticate},
    {"ENABLE", kAuthenticatedOrSelected, true, Enable},
    {"SELECT", kAuthenticatedOrSelected, true, Select},
    {"EXAMINE", kAuthenticatedOrSelected, true, Select},
    {"CREATE", kAuthenticatedOrSelected, true, Create},
    {"DELETE", kAuthenticatedOrSelected, true, Delete},
    {"RENAME", kAuthenticatedOrSelected, true, Rename},
    {"SUBSCRIBE", kAuthenticatedOrSelected, true, Subscribe},
    {"UNSUBSCRIBE", kAuthenticatedOrSelected, true, Subscribe},
    {"LIST", kAuthenticatedOrSelected, true, List},
    {"LSUB", kAuthenticatedOrSelected, true, List},
    {"NAMESPACE", kAuthenticatedOrSelected, true, Namespace},
    {"STATUS", kAuthenticatedOrSelected, true, Status},
    {"APPEND", kAuthenticatedOrSelected, true, Append},
    {"IDLE", kAuthenticatedOrSelected, true, Idle},
    {"CHECK", kSelectedState, true, Noop},
    {"CLOSE", kSelectedState, true, Close},
    {"UNSELECT", kSelectedState, true, Close},
    {"EXPUNGE", kSelectedState, true, Expunge},
    {"UID EXPUNGE", kSelectedState, true, Expunge},
    {"SEARCH", kSelectedState, false, Search},
    {"UID SEARCH", kSelectedState, true, Search},
    {"FETCH", kSelectedState, false, Fetch},
    {"UID FETCH", kSelectedState, true, Fetch},
    {"STORE", kSelectedState, false, Store},
    {"UID STORE", kSelectedState, true, Store},
    {"COPY", kSelectedState, true, Copy},
    {"UID COPY", kSelectedState, true, Copy},
    {"MOVE", kSelectedState, true, Copy},
    {"UID MOVE", kSelectedState, true, Copy},
};

}  // namespace

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& spec : kCommands) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool StateAllows(const CommandSpec& spec, SessionState state) {
  switch (state) {
    case SessionState::kNotAuthenticated:
      return spec.states & kNotAuthenticatedState;
    case SessionState::kAuthenticated:
      return spec.states & kAuthenticatedState;
    case SessionState::kSelected:
      return spec.states & kSelectedState;
    case SessionState::kLogout:
      return false;
  }
  return false;
}

}  // namespace salvo::imap
