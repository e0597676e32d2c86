// Pop3Server: the accept loop of one POP3 listener (pop3 with STLS, or
// pop3s with implicit TLS) on one shard, serving the bounce mailbox. Each
// accepted connection runs as a Pop3Session spawned on the ring's gate (so
// shutdown waits for it); connections over the ConnectionLimiter's total or
// per-address limit get "-ERR [SYS/TEMP]" at once and are closed.
//
//   auto listener = Listener::Bind(address);           // SO_REUSEPORT: one per shard
//   Pop3Server server(options);
//   co_await server.Serve(std::move(*listener));       // until the ring stops
//
// Serve() returns once the ring is asked to stop (the listener is closed
// then; running sessions answer "-ERR [SYS/TEMP]" at their next wait and
// end without UPDATE).
#pragma once

#include <memory>

#include "engine/loop/task.h"
#include "engine/net/socket.h"
#include "engine/pop3/pop3_options.h"

namespace salvo::pop3 {

class Pop3Server {
 public:
  explicit Pop3Server(std::shared_ptr<const Pop3Options> options);

  // Replaces the options new sessions start with (config reload); running
  // sessions keep theirs.
  void set_options(std::shared_ptr<const Pop3Options> options) { options_ = std::move(options); }
  const std::string& listener_name() const { return options_->listener_name; }

  Task<void> Serve(Listener listener);
  // Sessions running now on this server.
  int active_sessions() const { return *active_; }

 private:
  std::shared_ptr<const Pop3Options> options_;
  std::shared_ptr<int> active_ = std::make_shared<int>(0);  // shared with the session tasks
};

// One connection, start to end (what Serve spawns; also usable directly).
Task<void> RunPop3Session(Socket socket, std::shared_ptr<const Pop3Options> options);

}  // namespace salvo::pop3
