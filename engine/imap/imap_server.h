// ImapServer: the accept loop of one IMAP listener on one shard. Each
// accepted connection runs as an ImapSession spawned on the ring's gate (so
// shutdown waits for it); connections over the ConnectionLimiter's total or
// per-address limit get "* BYE" at once and are closed.
//
//   auto listener = Listener::Bind(address);     // SO_REUSEPORT: one per shard
//   ImapServer server(options);
//   co_await server.Serve(std::move(*listener));  // until the ring stops
//
// Serve() returns once the ring is asked to stop; running sessions answer
// "* BYE" at their next wait and end.
#pragma once

#include <memory>

#include "engine/imap/imap_options.h"
#include "engine/loop/task.h"
#include "engine/net/socket.h"

namespace salvo::imap {

class ImapServer {
 public:
  explicit ImapServer(std::shared_ptr<const ImapOptions> options);

  // Replaces the options new sessions start with (config reload).
  void set_options(std::shared_ptr<const ImapOptions> options) { options_ = std::move(options); }
  const std::string& listener_name() const { return options_->listener_name; }

  Task<void> Serve(Listener listener);
  int active_sessions() const { return *active_; }

 private:
  std::shared_ptr<const ImapOptions> options_;
  std::shared_ptr<int> active_ = std::make_shared<int>(0);
};

// One connection, start to end (what Serve spawns; also usable directly).
Task<void> RunImapSession(Socket socket, std::shared_ptr<const ImapOptions> options);

}  // namespace salvo::imap
