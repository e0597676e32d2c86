// RunLimitedSession: one connection of a protocol server (SMTP, POP3, IMAP)
// under its listener's ConnectionLimiter: over the total or per-address
// limit the session only says why (Session::Refuse) and ends; otherwise it
// runs. `active` counts the server's sessions; /metrics counts them per
// daemon and listener (engine/net/connection_metrics.h).
//
// Session must offer: Session(Socket, std::shared_ptr<const Options>),
// Task<void> Run(), Task<void> Refuse(std::string_view), session_id(),
// client(); Options a `connections` (std::shared_ptr<ConnectionLimiter>) and
// a `listener_name`.
#pragma once

#include <memory>
#include <optional>
#include <string_view>

#include "engine/loop/ring.h"
#include "engine/loop/task.h"
#include "engine/net/connection_metrics.h"
#include "engine/net/socket.h"
#include "engine/smtp/server/limits.h"
#include "spdlog/spdlog.h"

namespace salvo::smtp {

template <typename Session, typename Options>
Task<void> RunLimitedSession(Socket socket, std::shared_ptr<const Options> options,
                             std::shared_ptr<int> active, std::string_view daemon,
                             std::string_view refusal) {
  ++*active;
  Ring::ClientSession client;  // no batched wake-ups on this ring while it lasts
  ConnectionSeries metrics = ConnectionMetrics(daemon, options->listener_name);
  metrics.accepted.Add();
  metrics.open.Add(1);
  std::optional<ConnectionLimiter::Slot> slot =
      options->connections ? options->connections->TryAcquire(socket.PeerAddress()) : std::nullopt;
  Session session(std::move(socket), options);
  if (options->connections && !slot) {
    spdlog::info("{} {}: {} refused: too many connections", daemon, session.session_id(),
                 session.client().ToString());
    metrics.refused.Add();
    co_await session.Refuse(refusal);
  } else {
    co_await session.Run();
  }
  metrics.open.Sub(1);
  --*active;
}

}  // namespace salvo::smtp
