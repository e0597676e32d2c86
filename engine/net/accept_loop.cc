#include "engine/net/accept_loop.h"

#include <chrono>
#include <utility>

#include "engine/loop/ops.h"
#include "engine/loop/ring.h"
#include "spdlog/spdlog.h"

namespace salvo {

Task<void> AcceptConnections(Listener listener, std::string daemon, std::string name,
                             absl::AnyInvocable<bool(Socket)> start) {
  Ring* ring = Ring::Current();
  Ring::StopCallback on_stop(*ring, [&listener] { listener.Close(); });
  spdlog::debug("{}: listener {} on {}", daemon, name, listener.address().ToString());
  while (!ring->stop_requested()) {
    absl::StatusOr<Socket> socket = co_await listener.Accept(Never());
    if (!socket.ok()) {
      if (absl::IsCancelled(socket.status()) || ring->stop_requested()) break;
      spdlog::warn("{}: accept on {}: {}", daemon, listener.address().ToString(),
                   socket.status().ToString());
      co_await SleepFor(std::chrono::milliseconds(100));
      continue;
    }
    if (!start(std::move(*socket))) break;
  }
  listener.Close();
}

}  // namespace salvo
