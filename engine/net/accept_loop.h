// AcceptConnections: the accept loop of every protocol listener (SMTP, POP3,
// IMAP) on one shard. It accepts until the ring is asked to stop (the
// listener is closed then), hands each connection to `start` (which spawns
// the session on the ring's gate and returns false once the gate is
// closing), and on EMFILE-like errors waits 100 ms instead of spinning.
//
// The listener is closed on return: a closed listener holds the ring until
// its last CQE (Ring::Hold), so nothing leaks when the shard stops at once.
#pragma once

#include <string>

#include "absl/functional/any_invocable.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"

namespace salvo {

// `daemon` names the server in logs ("smtpd", "pop3d", "imapd"); `name` the
// listener.
Task<void> AcceptConnections(Listener listener, std::string daemon, std::string name,
                             absl::AnyInvocable<bool(Socket)> start);

}  // namespace salvo
