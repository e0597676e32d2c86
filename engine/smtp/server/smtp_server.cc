#include "engine/smtp/server/smtp_server.h"

#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "engine/smtp/server/server_session.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp {
namespace {

Task<void> Session(Socket socket, std::shared_ptr<const ServerOptions> options,
                   std::shared_ptr<int> active) {
  ++*active;
  std::optional<ConnectionLimiter::Slot> slot =
      options->connections ? options->connections->TryAcquire(socket.PeerAddress()) : std::nullopt;
  ServerSession session(std::move(socket), options);
  if (options->connections && !slot) {
    spdlog::info("smtpd {}: {} refused: too many connections", session.session_id(),
                 session.client().ToString());
    co_await session.Refuse("too many connections; try again later");
  } else {
    co_await session.Run();
  }
  --*active;
}

}  // namespace

Task<void> RunSmtpSession(Socket socket, std::shared_ptr<const ServerOptions> options) {
  auto active = std::make_shared<int>(0);
  co_await Session(std::move(socket), std::move(options), active);
}

SmtpServer::SmtpServer(std::shared_ptr<const ServerOptions> options)
    : options_(std::move(options)) {}

Task<void> SmtpServer::Serve(Listener listener) {
  Ring* ring = Ring::Current();
  Ring::StopCallback on_stop(*ring, [&listener] { listener.Close(); });
  spdlog::debug("smtpd: listener {} on {}", options_->listener_name, listener.address().ToString());
  while (!ring->stop_requested()) {
    absl::StatusOr<Socket> socket = co_await listener.Accept(Never());
    if (!socket.ok()) {
      if (absl::IsCancelled(socket.status()) || ring->stop_requested()) break;
      // EMFILE and friends: wait a little instead of spinning.
      spdlog::warn("smtpd: accept on {}: {}", listener.address().ToString(),
                   socket.status().ToString());
      co_await SleepFor(std::chrono::milliseconds(100));
      continue;
    }
    if (!ring->gate().Spawn(Session(std::move(*socket), options_, active_))) break;
  }
  // A closed listener holds the ring until its last CQE (Ring::Hold), so
  // nothing leaks when the shard stops right after this.
  listener.Close();
}

}  // namespace salvo::smtp
