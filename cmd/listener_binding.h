// Binds a configured listener's address on every shard (engine/net's
// Listener::BindShards), with errors that name the listener, as the daemon's
// start-up reports them.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/base/strings.h"
#include "engine/config/config.h"
#include "engine/net/socket.h"
#include "fmt/format.h"

namespace salvo {

inline absl::StatusOr<std::vector<Listener>> BindConfiguredListener(const ListenerConfig& l,
                                                                    int shards) {
  absl::StatusOr<std::vector<Listener>> bound = Listener::BindShards(l.address, shards);
  if (bound.ok()) return bound;
  return absl::Status(bound.status().code(),
                      fmt::format("listener {}: {}", l.name, ToStd(bound.status().message())));
}

}  // namespace salvo
