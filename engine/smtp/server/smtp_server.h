// SmtpServer: the accept loop of one inbound SMTP listener on one shard.
// Each accepted connection runs as a ServerSession spawned on the ring's
// gate (so shutdown waits for it); connections over the ConnectionLimiter's
// total or per-address limit get "421 4.7.0" at once and are closed.
//
//   auto listener = Listener::Bind(address);           // SO_REUSEPORT: one per shard
//   SmtpServer server(options);
//   co_await server.Serve(std::move(*listener));       // until the ring stops
//
// Serve() returns once the ring is asked to stop (the listener is closed
// then; running sessions answer 421 4.3.2 at their next wait and end).
#pragma once

#include <memory>

#include "engine/loop/task.h"
#include "engine/net/socket.h"
#include "engine/smtp/server/server_options.h"

namespace salvo::smtp {

class SmtpServer {
 public:
  explicit SmtpServer(std::shared_ptr<const ServerOptions> options);

  // Replaces the options new sessions start with (config reload); running
  // sessions keep theirs.
  void set_options(std::shared_ptr<const ServerOptions> options) { options_ = std::move(options); }
  const std::string& listener_name() const { return options_->listener_name; }

  Task<void> Serve(Listener listener);
  // Sessions running now on this server.
  int active_sessions() const { return *active_; }

 private:
  std::shared_ptr<const ServerOptions> options_;
  std::shared_ptr<int> active_ = std::make_shared<int>(0);  // shared with the session tasks
};

// One connection, start to end (what Serve spawns; also usable directly).
Task<void> RunSmtpSession(Socket socket, std::shared_ptr<const ServerOptions> options);

}  // namespace salvo::smtp
